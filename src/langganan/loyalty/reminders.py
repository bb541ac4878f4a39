"""Reminders that leave the system: points about to expire (the ``points.expiring`` webhook).

Run once a day (cron, or the campaigns worker later): each run announces, per customer, the
points of the lots that expire on the local calendar day ``days`` days ahead, so every expiring
lot is announced exactly once by daily runs, whatever time of day they run.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from langganan.core.models import Merchant
from langganan.loyalty.members import aware, merchant_zone
from langganan.loyalty.models import PointLot

ERR_DAYS = "days must be between 0 and 365"


@transaction.atomic
def points_expiring_announce(*, merchant: Merchant, days: int = 7, now: datetime) -> int:
    """Emit ``points.expiring`` for each customer whose points expire on the day ``days``
    days after ``now``'s local date; returns the number of customers announced."""
    from langganan.core.errors import InvalidInput
    from langganan.webhooks.services import webhook_emit

    if not 0 <= days <= 365:
        raise InvalidInput(ERR_DAYS, field="days")
    zone = merchant_zone(merchant)
    day = timezone.localtime(aware(now), zone).date() + timedelta(days=days)
    start = datetime.combine(day, time.min, tzinfo=zone)
    rows = (
        PointLot.objects.filter(
            account__merchant=merchant,
            remaining__gt=0,
            expires_at__gte=start,
            expires_at__lt=start + timedelta(days=1),
        )
        .values("account__customer", "account__balance")
        .annotate(points=Sum("remaining"), expires_at=Min("expires_at"))
        .order_by("account__customer")
    )
    count = 0
    for row in rows:
        webhook_emit(
            merchant=merchant,
            event="points.expiring",
            payload={
                "customer_id": row["account__customer"],
                "points": int(row["points"]),
                "expires_at": row["expires_at"],
                "points_balance": int(row["account__balance"]),
            },
        )
        count += 1
    return count
