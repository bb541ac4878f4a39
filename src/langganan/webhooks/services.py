"""Writes for webhooks: endpoints, emitting events into the outbox, retrying a failed delivery.

Emitting is the outbox pattern: :func:`webhook_emit` only inserts rows, in the caller's database
transaction, so an event exists exactly when its cause committed and nothing is sent before the
commit. Sending is :mod:`langganan.webhooks.delivery` (``langganan webhooks deliver``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from langganan.core import settings_cache
from langganan.core.errors import Conflict, InvalidInput, NotFound
from langganan.core.models import Merchant
from langganan.webhooks.models import (
    EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    http_url_validator,
)

SECRET_PREFIX = "whsec_"

ERR_UNKNOWN_EVENT = "unknown webhook event: {event} (known: {known})"
ERR_URL = "the webhook URL must be an http:// or https:// address: {url}"
ERR_PAYLOAD_TYPE = "a webhook payload must be a JSON object (a dict)"
ERR_PAYLOAD_VALUE = "the webhook payload holds a value that cannot be sent as JSON: {detail}"
ERR_ENDPOINT_NOT_FOUND = "no webhook endpoint with this ID: {id}"
ERR_DELIVERY_NOT_FOUND = "no webhook delivery with this ID: {id}"
ERR_RETRY_NOT_FAILED = "only a failed delivery can be retried; delivery {id} is {status}"


def webhook_secret_generate() -> str:
    """A new signing secret: ``whsec_`` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _events_clean(events: Iterable[str] | None) -> list[str]:
    cleaned: list[str] = []
    for event in events or ():
        name = str(event).strip()
        if name not in EVENTS:
            raise InvalidInput(
                ERR_UNKNOWN_EVENT.format(event=name, known=", ".join(EVENTS)), field="events"
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def webhook_endpoint_create(
    *, merchant: Merchant, url: str, events: Iterable[str] | None = None
) -> WebhookEndpoint:
    """Add an endpoint for ``events`` (none: every event) with a new secret.

    The secret is on the returned object (``endpoint.secret``); show it to the user once.
    """
    url = (url or "").strip()
    try:
        http_url_validator(url)
    except ValidationError as exc:
        raise InvalidInput(ERR_URL.format(url=url), field="url") from exc
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            merchant=merchant,
            url=url,
            secret=webhook_secret_generate(),
            events=_events_clean(events),
        )


def _endpoint_get(*, endpoint_id: int, merchant: Merchant | None) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if merchant is not None:
        found = found.filter(merchant=merchant)
    endpoint = found.first()
    if endpoint is None:
        raise NotFound(ERR_ENDPOINT_NOT_FOUND.format(id=endpoint_id))
    return endpoint


def webhook_endpoint_set_active(
    *, endpoint_id: int, is_active: bool, merchant: Merchant | None = None
) -> WebhookEndpoint:
    """Pause or resume an endpoint. A paused endpoint gets no new events, and its pending
    deliveries wait (they are not sent, not failed) until it is resumed."""
    with transaction.atomic():
        endpoint = _endpoint_get(endpoint_id=endpoint_id, merchant=merchant)
        endpoint.is_active = is_active
        endpoint.save(update_fields=["is_active"])
        return endpoint


def webhook_endpoint_remove(*, endpoint_id: int, merchant: Merchant | None = None) -> int:
    """Delete an endpoint with its deliveries; returns how many pending deliveries were dropped.

    ``merchant`` scopes the look-up (another merchant's endpoint is not found); ``None`` is the
    operator's scope (the command line), which reaches every merchant's endpoints.
    """
    with transaction.atomic():
        endpoint = _endpoint_get(endpoint_id=endpoint_id, merchant=merchant)
        dropped = endpoint.deliveries.filter(status=DeliveryStatus.PENDING).count()
        endpoint.delete()
        return dropped


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Promise):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def webhook_payload_jsonable(payload: dict) -> dict:
    """``payload`` as plain JSON values: Decimal → str, date and datetime → ISO 8601, UUID →
    str. Anything else that JSON cannot hold is refused with :class:`InvalidInput`."""
    if not isinstance(payload, dict):
        raise InvalidInput(ERR_PAYLOAD_TYPE, field="payload")
    try:
        return json.loads(json.dumps(payload, default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(ERR_PAYLOAD_VALUE.format(detail=exc), field="payload") from exc


def webhook_emit(*, merchant: Merchant, event: str, payload: dict) -> list[WebhookDelivery]:
    """Queue ``event`` for each of the merchant's active endpoints that subscribe to it.

    The rows are written in the caller's transaction (call this inside the service that causes
    the event): if that transaction rolls back, the event never existed. Nothing is sent here.
    All the deliveries of one emit share one ``event_id``.
    """
    if event not in EVENTS:
        raise InvalidInput(
            ERR_UNKNOWN_EVENT.format(event=event, known=", ".join(EVENTS)), field="event"
        )
    data = webhook_payload_jsonable(payload)
    now = timezone.now()
    event_id = uuid.uuid4()
    endpoints = [
        endpoint
        for endpoint in settings_cache.rows(
            merchant,
            "webhook_endpoints",
            lambda: WebhookEndpoint.objects.filter(merchant=merchant, is_active=True),
        )
        if endpoint.wants(event)
    ]
    if not endpoints:
        return []
    for endpoint in endpoints:
        endpoint.merchant = merchant
    # one INSERT (bulk_create is atomic by itself)
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                merchant=merchant,
                endpoint=endpoint,
                event=event,
                event_id=event_id,
                payload=data,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
    )


def webhook_delivery_retry(
    *, delivery_id: int, merchant: Merchant | None = None, now: datetime | None = None
) -> WebhookDelivery:
    """Put a failed delivery back in the queue, due now, with a fresh set of attempts.

    ``merchant`` scopes the look-up as in :func:`webhook_endpoint_remove`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        found = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id)
        if merchant is not None:
            found = found.filter(merchant=merchant)
        delivery = found.first()
        if delivery is None:
            raise NotFound(ERR_DELIVERY_NOT_FOUND.format(id=delivery_id))
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict(ERR_RETRY_NOT_FAILED.format(id=delivery_id, status=delivery.status))
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        return delivery
