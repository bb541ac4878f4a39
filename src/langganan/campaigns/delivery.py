"""Sending the campaign outbox: claim one due message, check it may still go, send, record.

How a pass works (:func:`outbox_deliver_due`), one message at a time:

1. **Claim**, in a short transaction that commits *before* the provider is called: the oldest due
   message (queued, ``next_attempt_at`` ≤ now, not a manual WhatsApp one) is selected
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second worker skips it instead of waiting (on
   SQLite the IMMEDIATE write lock taken at BEGIN serialises the claims). It becomes ``sending``
   with ``claimed_at`` set and ``attempts + 1``.
2. **Check**, outside any transaction: consent for the channel is read again (an opt-out since
   the message was queued makes it ``suppressed``, unsent); inside the merchant's quiet hours it
   goes back to ``queued`` until they end, the attempt not counted; without an active channel
   account for the merchant it is ``failed``.
3. **Send** through the channel's adapter (:func:`.channels.adapter_for`), outside any transaction.
4. **Record**, only if the row is still the one claimed (same ``claimed_at`` and attempt count):
   accepted → ``sent`` with the provider's id; :class:`~.channels.SendError` with
   ``retryable=True`` → ``queued`` again after :func:`langganan.webhooks.delivery.retry_delay`
   (1 min, 5 min, 30 min, 2 h, 6 h, each with up to 10 % jitter), ``failed`` after
   :data:`MAX_ATTEMPTS`; not retryable → ``failed``.

Crash safety — the contract
---------------------------
Killing a worker at any instant loses no message and sends none twice:

- **Exactly once for every message not in flight.** A message still ``queued`` was never handed
  to a provider; after a restart it is claimed and sent like any other, once. A kill during the
  claim transaction rolls it back, so the message stays ``queued``.
- **At most once for the message in flight** (claimed, committed ``sending``, possibly handed to
  the provider, result not recorded). Nobody can tell whether the provider got it, so it is never
  resent on its own: once its claim is older than :data:`LEASE`, :func:`outbox_recover_stale`
  (run when the worker starts and every few minutes) marks it ``unknown``, visible in the admin
  and the campaign report. Staff check with the provider and send it again if it was not received
  (:func:`message_requeue`, the admin's "send again" action). A worker claims one message at a
  time, so at most one message per killed worker ends up ``unknown``.
- An adapter raising anything other than :class:`~.channels.SendError` is treated the same way
  (``unknown``): the call may have reached the provider.
- A worker whose claim outlived the lease and was marked ``unknown`` still records the outcome it
  gets (``sent``, …): the fence is the claim (``claimed_at`` and attempts), not the status.

The lease must be longer than the slowest provider call (adapters time out in seconds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from langganan.core.errors import Conflict, NotFound
from langganan.core.models import Merchant
from langganan.webhooks.delivery import retry_delay

from .channels import ChannelAdapter, Outgoing, SendError, adapter_for
from .guardrails import consented, in_quiet_hours, policy_for, quiet_hours_end
from .links import opt_out_url
from .models import CampaignStatus, ChannelAccount, Message, MessageStatus, MessagingPolicy

logger = logging.getLogger(__name__)

#: Attempts before a message that keeps failing with a retryable error is given up (failed).
MAX_ATTEMPTS = 6
#: How long a claim may stay ``sending`` before it counts as interrupted (see the contract).
LEASE = timedelta(minutes=10)
MAX_ERROR_CHARS = 500

ERR_CONSENT_WITHDRAWN = "consent withdrawn"
ERR_NO_ACCOUNT = "no active {channel} channel account for this merchant"
ERR_ACCOUNT_UNUSABLE = "the {channel} channel account cannot be used: {error}"
ERR_GAVE_UP = "{error} (gave up after {attempts} attempts)"
ERR_INTERRUPTED = (
    "the worker stopped while sending it: check with the provider whether it arrived "
    "before sending it again"
)
ERR_UNEXPECTED = "sending broke off unexpectedly, it may have gone out: {error}"
ERR_MESSAGE_NOT_FOUND = "no message with this ID: {id}"
ERR_REQUEUE_STATUS = (
    "only a failed or interrupted (unknown) message can be sent again; message {id} is {status}"
)

#: Statuses staff may send again after checking.
REQUEUEABLE = (MessageStatus.FAILED, MessageStatus.UNKNOWN)


@dataclass
class DeliveryReport:
    """What one pass did with the messages it claimed."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    suppressed: int = 0
    deferred: int = 0  # quiet hours: back in the queue until they end
    unknown: int = 0  # the adapter broke off unexpectedly: may have gone out

    @property
    def handled(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def add(self, other: DeliveryReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


@dataclass(frozen=True)
class _Claim:
    message: Message
    claimed_at: datetime
    attempts: int


def _outgoing(message: Message) -> Outgoing:
    return Outgoing(
        message_id=message.pk,
        to=message.to,
        body=message.body,
        subject=message.subject,
        language=message.language,
        template_name=message.template_name,
        template_params=[str(p) for p in message.template_params or []],
        opt_out_url=opt_out_url(customer_id=message.customer_id, channel=message.channel),
    )


def _claim(now: datetime) -> _Claim | None:
    """Claim the oldest due message and commit the claim; None when nothing is due."""
    with transaction.atomic():
        due = (
            Message.objects.select_related("customer", "merchant")
            .filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now, manual=False)
            # a paused campaign holds its queued messages until it is resumed
            .exclude(campaign__status=CampaignStatus.PAUSED)
            .order_by("next_attempt_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        message = due.first()
        if message is None:
            return None
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        message.status, message.claimed_at = MessageStatus.SENDING, now
        message.attempts += 1
        return _Claim(message=message, claimed_at=now, attempts=message.attempts)


def _record(claim: _Claim, **changes: object) -> bool:
    """Store the outcome of the claimed attempt; False when the claim was lost (staff sent the
    message again meanwhile)."""
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=claim.message.pk,
            claimed_at=claim.claimed_at,
            attempts=claim.attempts,
            status__in=[MessageStatus.SENDING, MessageStatus.UNKNOWN],
        ).update(**changes)
    if not updated:
        logger.warning("message %s: claim lost, outcome %s not recorded", claim.message.pk, changes)
    return bool(updated)


class _Pass:
    """Per-pass caches: the policy and the channel adapter of each merchant."""

    def __init__(self) -> None:
        self.policies: dict[int, MessagingPolicy] = {}
        self.adapters: dict[tuple[int, str], ChannelAdapter | str] = {}

    def policy(self, merchant: Merchant) -> MessagingPolicy:
        if merchant.pk not in self.policies:
            self.policies[merchant.pk] = policy_for(merchant)
        return self.policies[merchant.pk]

    def adapter(self, merchant_id: int, channel: str) -> ChannelAdapter | str:
        """The adapter, or why there is none (an error message)."""
        key = (merchant_id, channel)
        if key not in self.adapters:
            account = ChannelAccount.objects.filter(
                merchant_id=merchant_id, channel=channel, is_active=True
            ).first()
            if account is None:
                self.adapters[key] = ERR_NO_ACCOUNT.format(channel=channel)
            else:
                try:
                    self.adapters[key] = adapter_for(account)
                except Exception as exc:  # noqa: BLE001 (bad settings: nothing was sent)
                    self.adapters[key] = ERR_ACCOUNT_UNUSABLE.format(
                        channel=channel, error=f"{type(exc).__name__}: {exc}"
                    )
        return self.adapters[key]


def _deliver(claim: _Claim, cache: _Pass, now: datetime, report: DeliveryReport) -> None:
    message = claim.message
    if not consented(customer=message.customer, channel=message.channel):
        if _record(claim, status=MessageStatus.SUPPRESSED, last_error=ERR_CONSENT_WITHDRAWN):
            report.suppressed += 1
        return
    policy = cache.policy(message.merchant)
    if in_quiet_hours(policy, now):
        if _record(
            claim,
            status=MessageStatus.QUEUED,
            attempts=claim.attempts - 1,
            next_attempt_at=quiet_hours_end(policy, now),
            claimed_at=None,
        ):
            report.deferred += 1
        return
    adapter = cache.adapter(message.merchant_id, message.channel)
    if isinstance(adapter, str):
        if _record(claim, status=MessageStatus.FAILED, last_error=adapter[:MAX_ERROR_CHARS]):
            report.failed += 1
        return

    try:
        result = adapter.send(_outgoing(message))
    except SendError as exc:
        error = str(exc)[:MAX_ERROR_CHARS]
        delay = retry_delay(attempts=claim.attempts) if claim.attempts < MAX_ATTEMPTS else None
        if exc.retryable and delay is not None:
            if _record(
                claim, status=MessageStatus.QUEUED, next_attempt_at=now + delay, last_error=error
            ):
                report.retried += 1
            return
        if exc.retryable:
            error = ERR_GAVE_UP.format(error=exc, attempts=claim.attempts)[:MAX_ERROR_CHARS]
        if _record(claim, status=MessageStatus.FAILED, last_error=error):
            report.failed += 1
        return
    except Exception as exc:  # noqa: BLE001 (a broken adapter: the provider may have it)
        logger.exception("message %s: adapter %r broke off", message.pk, adapter)
        error = ERR_UNEXPECTED.format(error=f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]
        if _record(claim, status=MessageStatus.UNKNOWN, last_error=error):
            report.unknown += 1
        return
    if _record(
        claim,
        status=MessageStatus.SENT,
        sent_at=now,
        provider_id=result.provider_id[:128],
        last_error="",
    ):
        report.sent += 1


def outbox_deliver_due(
    *, now: datetime | None = None, limit: int = 100, worker_id: str = ""
) -> DeliveryReport:
    """Send up to ``limit`` due messages, one after the other; safe to run in several processes
    at once. ``now`` fixes the clock (tests); ``worker_id`` names this worker in the logs."""

    def clock() -> datetime:
        return now if now is not None else timezone.now()

    report = DeliveryReport()
    cache = _Pass()
    for _ in range(limit):
        claim = _claim(clock())
        if claim is None:
            break
        _deliver(claim, cache, clock(), report)
        logger.info(
            "%s: message %s (%s, attempt %s) done; pass so far: %s",
            worker_id or "worker",
            claim.message.pk,
            claim.message.channel,
            claim.attempts,
            report,
        )
    return report


def outbox_recover_stale(*, now: datetime | None = None, lease: timedelta = LEASE) -> int:
    """Mark messages claimed longer than ``lease`` ago and still ``sending`` as ``unknown``
    (their worker stopped mid-send); returns how many. They are never resent on their own."""
    now = now or timezone.now()
    with transaction.atomic():
        recovered = Message.objects.filter(
            status=MessageStatus.SENDING, claimed_at__lt=now - lease
        ).update(status=MessageStatus.UNKNOWN, last_error=ERR_INTERRUPTED)
    if recovered:
        logger.warning("%s interrupted messages marked unknown", recovered)
    return recovered


def message_requeue(
    *, message_id: int, merchant: Merchant | None = None, now: datetime | None = None
) -> Message:
    """Send a failed or interrupted (``unknown``) message again, due now, with a fresh set of
    attempts. For ``unknown`` ones, staff first check with the provider that it did not arrive.
    ``merchant`` scopes the look-up (another merchant's message is not found)."""
    now = now or timezone.now()
    with transaction.atomic():
        found = Message.objects.select_for_update().filter(pk=message_id)
        if merchant is not None:
            found = found.filter(merchant=merchant)
        message = found.first()
        if message is None:
            raise NotFound(ERR_MESSAGE_NOT_FOUND.format(id=message_id))
        if message.status not in REQUEUEABLE:
            raise Conflict(ERR_REQUEUE_STATUS.format(id=message_id, status=message.status))
        message.status = MessageStatus.QUEUED
        message.attempts = 0
        message.next_attempt_at = now
        message.claimed_at = None
        message.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at"])
        return message
