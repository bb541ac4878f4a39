"""A JSON POST to a provider, with the answer sorted into accepted or :class:`SendError`.

Shared by the HTTP adapters (WhatsApp Cloud API, SMS gateway). Only the standard library is
used, as in :mod:`langganan.webhooks.delivery`: redirects are not followed (a 3xx is a refusal,
so a message is never re-sent somewhere the account did not name), answers are read up to a
limit, and the request has a short timeout.

How failures are sorted: no answer (refused connection, timeout, reset) and HTTP 429 or 5xx may
succeed later (``retryable=True``); any other 3xx/4xx will not (``retryable=False``). An adapter
may look at the provider's own error codes to refine this.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .base import SendError

DEFAULT_TIMEOUT_S = 10
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_CHARS = 300
USER_AGENT = "Langganan-Campaigns/1"

ERR_SCHEME = "the provider URL is not http:// or https://: {url}"
ERR_UNREACHABLE = "the provider could not be reached: {error}"
ERR_REDIRECT = "HTTP {code}: the provider redirected; redirects are not followed"


@dataclass(frozen=True)
class HttpAnswer:
    """A provider's answer: the status code, the body parsed as JSON (None when it is not
    JSON) and the start of the body as text (for error messages)."""

    status: int
    data: Any
    text: str

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx surfaces as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def _answer(status: int, raw: bytes) -> HttpAnswer:
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    return HttpAnswer(status=status, data=data, text=text.strip()[:MAX_ERROR_CHARS])


def post_json(
    url: str, payload: dict, *, headers: dict[str, str], timeout: float = DEFAULT_TIMEOUT_S
) -> HttpAnswer:
    """POST ``payload`` as JSON; the answer for any HTTP status (2xx to 5xx).

    Raises :class:`SendError` (retryable) when no HTTP answer came back, and (not retryable)
    for a URL that is not http(s).
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise SendError(ERR_SCHEME.format(url=url), retryable=False)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return _answer(response.status, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            if 300 <= exc.code < 400:
                raise SendError(ERR_REDIRECT.format(code=exc.code), retryable=False) from exc
            try:
                raw = exc.read(MAX_RESPONSE_BYTES)
            except Exception:  # noqa: BLE001 (the status code is what matters)
                raw = b""
            return _answer(exc.code, raw)
    except urllib.error.URLError as exc:
        error = f"{type(exc.reason).__name__}: {exc.reason}"
        raise SendError(ERR_UNREACHABLE.format(error=error), retryable=True) from exc
    except Exception as exc:  # noqa: BLE001 (timeouts, resets, broken answers: try again)
        error = f"{type(exc).__name__}: {exc}"
        raise SendError(ERR_UNREACHABLE.format(error=error), retryable=True) from exc


def timeout_from(settings: dict) -> float:
    """The account's ``timeout`` (seconds) or the default."""
    try:
        value = float(settings.get("timeout") or DEFAULT_TIMEOUT_S)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S
