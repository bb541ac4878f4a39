"""Small helpers to read typed values from the environment."""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in _TRUE


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value.strip().replace("_", ""))


def env_header(name: str) -> tuple[str, str] | None:
    """A request header and its value, ``X-Forwarded-Proto: https`` (or Django's own form
    ``HTTP_X_FORWARDED_PROTO,https``), as Django's ``request.META`` key and the value."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    for separator in (":", ",", "="):
        header, found, expected = value.partition(separator)
        if found:
            break
    else:
        raise ValueError(f"{name} must look like 'X-Forwarded-Proto: https'")
    key = header.strip().upper().replace("-", "_")
    if not key.startswith("HTTP_"):
        key = "HTTP_" + key
    return key, expected.strip()
