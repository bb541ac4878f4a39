"""Reads of complaints: the queue with its overdue flags, one complaint, the targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from langganan.core.errors import NotFound
from langganan.core.models import Merchant

from .models import OPEN_STATUSES, CareSettings, Complaint, ComplaintCategory

ERR_NOT_FOUND = "No such complaint."


def care_settings_for(merchant: Merchant) -> CareSettings:
    """The merchant's targets (the defaults, unsaved, when none were set)."""
    return CareSettings.objects.filter(merchant=merchant).first() or CareSettings(merchant=merchant)


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    resolution_due: datetime
    response_overdue: bool
    resolution_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.response_overdue or self.resolution_overdue


def deadlines(complaint: Complaint, targets: CareSettings, now: datetime) -> Deadlines:
    """When the first response and the resolution are due, and whether either is late now.

    A response is late while none was given after its deadline; a resolution while the
    complaint is still open after its deadline (a closed one is never overdue)."""
    response_due = complaint.created_at + timedelta(hours=targets.first_response_hours)
    resolution_due = complaint.created_at + timedelta(hours=targets.resolution_hours)
    is_open = complaint.status in OPEN_STATUSES
    return Deadlines(
        response_due=response_due,
        resolution_due=resolution_due,
        response_overdue=is_open and complaint.first_response_at is None and now > response_due,
        resolution_overdue=is_open and now > resolution_due,
    )


def overdue_q(targets: CareSettings, now: datetime) -> Q:
    response_limit = now - timedelta(hours=targets.first_response_hours)
    resolution_limit = now - timedelta(hours=targets.resolution_hours)
    return Q(status__in=OPEN_STATUSES) & (
        Q(first_response_at__isnull=True, created_at__lt=response_limit)
        | Q(created_at__lt=resolution_limit)
    )


def complaints_for(
    *,
    merchant: Merchant,
    status: str = "",
    overdue: bool = False,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet[Complaint]:
    """The merchant's complaints, newest first; ``status`` ``open`` means new or in progress."""
    now = now or timezone.now()
    qs = Complaint.objects.filter(merchant=merchant).select_related(
        "customer", "category", "outlet", "assignee"
    )
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(overdue_q(care_settings_for(merchant), now))
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


def overdue_count(*, merchant: Merchant, now: datetime | None = None) -> int:
    now = now or timezone.now()
    targets = care_settings_for(merchant)
    return Complaint.objects.filter(merchant=merchant).filter(overdue_q(targets, now)).count()


def complaint_get(*, merchant: Merchant, pk: int) -> Complaint:
    complaint = (
        Complaint.objects.filter(merchant=merchant, pk=pk)
        .select_related("customer", "category", "outlet", "assignee", "transaction")
        .first()
    )
    if complaint is None:
        raise NotFound(ERR_NOT_FOUND)
    return complaint


def complaint_cost(complaint: Complaint) -> Decimal:
    """What the service recovery of the complaint cost, in Rupiah."""
    total = complaint.recoveries.aggregate(total=Sum("cost"))["total"]
    return total if total is not None else Decimal("0.00")


def categories_of(merchant: Merchant, *, active_only: bool = True) -> QuerySet[ComplaintCategory]:
    qs = ComplaintCategory.objects.filter(merchant=merchant)
    return qs.filter(is_active=True) if active_only else qs


def open_complaint_customer_ids(*, merchant: Merchant, customer_ids) -> set[int]:
    """Of ``customer_ids``, those with a complaint still open (new or in progress)."""
    wanted = list(set(customer_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 5000):
        found.update(
            Complaint.objects.filter(
                merchant=merchant,
                status__in=OPEN_STATUSES,
                customer_id__in=wanted[start : start + 5000],
            ).values_list("customer_id", flat=True)
        )
    return found


@dataclass(frozen=True)
class FeedbackScores:
    answers: int
    average_rating: Decimal | None
    nps: int | None  # % promoters (9-10) minus % detractors (0-6), of those who answered it
    nps_answers: int


def feedback_scores(*, merchant: Merchant, since: datetime) -> FeedbackScores:
    """The average rating (CSAT, 1-5) and the Net Promoter Score of the answers since ``since``."""
    from .models import Feedback

    rows = list(
        Feedback.objects.filter(merchant=merchant, created_at__gte=since).values_list(
            "rating", "nps"
        )
    )
    if not rows:
        return FeedbackScores(0, None, None, 0)
    average = (Decimal(sum(r for r, _n in rows)) / len(rows)).quantize(Decimal("0.1"))
    scores = [n for _r, n in rows if n is not None]
    nps = None
    if scores:
        promoters = sum(1 for n in scores if n >= 9)
        detractors = sum(1 for n in scores if n <= 6)
        nps = round(100 * (promoters - detractors) / len(scores))
    return FeedbackScores(len(rows), average, nps, len(scores))
