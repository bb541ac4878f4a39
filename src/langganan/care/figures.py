"""The figures of complaints and feedback for a period (``/m/<merchant>/keluhan/angka/``).

Every figure is read for the window ``[now - days, now)``:

- **volume**: complaints received in the window, by category and by outlet;
- **speed**: the median hours from receiving a complaint to its first response, and to its
  resolution (complaints marked resolved or closed; a rejected one is not "resolved"), each with
  the share within the merchant's target;
- **CSAT and NPS**: CSAT is the share of ratings of 4 or 5; NPS the percent of promoters (9–10)
  minus the percent of detractors (0–6) of those who answered the question; each for the
  whole window and by week (by month for a year);
- **suggestions**: the latest answers with a suggestion (saran);
- **after a complaint** (:func:`after_complaint`): customers whose complaint was resolved in the
  window, their purchases in the 90 days after the resolution, against similar customers without
  any complaint: those who, on the same day, had come as often in the 180 days before (the same
  band: 1, 2–4 or 5 or more purchases). Each complainer is compared with the customers of her
  band on her day, over the same number of days after it (fewer than 90 for a recent one).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from langganan.core.models import Merchant
from langganan.sales.models import Transaction

from .models import Complaint, Feedback, Status
from .selectors import care_settings_for

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30
AFTER_DAYS = 90
BEFORE_DAYS = 180
SUGGESTIONS_SHOWN = 10
#: the bands of purchases in the 180 days before: "similar" customers share one
BANDS = ((1, 1), (2, 4), (5, None))
RESOLVED = (Status.RESOLVED, Status.CLOSED)


def period_days(raw) -> int:
    """The period a query string asks for (7, 30, 90 or 365 days; 30 otherwise)."""
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


@dataclass(frozen=True)
class Speed:
    count: int  # complaints measured
    median_hours: Decimal | None
    within_target: int  # of them, within the target
    target_hours: int

    @property
    def within_share(self) -> Decimal | None:
        return _share(self.within_target, self.count)


@dataclass(frozen=True)
class Scores:
    answers: int
    csat: Decimal | None  # share (0-1) of ratings 4-5
    nps: int | None
    nps_answers: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class TrendPoint:
    start: date
    scores: Scores


@dataclass(frozen=True)
class AfterComplaint:
    complainers: int  # customers whose complaint was resolved in the window
    compared: int  # of them, with similar customers to compare with
    purchases: Decimal | None  # mean purchases per complainer in the days after
    similar_purchases: Decimal | None  # the similar customers' mean, weighted as the complainers
    returned_share: Decimal | None  # share of complainers who bought again
    similar_returned_share: Decimal | None
    similar_customers: int  # distinct customers in the comparison


@dataclass(frozen=True)
class Figures:
    days: int
    start: datetime
    end: datetime
    total: int
    by_category: list[tuple[str, int]]
    by_outlet: list[tuple[str, int]]
    by_status: dict[str, int]
    first_response: Speed
    resolution: Speed
    scores: Scores
    trend: list[TrendPoint]
    trend_unit: str  # "week" or "month"
    suggestions: list[Feedback] = field(default_factory=list)
    after: AfterComplaint | None = None


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _mean(total: float, n: int) -> Decimal | None:
    if not n:
        return None
    return Decimal(str(total / n)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def scores_of(rows: list[tuple[int, int | None]]) -> Scores:
    """CSAT, NPS and the average rating of ``(rating, nps)`` answers."""
    if not rows:
        return Scores(0, None, None, 0, None)
    satisfied = sum(1 for rating, _nps in rows if rating >= 4)
    nps_scores = [n for _r, n in rows if n is not None]
    nps = None
    if nps_scores:
        promoters = sum(1 for n in nps_scores if n >= 9)
        detractors = sum(1 for n in nps_scores if n <= 6)
        nps = round(100 * (promoters - detractors) / len(nps_scores))
    average = (Decimal(sum(r for r, _n in rows)) / len(rows)).quantize(Decimal("0.1"))
    return Scores(len(rows), _share(satisfied, len(rows)), nps, len(nps_scores), average)


def _speed(hours: list[float], target: int) -> Speed:
    median = None
    if hours:
        median = Decimal(str(statistics.median(hours))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return Speed(len(hours), median, sum(1 for h in hours if h <= target), target)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _bucket(day: date, unit: str) -> date:
    if unit == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def trend_of(rows: list[tuple[datetime, int, int | None]], unit: str, zone) -> list[TrendPoint]:
    """The scores of ``(created_at, rating, nps)`` answers by week (from Monday) or month."""
    groups: dict[date, list[tuple[int, int | None]]] = defaultdict(list)
    for at, rating, nps in rows:
        groups[_bucket(timezone.localtime(at, zone).date(), unit)].append((rating, nps))
    return [TrendPoint(start, scores_of(groups[start])) for start in sorted(groups)]


def figures_for(*, merchant: Merchant, days: int, now: datetime | None = None) -> Figures:
    """Every figure of the page for the ``days`` before ``now`` (see the module docstring)."""
    from langganan.web.access import merchant_zone

    now = now or timezone.now()
    start = now - timedelta(days=days)
    zone = merchant_zone(merchant)
    targets = care_settings_for(merchant)
    received = Complaint.objects.filter(
        merchant=merchant, created_at__gte=start, created_at__lt=now
    )
    by_category = [
        (row["category__name"], row["n"])
        for row in received.values("category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__name")
    ]
    by_outlet = [
        (row["outlet__name"] or "", row["n"])
        for row in received.values("outlet__name")
        .annotate(n=Count("id"))
        .order_by("-n", "outlet__name")
    ]
    by_status = dict(Counter(received.values_list("status", flat=True)))
    timing = list(received.values_list("created_at", "first_response_at", "resolved_at", "status"))
    response_hours = [_hours(c, f) for c, f, _r, _s in timing if f is not None]
    resolution_hours = [_hours(c, r) for c, _f, r, s in timing if r is not None and s in RESOLVED]
    answers = list(
        Feedback.objects.filter(
            merchant=merchant, created_at__gte=start, created_at__lt=now
        ).values_list("created_at", "rating", "nps")
    )
    unit = "month" if days > 90 else "week"
    suggestions = list(
        Feedback.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=now)
        .exclude(suggestion="")
        .select_related("customer", "outlet")
        .order_by("-created_at", "-pk")[:SUGGESTIONS_SHOWN]
    )
    return Figures(
        days=days,
        start=start,
        end=now,
        total=len(timing),
        by_category=by_category,
        by_outlet=by_outlet,
        by_status=by_status,
        first_response=_speed(response_hours, targets.first_response_hours),
        resolution=_speed(resolution_hours, targets.resolution_hours),
        scores=scores_of([(r, n) for _at, r, n in answers]),
        trend=trend_of(answers, unit, zone),
        trend_unit=unit,
        suggestions=suggestions,
        after=after_complaint(merchant=merchant, start=start, now=now),
    )


# -- what happened after a complaint ------------------------------------------------------------


def band_of(purchases_before: int) -> int | None:
    """The index in :data:`BANDS` of a number of purchases in the 180 days before (None: 0)."""
    for i, (low, high) in enumerate(BANDS):
        if purchases_before >= low and (high is None or purchases_before <= high):
            return i
    return None


def _count_between(times: list[datetime], after: datetime, until: datetime) -> int:
    """Purchases in ``(after, until]`` of a sorted list."""
    return bisect_right(times, until) - bisect_right(times, after)


def _count_before(times: list[datetime], at: datetime, days: int) -> int:
    """Purchases in ``[at - days, at)``."""
    return bisect_left(times, at) - bisect_left(times, at - timedelta(days=days))


def after_complaint(*, merchant: Merchant, start: datetime, now: datetime) -> AfterComplaint:
    """Customers whose complaint was resolved in ``[start, now)``: their purchases in the 90
    days after (their latest resolution in the window), against similar customers without a
    complaint (same band of purchases in the 180 days before, on the same day, over the same
    days after). A complainer with no purchase in the 180 days before, or no similar customer,
    is counted in ``complainers`` but not compared."""
    anchors: dict[int, datetime] = {}
    for customer_id, resolved_at in Complaint.objects.filter(
        merchant=merchant,
        status__in=RESOLVED,
        customer__isnull=False,
        resolved_at__gte=start,
        resolved_at__lt=now,
    ).values_list("customer_id", "resolved_at"):
        if customer_id not in anchors or resolved_at > anchors[customer_id]:
            anchors[customer_id] = resolved_at
    if not anchors:
        return AfterComplaint(0, 0, None, None, None, None, 0)
    complained = set(
        Complaint.objects.filter(merchant=merchant, customer__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    since = min(anchors.values()) - timedelta(days=BEFORE_DAYS)
    times: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, at in (
        Transaction.objects.filter(
            merchant=merchant,
            customer__isnull=False,
            kind="sale",
            occurred_at__gte=since,
            occurred_at__lte=now,
        )
        .order_by("occurred_at")
        .values_list("customer_id", "occurred_at")
        .iterator(chunk_size=5000)
    ):
        times[customer_id].append(at)
    others = [cid for cid in times if cid not in complained]
    # one comparison per (day, band, days after): complainers resolved on one day share it
    pools: dict[tuple[datetime, int], tuple[float, float, int, set[int]]] = {}

    def pool(anchor: datetime, band: int, until: datetime):
        key = (anchor, band)
        if key not in pools:
            total = returned = 0
            members: set[int] = set()
            for cid in others:
                history = times[cid]
                if band_of(_count_before(history, anchor, BEFORE_DAYS)) != band:
                    continue
                after = _count_between(history, anchor, until)
                total += after
                returned += 1 if after else 0
                members.add(cid)
            n = len(members)
            pools[key] = (total / n if n else 0.0, returned / n if n else 0.0, n, members)
        return pools[key]

    compared = 0
    own_total = own_returned = 0
    similar_total = similar_returned = 0.0
    similar_ids: set[int] = set()
    for customer_id, anchor in anchors.items():
        history = times.get(customer_id, [])
        band = band_of(_count_before(history, anchor, BEFORE_DAYS))
        if band is None:
            continue
        until = min(anchor + timedelta(days=AFTER_DAYS), now)
        mean, returned_share, n, members = pool(anchor, band, until)
        if not n:
            continue
        compared += 1
        after = _count_between(history, anchor, until)
        own_total += after
        own_returned += 1 if after else 0
        similar_total += mean
        similar_returned += returned_share
        similar_ids |= members
    return AfterComplaint(
        complainers=len(anchors),
        compared=compared,
        purchases=_mean(own_total, compared),
        similar_purchases=_mean(similar_total, compared),
        returned_share=_share(own_returned, compared),
        similar_returned_share=(
            Decimal(str(similar_returned / compared)).quantize(Decimal("0.001"))
            if compared
            else None
        ),
        similar_customers=len(similar_ids),
    )


def new_complaints_count(*, merchant: Merchant) -> int:
    """Complaints no one has looked at yet (status *baru*): the badge in the menu."""
    return Complaint.objects.filter(merchant=merchant, status=Status.NEW).count()


def customer_care_summary(*, merchant: Merchant, customer_id: int, limit: int = 10) -> dict:
    """A customer's complaints (newest first, at most ``limit``), how many are open, and her
    feedback: the latest rating and NPS, the average rating and the number of answers.

    Two queries for the usual customer (her complaints, her answers); a third counts her
    complaints only when she has more than ``limit``."""
    from .models import OPEN_STATUSES

    complaints = Complaint.objects.filter(merchant=merchant, customer_id=customer_id)
    shown = list(complaints.select_related("category", "outlet")[: limit + 1])
    if len(shown) <= limit:
        total, open_count = len(shown), sum(1 for c in shown if c.status in OPEN_STATUSES)
    else:
        shown = shown[:limit]
        counts = complaints.aggregate(
            total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES))
        )
        total, open_count = counts["total"], counts["open"]
    answers = list(
        Feedback.objects.filter(merchant=merchant, customer_id=customer_id)
        .order_by("-created_at", "-pk")
        .only("rating", "nps", "created_at")
    )
    return {
        "complaints": shown,
        "complaints_total": total,
        "open_count": open_count,
        "latest_feedback": answers[0] if answers else None,
        "scores": scores_of([(a.rating, a.nps) for a in answers]),
    }
