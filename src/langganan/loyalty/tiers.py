"""Member tiers: qualifying, upgrading at once, and periodic reviews that may downgrade.

- **Window**: a member's spend and visits are counted over the program's rolling window of
  ``tier_window_days`` × 24 hours ending at ``at``: a sale at exactly ``at`` counts, one at
  exactly ``at − tier_window_days`` does not. Spend is the net total of the customer's sales
  and refunds whose own time falls in the window (a refund in the window of a sale before it
  lowers the spend); visits are the distinct local calendar days (merchant's time zone) with
  at least one sale.
- **Qualifying**: the best tier (highest rank) whose ``min_spend`` (basis ``spend``) or
  ``min_visits`` (basis ``visits``) the window reaches, thresholds included.
- **Upgrade** (:func:`tier_upgrade_if_qualified`, after each sale): at once to the best
  qualifying tier when it ranks above the current one; never down.
- **Review** (:func:`tier_review_run`): review dates are the first day of every
  ``tier_review_months``-th month counted from January, each year again (3 → 1 Jan, 1 Apr,
  1 Jul, 1 Oct; 5 → 1 Jan, 1 Jun, 1 Nov; 12 or more → 1 Jan). A run on or after a review date
  sets every member to the tier they qualify for at ``at`` — up or down — and records a
  ``TierChange`` with reason "review" and detail ``review <date>`` for **every** member it
  reviews, also when the tier stays the same (``from_tier == to_tier``). That row is how a
  second run for the same review date knows the member was already reviewed and changes
  nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from langganan.core import units
from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.loyalty.members import aware, merchant_zone, program_for
from langganan.loyalty.models import Member, Program, Tier, TierBasis, TierChange
from langganan.sales.models import Transaction, TransactionKind

ZERO = Decimal("0")

ERR_REVIEW_MONTHS = "the months between tier reviews must be at least 1"

Stats = tuple[Decimal, int]


def _window_stats(
    *, merchant: Merchant, program: Program, at: datetime, customer_id: int | None = None
) -> dict[int, Stats]:
    """``{customer id: (spend, visits)}`` over the window ending at ``at``."""
    start = at - timedelta(days=program.tier_window_days)
    txns = Transaction.objects.filter(
        merchant=merchant, customer__isnull=False, occurred_at__gt=start, occurred_at__lte=at
    ).order_by()
    if customer_id is not None:
        txns = txns.filter(customer_id=customer_id)
    spend = dict(
        txns.values("customer_id").annotate(total=Sum("total")).values_list("customer_id", "total")
    )
    days = (
        txns.filter(kind=TransactionKind.SALE)
        .annotate(day=TruncDate("occurred_at", tzinfo=merchant_zone(merchant)))
        .values_list("customer_id", "day")
        .distinct()
    )
    visits = Counter(cid for cid, _day in days)
    return {
        cid: (Decimal(spend.get(cid) or ZERO), visits.get(cid, 0))
        for cid in set(spend) | set(visits)
    }


def tier_window_stats(*, member: Member, at: datetime) -> tuple[Decimal, int]:
    """The member's ``(spend, visits)`` in the program's window ending at ``at`` (see the
    module docstring)."""
    at = aware(at)
    merchant = member.merchant
    program = program_for(merchant=merchant)
    stats = _window_stats(merchant=merchant, program=program, at=at, customer_id=member.customer_id)
    return stats.get(member.customer_id, (ZERO, 0))


def tier_best_qualifying(*, program: Program, spend: Decimal, visits: int) -> Tier | None:
    """The highest-ranked tier of the program that ``spend`` or ``visits`` (by the program's
    ``tier_basis``) reaches; ``None`` when none does."""
    return _best(list(program.tiers.order_by("-rank")), program.tier_basis, spend, visits)


def _best(tiers: list[Tier], basis: str, spend: Decimal, visits: int) -> Tier | None:
    for tier in tiers:  # highest rank first
        if basis == TierBasis.VISITS:
            if visits >= tier.min_visits:
                return tier
        elif spend >= tier.min_spend:
            return tier
    return None


def _tier_set(
    *,
    member: Member,
    tier: Tier | None,
    reason: str,
    stats: Stats,
    at: datetime,
    detail: str = "",
) -> TierChange:
    change = TierChange.objects.create(
        member=member,
        from_tier=member.tier,
        to_tier=tier,
        reason=reason,
        detail=detail,
        spend_in_window=stats[0],
        visits_in_window=stats[1],
        changed_at=at,
    )
    if (tier.pk if tier else None) != member.tier_id:
        from langganan.webhooks.services import webhook_emit

        previous = member.tier
        member.tier, member.tier_since = tier, at
        member.save(update_fields=["tier", "tier_since"])
        webhook_emit(
            merchant=member.merchant,
            event="tier.changed",
            payload={
                "customer_id": member.customer_id,
                "from_tier": previous.name if previous else None,
                "to_tier": tier.name if tier else None,
                "reason": reason,
                "changed_at": at,
            },
        )
    return change


def _member_window_stats(
    *, merchant: Merchant, program: Program, at: datetime, customer_id: int
) -> Stats:
    """One customer's ``(spend, visits)`` over the window ending at ``at``, in one query (the
    same figures as :func:`_window_stats`, which does every customer at once)."""
    start = at - timedelta(days=program.tier_window_days)
    day = TruncDate("occurred_at", tzinfo=merchant_zone(merchant))
    row = (
        Transaction.objects.filter(
            merchant=merchant, customer_id=customer_id, occurred_at__gt=start, occurred_at__lte=at
        )
        .order_by()
        .aggregate(
            spend=Sum("total"),
            visits=Count(day, filter=Q(kind=TransactionKind.SALE), distinct=True),
        )
    )
    return Decimal(row["spend"] or ZERO), int(row["visits"] or 0)


def tier_upgrade_if_qualified(
    *,
    member: Member,
    at: datetime,
    program: Program | None = None,
    tiers: list[Tier] | None = None,
) -> TierChange | None:
    """Move the member up at once to the best tier the window qualifies them for.

    Never moves down (that waits for the review). Returns the ``TierChange`` (reason
    "qualified", with the window's spend and visits) or ``None`` when nothing changed, also
    when the merchant's program is switched off. The ``member`` passed in is updated too.

    ``program`` (the merchant's active program) and ``tiers`` (its tiers) may be passed by a
    caller that already read them (the checkout). A member who already has the program's
    highest tier cannot move up, so the window is not counted for them.
    """
    at = aware(at)
    if program is None:
        program = Program.objects.filter(merchant_id=member.merchant_id, is_active=True).first()
    if program is None or not program.is_active:
        return None
    if tiers is None:
        tiers = list(program.tiers.all())
    if not tiers:
        return None
    ranked = sorted(tiers, key=lambda t: t.rank, reverse=True)
    with units.atomic():
        locked = Member.objects.select_for_update(of=("self",)).get(pk=member.pk)
        by_id = {t.pk: t for t in ranked}
        current = by_id.get(locked.tier_id) if locked.tier_id is not None else None
        if locked.tier_id is not None and current is None:  # a tier of another program
            current = locked.tier
        else:
            locked.tier = current
        member.tier, member.tier_since = current, locked.tier_since  # as it is now, changed or not
        if current is not None and current.rank >= ranked[0].rank:
            return None  # already at the top: nothing to count
        if Member.merchant.is_cached(member):
            locked.merchant = member.merchant
        stats = _member_window_stats(
            merchant=locked.merchant, program=program, at=at, customer_id=locked.customer_id
        )
        best = _best(ranked, program.tier_basis, stats[0], stats[1])
        if best is None or (current is not None and best.rank <= current.rank):
            return None
        change = _tier_set(
            member=locked, tier=best, reason=TierChange.Reason.QUALIFIED, stats=stats, at=at
        )
    member.tier, member.tier_since = locked.tier, locked.tier_since
    return change


def _review_months(program: Program) -> list[int]:
    step = program.tier_review_months
    if step < 1:
        raise InvalidInput(ERR_REVIEW_MONTHS, field="tier_review_months")
    return list(range(1, 13, step))


def next_review_date(*, program: Program, after: date) -> date:
    """The first review date strictly after ``after`` (see the module docstring)."""
    for month in _review_months(program):
        day = date(after.year, month, 1)
        if day > after:
            return day
    return date(after.year + 1, 1, 1)


def review_date_on_or_before(*, program: Program, day: date) -> date:
    """The latest review date on or before ``day`` (1 January is always a review date)."""
    month = max(m for m in _review_months(program) if m <= day.month)
    return date(day.year, month, 1)


def tier_review_run(*, merchant: Merchant, at: datetime) -> list[TierChange]:
    """Review every member for the latest review date on or before ``at``'s local date.

    Each member not yet reviewed for that date is set to the best tier the window ending at
    ``at`` qualifies them for (up or down, or no tier). Returns the ``TierChange`` rows of the
    members whose tier changed; the "unchanged" rows are recorded but not returned. Idempotent
    per review date. Returns ``[]`` when the merchant has no active program.
    """
    at = aware(at)
    program = Program.objects.filter(merchant=merchant, is_active=True).first()
    if program is None:
        return []
    review_day = review_date_on_or_before(
        program=program, day=at.astimezone(merchant_zone(merchant)).date()
    )
    detail = f"review {review_day.isoformat()}"
    tiers = list(program.tiers.order_by("-rank"))
    stats = _window_stats(merchant=merchant, program=program, at=at)
    reviewed = set(
        TierChange.objects.filter(
            member__merchant=merchant, reason=TierChange.Reason.REVIEW, detail=detail
        ).values_list("member_id", flat=True)
    )
    member_ids = (
        Member.objects.filter(merchant=merchant)
        .exclude(pk__in=reviewed)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changes = []
    for member_id in list(member_ids):
        with transaction.atomic():
            member = (
                Member.objects.select_for_update(of=("self",))
                .select_related("tier")
                .get(pk=member_id)
            )
            if TierChange.objects.filter(
                member=member, reason=TierChange.Reason.REVIEW, detail=detail
            ).exists():  # a concurrent run got here first
                continue
            member_stats = stats.get(member.customer_id, (ZERO, 0))
            best = _best(tiers, program.tier_basis, *member_stats)
            before = member.tier_id
            change = _tier_set(
                member=member,
                tier=best,
                reason=TierChange.Reason.REVIEW,
                stats=member_stats,
                at=at,
                detail=detail,
            )
            if (best.pk if best else None) != before:
                changes.append(change)
    return changes
