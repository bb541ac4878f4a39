"""Sending the outbox: due deliveries are POSTed, signed, and retried with backoff.

How a pass works (:func:`webhooks_deliver_due`), one delivery at a time:

1. **Claim**, in a short transaction: the oldest due delivery (pending, ``next_attempt_at`` ≤
   now, endpoint active) is selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second
   worker skips it instead of waiting (on SQLite the IMMEDIATE write lock taken at BEGIN
   serialises the claims). The claim counts the attempt (``attempts + 1``) and pushes
   ``next_attempt_at`` a lease (:data:`LEASE`) ahead, then commits: other workers no longer see
   it as due, and no database lock is held during the network call.
2. **Send**, outside any transaction: a JSON POST with a short timeout (:data:`TIMEOUT_S`),
   signed as described in :mod:`langganan.webhooks.signing`. Redirects are not followed.
3. **Record**, in a second short transaction, only if the row is still the one claimed (same
   status and attempt count, which fences off a worker whose lease ran out): a 2xx marks it
   delivered; anything else (another status, a timeout, a connection error) records the status
   code and error and schedules the next attempt after :data:`RETRY_DELAYS` (plus up to
   :data:`JITTER` of random extra, so retries from one outage spread out), or marks it failed
   after :data:`MAX_ATTEMPTS` attempts.

If a worker dies between claim and record, the lease runs out and another worker tries again;
that is why delivery is *at least once* and receivers de-duplicate on ``X-Langganan-Delivery``.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from langganan.webhooks.models import DeliveryStatus, WebhookDelivery
from langganan.webhooks.signing import webhook_signature

logger = logging.getLogger(__name__)

TIMEOUT_S = 5
#: Wait before attempt 2, 3, …; after the last one fails the delivery is failed.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A retry waits its delay plus up to this share of it more (never less than the delay).
JITTER = 0.1
#: How long a claimed delivery stays invisible to other workers while it is being sent.
LEASE = timedelta(minutes=5)
MAX_ERROR_CHARS = 500
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Langganan-Webhooks/1"

ERR_LEASE_EXPIRED = "the worker sending the last attempt stopped before recording its result"
ERR_REDIRECT = "HTTP {code}: redirects are not followed; register the final URL"
ERR_SCHEME = "the URL is not http:// or https://"

_random = random.SystemRandom()


@dataclass
class DeliveryReport:
    """What one pass did: deliveries attempted, and how they ended."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"attempted={self.attempted} delivered={self.delivered} "
            f"retrying={self.retrying} failed={self.failed}"
        )


def retry_delay(*, attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """The wait before the next attempt after ``attempts`` attempts failed, with jitter;
    ``None`` when no attempt is left."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[max(attempts, 1) - 1]
    return base * (1 + JITTER * (rng or _random).random())


def webhook_request_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body POSTed for a delivery (the same bytes on every attempt)."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "merchant": delivery.merchant.slug,
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx surfaces as an HTTPError: a failed attempt


_opener = urllib.request.build_opener(_NoRedirect)


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery; (status code or None, error text or "" on a 2xx)."""
    url = delivery.endpoint.url
    if urlsplit(url).scheme not in ("http", "https"):
        return None, ERR_SCHEME
    body = webhook_request_body(delivery)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Langganan-Event": delivery.event,
            "X-Langganan-Delivery": str(delivery.event_id),
            "X-Langganan-Timestamp": timestamp,
            "X-Langganan-Signature": webhook_signature(
                secret=delivery.endpoint.secret, timestamp=timestamp, body=body
            ),
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_S) as response:
            response.read(MAX_RESPONSE_BYTES)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        with exc:
            if 300 <= exc.code < 400:
                return exc.code, ERR_REDIRECT.format(code=exc.code)
            try:
                text = exc.read(MAX_ERROR_CHARS).decode("utf-8", "replace").strip()
            except Exception:  # noqa: BLE001 (the status code is what matters)
                text = ""
            return exc.code, f"HTTP {exc.code}: {text}" if text else f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, f"{type(exc.reason).__name__}: {exc.reason}"
    except Exception as exc:  # noqa: BLE001 (timeouts, resets, bad responses: a failed attempt)
        return None, f"{type(exc).__name__}: {exc}"


def _claim(now: datetime) -> tuple[WebhookDelivery | None, bool]:
    """(the claimed delivery or None, whether anything due was found)."""
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_related("endpoint", "merchant")
            .filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .order_by("next_attempt_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        delivery = due.first()
        if delivery is None:
            return None, False
        if delivery.attempts >= MAX_ATTEMPTS:  # its last attempt's lease ran out
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED, last_error=ERR_LEASE_EXPIRED
            )
            return None, True
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at
        )
        return delivery, True


def _record(
    delivery: WebhookDelivery, *, status_code: int | None, error: str, now: datetime
) -> str:
    """Store the outcome of the claimed attempt; returns the delivery's resulting status,
    or "" when the claim was lost (another worker took over after the lease ran out)."""
    ours = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    )
    changes: dict[str, object] = {"last_status_code": status_code}
    if not error and status_code is not None and 200 <= status_code < 300:
        status = DeliveryStatus.DELIVERED
        changes.update(delivered_at=now, last_error="")
    else:
        delay = retry_delay(attempts=delivery.attempts)
        status = DeliveryStatus.PENDING if delay else DeliveryStatus.FAILED
        changes.update(
            next_attempt_at=now + delay if delay else now, last_error=error[:MAX_ERROR_CHARS]
        )
    with transaction.atomic():
        updated = ours.update(status=status, **changes)
    return str(status) if updated else ""


def webhooks_deliver_due(*, now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` due deliveries, one after the other; safe to run in several
    processes at once. ``now`` fixes the clock for scheduling (tests); the signature timestamp
    is always the real time of sending."""

    def clock() -> datetime:
        return now if now is not None else timezone.now()

    report = DeliveryReport()
    while report.attempted < limit:
        delivery, found = _claim(clock())
        if not found:
            break
        report.attempted += 1
        if delivery is None:
            report.failed += 1
            continue
        status_code, error = _send(delivery)
        outcome = _record(delivery, status_code=status_code, error=error, now=clock())
        if outcome == DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif outcome == DeliveryStatus.FAILED:
            report.failed += 1
        elif outcome == DeliveryStatus.PENDING:
            report.retrying += 1
        logger.info(
            "webhook %s %s → %s: %s %s",
            delivery.event,
            delivery.event_id,
            delivery.endpoint.url,
            status_code,
            outcome or "claim lost",
        )
    return report
