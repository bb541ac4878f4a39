"""The production environment of README "Production settings" makes `check --deploy` clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from langganan.config.env import env_header, env_int

PRODUCTION_ENV = {
    "SECRET_KEY": "",  # filled per run: a long random key, as production must have
    "ALLOWED_HOSTS": "crm.example.id",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.id",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}


def _check_deploy(tmp_path, extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests for their own process only
        and k not in ("DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="langganan.config.settings",
        LANGGANAN_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_the_production_environment_has_no_warnings(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50)}
    result = _check_deploy(tmp_path, env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output
    assert "no issues" in output


def test_check_deploy_without_it_warns_about_each_https_setting(tmp_path):
    result = _check_deploy(tmp_path, {"SECRET_KEY": secrets.token_urlsafe(50)})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in output, output


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("HTTP_X_FORWARDED_PROTO,https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("x-forwarded-ssl=on", ("HTTP_X_FORWARDED_SSL", "on")),
        ("", None),
    ],
)
def test_the_proxy_header_is_read_in_either_form(monkeypatch, raw, expected):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    assert env_header("SECURE_PROXY_SSL_HEADER") == expected


def test_a_proxy_header_without_a_value_is_refused(monkeypatch):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    with pytest.raises(ValueError, match="X-Forwarded-Proto: https"):
        env_header("SECURE_PROXY_SSL_HEADER")


def test_numbers_are_read_with_or_without_underscores(monkeypatch):
    monkeypatch.setenv("SECURE_HSTS_SECONDS", "31_536_000")
    assert env_int("SECURE_HSTS_SECONDS", 0) == 31536000
    monkeypatch.delenv("SECURE_HSTS_SECONDS")
    assert env_int("SECURE_HSTS_SECONDS", 7) == 7
