"""Who is due for a campaign now, and for which occasion, by campaign kind.

Each function returns :class:`Due` rows: a customer, the *occasion* (what makes this message
different from the last one of the same campaign: the year of a birthday, the predicted purchase
date of a reminder …) and the offer details the message mentions. The caller intersects them with
the campaign's audience and drops the (customer, occasion) pairs already assigned, so running a
trigger twice never messages anyone twice.

=============== ================================================== ==========================
kind            due when                                           occasion
=============== ================================================== ==========================
broadcast       ``send_at`` has come (or is empty): the audience   ``""`` (once)
welcome         enrolled as a member since the campaign started    ``""`` (once)
birthday        birthday today or in the next ``days_before`` days the birthday's year
holiday         the holiday is today or ``days_before`` days ahead the holiday's date
reminder        the predicted next purchase date has come (at most the predicted date
                7 days ago) and the customer is not lapsed
winback         the lifecycle stage is lapsed, the last purchase at    the last purchase date
                most a year ago (longer gone is lost, not lapsing)
points_expiry   points expire within ``days_before`` (default 7)   the first expiry date
tier_upgrade    moved up a tier since the campaign started (30     the tier change
                days at most)
=============== ================================================== ==========================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import F

from langganan.loyalty.members import merchant_zone

from .audiences import audience_queryset
from .holidays_calendar import next_holiday
from .models import Campaign, CampaignKind

REMINDER_STALE_DAYS = 7
WINBACK_MAX_IDLE_DAYS = 365
TIER_UPGRADE_DAYS = 30
DEFAULT_EXPIRY_NOTICE_DAYS = 7


@dataclass(frozen=True)
class Due:
    customer_id: int
    occasion: str = ""
    expiring_points: int | None = None
    expiry_date: date | None = None
    tier: str = ""


def _local_today(campaign: Campaign, now: datetime) -> date:
    return now.astimezone(merchant_zone(campaign.merchant)).date()


def _birthday_in(year: int, birth: date) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a common year: greeted on 1 March
        return date(year, 3, 1)


def due_broadcast(campaign: Campaign, now: datetime) -> list[Due]:
    if campaign.send_at is not None and campaign.send_at > now:
        return []
    return [Due(cid) for cid in _audience(campaign, now).values_list("id", flat=True)]


def due_welcome(campaign: Campaign, now: datetime) -> list[Due]:
    from langganan.loyalty.models import Member

    since = campaign.started_at or now
    ids = Member.objects.filter(
        merchant=campaign.merchant, enrolled_at__gte=since, enrolled_at__lte=now
    ).values_list("customer_id", flat=True)
    return [Due(cid) for cid in ids]


def due_birthday(campaign: Campaign, now: datetime) -> list[Due]:
    today = _local_today(campaign, now)
    window = campaign.days_before
    rows = (
        _audience(campaign, now, extra={"birthday_within_days": window})
        .values_list("id", "birth_date")
        .iterator(chunk_size=5000)
    )
    due = []
    for cid, birth in rows:
        upcoming = _birthday_in(today.year, birth)
        if upcoming < today:
            upcoming = _birthday_in(today.year + 1, birth)
        if (upcoming - today).days <= window:
            due.append(Due(cid, occasion=str(upcoming.year)))
    return due


def due_holiday(campaign: Campaign, now: datetime) -> list[Due]:
    today = _local_today(campaign, now)
    day = next_holiday(campaign.holiday, today)
    if day is None or (day - today).days > campaign.days_before:
        return []
    return [
        Due(cid, occasion=day.isoformat())
        for cid in _audience(campaign, now).values_list("id", flat=True)
    ]


def due_reminder(campaign: Campaign, now: datetime) -> list[Due]:
    today = _local_today(campaign, now)
    rows = (
        _audience(campaign, now)
        .filter(
            insight__next_purchase_date__lte=today,
            insight__next_purchase_date__gte=today - timedelta(days=REMINDER_STALE_DAYS),
            insight__next_purchase_date__gt=F("insight__last_purchase__date"),
        )
        .exclude(insight__lifecycle="lapsed")
        .values_list("id", "insight__next_purchase_date")
    )
    return [Due(cid, occasion=day.isoformat()) for cid, day in rows]


def due_winback(campaign: Campaign, now: datetime) -> list[Due]:
    zone = merchant_zone(campaign.merchant)
    rows = (
        _audience(campaign, now)
        .filter(
            insight__lifecycle="lapsed",
            insight__last_purchase__gte=now - timedelta(days=WINBACK_MAX_IDLE_DAYS),
        )
        .values_list("id", "insight__last_purchase")
    )
    return [Due(cid, occasion=last.astimezone(zone).date().isoformat()) for cid, last in rows]


def due_points_expiry(campaign: Campaign, now: datetime) -> list[Due]:
    from langganan.loyalty.points import points_expiring

    days = campaign.days_before or DEFAULT_EXPIRY_NOTICE_DAYS
    zone = merchant_zone(campaign.merchant)
    allowed = set(_audience(campaign, now).values_list("id", flat=True))
    due = []
    for customer, points, first in points_expiring(
        merchant=campaign.merchant, within_days=days, now=now
    ):
        if customer.pk in allowed:
            day = first.astimezone(zone).date()
            due.append(
                Due(customer.pk, occasion=day.isoformat(), expiring_points=points, expiry_date=day)
            )
    return due


def due_tier_upgrade(campaign: Campaign, now: datetime) -> list[Due]:
    from langganan.loyalty.models import TierChange

    since = max(campaign.started_at or now, now - timedelta(days=TIER_UPGRADE_DAYS))
    allowed = set(_audience(campaign, now).values_list("id", flat=True))
    changes = (
        TierChange.objects.filter(
            member__merchant=campaign.merchant,
            reason=TierChange.Reason.QUALIFIED,
            changed_at__gte=since,
            changed_at__lte=now,
            to_tier__isnull=False,
        )
        .select_related("to_tier", "member")
        .order_by("changed_at", "id")
    )
    return [
        Due(c.member.customer_id, occasion=f"tier-{c.pk}", tier=c.to_tier.name)
        for c in changes
        if c.member.customer_id in allowed
    ]


def _audience(campaign: Campaign, now: datetime, extra: dict | None = None):
    filters = dict(campaign.audience.filters) if campaign.audience_id else {}
    filters.update(extra or {})
    filters.pop("consent", None)  # consent is the campaign's own channel, checked when queued
    return audience_queryset(merchant=campaign.merchant, filters=filters, now=now)


DUE = {
    CampaignKind.BROADCAST: due_broadcast,
    CampaignKind.WELCOME: due_welcome,
    CampaignKind.BIRTHDAY: due_birthday,
    CampaignKind.HOLIDAY: due_holiday,
    CampaignKind.REMINDER: due_reminder,
    CampaignKind.WINBACK: due_winback,
    CampaignKind.POINTS_EXPIRY: due_points_expiry,
    CampaignKind.TIER_UPGRADE: due_tier_upgrade,
}
