"""Idempotency of the POS API's writes (as in Stripe and the IETF Idempotency-Key draft).

``POST /transactions`` and ``POST /transactions/{id}/refunds`` need an ``Idempotency-Key``
header (400 without it); each sale of ``POST /transactions/batch`` carries its own key. Keys are
scoped per merchant (and per operation: a sale's key and a refund's key never collide).

- **Same key, same request** → the stored response is replayed: the same status and the same
  body, with the header ``Idempotent-Replayed: true``; nothing is recorded again.
- **Same key, different request** → 422 ``idempotency_key_reused``.
- **Same key while the first request is still running** → 409 ``idempotency_key_in_use`` on
  PostgreSQL, where the first request holds a transaction-level advisory lock on a hash of
  (merchant, operation, key) from its first statement to its commit; the retry tries that lock
  without waiting. SQLite runs one writer at a time, so there the retry waits for the first and
  then replays it.
- The key's record (:class:`~langganan.loyalty.models.CheckoutRecord`) is written in the same
  database transaction as the sale or refund: both exist or neither. A request that is refused
  (4xx) records nothing, so the same key can be sent again once the problem is fixed.
- **Retention**: records are kept until purged, and never purged younger than
  :data:`MIN_RETENTION` (72 hours): ``langganan apikey purge-idempotency --older-than-hours N``
  (run it from cron, e.g. weekly with N = 168).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from langganan.core.errors import InvalidInput
from langganan.loyalty.models import CheckoutRecord

from .errors import (
    CODE_IDEMPOTENCY_KEY_INVALID,
    CODE_IDEMPOTENCY_KEY_MISSING,
    MSG_KEY_INVALID,
    MSG_KEY_MISSING,
    ApiProblem,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: What a key may be: 1 to 255 printable ASCII characters (no space), as the OpenAPI document
#: says (:func:`header_parameter`) and :func:`idempotency_key` checks.
KEY_PATTERN = r"^[\x21-\x7e]+$"


def header_parameter(description: str) -> dict:
    """The ``Idempotency-Key`` header of an operation, for its ``openapi_extra``."""
    return {
        "parameters": [
            {
                "name": HEADER,
                "in": "header",
                "required": True,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": KEY_PATTERN,
                },
                "description": description,
            }
        ]
    }


MIN_RETENTION = timedelta(hours=72)
ERR_RETENTION = "idempotency keys are kept at least 72 hours"


def idempotency_key(request: HttpRequest) -> str:
    """The request's Idempotency-Key header; a 400 problem when it is missing or malformed."""
    raw = request.headers.get(HEADER)
    if raw is None or not raw.strip():
        raise ApiProblem(400, CODE_IDEMPOTENCY_KEY_MISSING, MSG_KEY_MISSING, field=HEADER)
    key = raw  # as sent: a key with spaces around it is not the key the document allows
    if len(key) > MAX_KEY_LENGTH or not all(0x21 <= ord(ch) <= 0x7E for ch in key):
        raise ApiProblem(400, CODE_IDEMPOTENCY_KEY_INVALID, MSG_KEY_INVALID, field=HEADER)
    return key


def split_replayed(result: dict) -> tuple[dict, bool]:
    """The stored response without the service's ``replayed`` flag, and the flag (which goes
    into the :data:`REPLAYED_HEADER` header, so a replayed body is identical to the first)."""
    body = dict(result)
    replayed = bool(body.pop("replayed", False))
    return body, replayed


@transaction.atomic
def idempotency_records_purge(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete idempotency records older than ``older_than`` (at least 72 hours); returns how
    many. A key sent again after its record was purged is treated as a new request."""
    if older_than < MIN_RETENTION:
        raise InvalidInput(ERR_RETENTION, field="older_than")
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = CheckoutRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
