"""The audit log: one call, :func:`record`, from every place that touches personal data.

Who viewed a customer page, searched, exported, previewed a message with a real customer,
changed consent, a tab limit or a profile, or erased a person. Events are append-only (see
:mod:`langganan.privacy.models`) and kept for ``LANGGANAN_AUDIT_RETENTION_DAYS`` (default 730
days); the nightly job ``privacy.audit_prune`` removes older ones.

An event never stores personal values: a search text becomes a keyed digest (``query_digest``:
HMAC-SHA-256 with the secret key of the normalised text, a phone in any form → E.164), so the
owner can still ask "who searched for 0812-3456-7890?" on the audit page, and erasing that
person never has to change an append-only row.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from langganan.core.phones import normalize_phone
from langganan.privacy.models import AuditAction, AuditEvent, AuditPrune

DEFAULT_RETENTION_DAYS = 730
CLI_ACTOR = "CLI"


def retention_days() -> int:
    """How long audit events are kept (``LANGGANAN_AUDIT_RETENTION_DAYS``; at least 1 day)."""
    value = getattr(settings, "LANGGANAN_AUDIT_RETENTION_DAYS", None)
    if value is None:
        value = os.environ.get("LANGGANAN_AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS
    return max(days, 1)


def query_digest(text: str) -> str:
    """A keyed digest of a search text: the same person's phone in any form gives one value."""
    text = (text or "").strip()
    try:
        phone = normalize_phone(text)
    except ValueError:
        phone = None
    normal = phone or " ".join(text.casefold().split())
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"audit-query:" + normal.encode(), hashlib.sha256).hexdigest()[:32]


def _client_ip(request) -> str | None:
    value = (request.META.get("REMOTE_ADDR") or "").strip()
    return value or None


def _plain(value):
    """A JSON-safe value (dates as ISO text, decimals and others as text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record(
    request_or_none, merchant, action: str, obj=None, *, actor: str = "", user=None, **detail
):
    """Append one audit event.

    ``request_or_none``: the dashboard request (its user and IP are kept), or None for the
    command line and background work (``user`` when a service knows who acted, else ``actor``
    names it; "CLI" by default). ``obj``: the model
    instance acted on (kept as ``app.model`` and its id). ``detail``: small facts about the
    event, never personal values; a ``query`` is replaced by its :func:`query_digest`.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    ip = None
    if request_or_none is not None:
        ip = _client_ip(request_or_none)
        candidate = getattr(request_or_none, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
            actor = actor or candidate.get_username()
    elif user is not None:
        actor = actor or user.get_username()
    elif not actor:
        actor = CLI_ACTOR
    if "query" in detail:
        query = detail.pop("query")
        detail["query_digest"] = query_digest(query)
        detail["query_length"] = len(query or "")
    object_type = object_id = ""
    if isinstance(obj, models.Model):
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
    return AuditEvent.objects.create(
        merchant_id=merchant.pk,
        user=user,
        actor=actor[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=_plain(detail),
        ip=ip,
    )


def audit_prune(*, merchant, now: datetime | None = None, days: int | None = None) -> int:
    """Delete the merchant's events older than the retention period (the one allowed delete);
    the pruning itself is recorded (:class:`AuditPrune`)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days or retention_days())
    deleted = AuditEvent.objects.filter(merchant=merchant, at__lt=cutoff)._prune()
    if deleted:
        AuditPrune.objects.create(merchant=merchant, cutoff=cutoff, deleted=deleted, at=now)
    return deleted
