"""The signature on every webhook request, and its check for receivers.

The scheme follows Stripe's. Each request carries::

    X-Langganan-Timestamp: 1767225600            (Unix time in seconds when it was sent)
    X-Langganan-Signature: v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

where the ``v1`` value is the lower-case hex HMAC-SHA256, keyed with the endpoint's secret
(the whole string, UTF-8), of the signed payload::

    <timestamp> + "." + <the raw request body, byte for byte>

A receiver recomputes the HMAC over the raw body (before any JSON parsing), compares it in
constant time, and rejects a timestamp more than a few minutes from its own clock, which stops
a captured request from being replayed later. The header may hold several comma-separated
``v1=`` values (e.g. while a secret is being rotated); one match is enough. Deliveries are
at-least-once: a receiver de-duplicates on ``X-Langganan-Delivery`` (the event id).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300


def webhook_signature(*, secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Langganan-Signature`` header value for this body sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def webhook_signature_verify(
    *,
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` (the header value) signs ``body`` at ``timestamp`` with ``secret``,
    and ``timestamp`` is within ``tolerance_s`` seconds of ``now`` (default: the clock)."""
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    expected = webhook_signature(secret=secret, timestamp=sent_at, body=body).encode()
    found = False
    for part in (signature or "").split(","):
        version, _, value = part.strip().partition("=")
        if version == SIGNATURE_VERSION and value:
            candidate = f"{version}={value.strip().lower()}".encode()
            # no early exit: every candidate is compared in constant time
            found = hmac.compare_digest(candidate, expected) or found
    return found
