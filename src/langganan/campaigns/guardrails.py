"""Who may be messaged, and when: consent per channel, quiet hours and the frequency cap.

- **Consent** is the latest :class:`~langganan.customers.models.ConsentEvent` for the channel; a
  customer never asked has not consented (UU PDP 27/2022: consent must be given, not presumed).
  It is checked when a message is queued *and again when it is sent*, so an opt-out between the
  two takes effect at once.
- **Quiet hours** (default 21:00–08:00 in the merchant's time zone): nothing is sent inside them;
  a message due then waits until they end.
- **Frequency cap** (default 2 messages per 7 days per customer, over every campaign and
  channel): counted over messages sent, or queued to be sent, in the window.
- **Open complaint**: a customer whose complaint is still new or being handled gets no
  promotion until it is resolved (:func:`open_complaint_ids`). A service recovery offer or a
  reply about the complaint is not a campaign and is not held back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.db.models import Count, Q

from langganan.core.models import Merchant
from langganan.customers.models import ConsentEvent, Customer
from langganan.loyalty.members import merchant_zone

from .models import Message, MessageStatus, MessagingPolicy

#: Statuses that count against the frequency cap: sent, or about to be.
CAPPED_STATUSES = [
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.UNKNOWN,
]


def policy_for(merchant: Merchant) -> MessagingPolicy:
    """The merchant's policy (the defaults when none was saved; not written)."""
    policy = MessagingPolicy.objects.filter(merchant=merchant).first()
    return policy or MessagingPolicy(merchant=merchant)


def consented(*, customer: Customer, channel: str) -> bool:
    """Whether the customer's latest consent event for ``channel`` is a grant."""
    latest = (
        ConsentEvent.objects.filter(customer=customer, channel=channel)
        .order_by("-occurred_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    return bool(latest)


def consented_ids(*, merchant: Merchant, channel: str, customer_ids: Iterable[int]) -> set[int]:
    """Of ``customer_ids``, those whose latest consent event for ``channel`` is a grant."""
    wanted = set(customer_ids)
    if not wanted:
        return set()
    latest: dict[int, bool] = {}
    rows = (
        ConsentEvent.objects.filter(merchant=merchant, channel=channel)
        .order_by("customer_id", "occurred_at", "id")
        .values_list("customer_id", "granted")
    )
    for customer_id, granted in rows.iterator(chunk_size=20_000):
        latest[customer_id] = granted
    return {cid for cid in wanted if latest.get(cid)}


def in_quiet_hours(policy: MessagingPolicy, at: datetime) -> bool:
    """Whether ``at`` falls inside the quiet hours (local time of the merchant)."""
    start, end = policy.quiet_start_hour, policy.quiet_end_hour
    if start == end:
        return False
    hour = at.astimezone(merchant_zone(policy.merchant)).hour
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def quiet_hours_end(policy: MessagingPolicy, at: datetime) -> datetime:
    """The first moment at or after ``at`` outside the quiet hours."""
    if not in_quiet_hours(policy, at):
        return at
    zone = merchant_zone(policy.merchant)
    local = at.astimezone(zone)
    end = datetime.combine(local.date(), time(policy.quiet_end_hour), tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), time(policy.quiet_end_hour))
        end = end.replace(tzinfo=zone)
    return end


def capped_ids(*, policy: MessagingPolicy, customer_ids: Iterable[int], now: datetime) -> set[int]:
    """Of ``customer_ids``, those who already had ``cap_messages`` messages in the window."""
    wanted = list(set(customer_ids))
    if not wanted or policy.cap_messages == 0:
        return set(wanted) if policy.cap_messages == 0 else set()
    since = now - timedelta(days=policy.cap_days)
    capped: set[int] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        rows = (
            Message.objects.filter(
                merchant_id=policy.merchant_id,
                customer_id__in=chunk,
                status__in=CAPPED_STATUSES,
            )
            .filter(Q(sent_at__gte=since) | Q(sent_at__isnull=True, created_at__gte=since))
            .values("customer_id")
            .annotate(n=Count("id"))
            .filter(n__gte=policy.cap_messages)
            .values_list("customer_id", flat=True)
        )
        capped.update(rows)
    return capped


def open_complaint_ids(*, merchant: Merchant, customer_ids: Iterable[int]) -> set[int]:
    """Of ``customer_ids``, those with a complaint still open (left out of promotions)."""
    from langganan.care.selectors import open_complaint_customer_ids

    return open_complaint_customer_ids(merchant=merchant, customer_ids=customer_ids)
