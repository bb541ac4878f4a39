"""Loyalty points: how many a sale earns, earning, redeeming, refunds, expiry.

Postings (customer account ``points``; counter-accounts are the merchant's system accounts):

=========================== =============== =============================================
event                       customer        counter-account
=========================== =============== =============================================
earn / bonus / referral     + points        ``points_issued`` − points
opening balance             + points        ``points_opening`` − points
redemption                  − points        ``points_redeemed`` + points
expiry                      − points        ``points_expired`` + points
refund of an earning sale   − points        the earning's counter-account + points
refund of a redeeming sale  + points        ``points_redeemed`` − points
=========================== =============== =============================================

Every credit of points creates a :class:`~langganan.loyalty.models.PointLot` (one per earning
journal) whose ``expires_at`` is fixed at that moment by :func:`points_expires_at`; a later
change of the program's expiry policy never re-dates existing lots. Every debit records
:class:`~langganan.loyalty.models.LotUse` rows, so the sum of the lots' ``remaining`` always
equals the account balance (all points must therefore be credited through
:func:`points_earn`).

Expiry policy (times in the merchant's time zone, Asia/Jakarta by default):

- ``MONTHS``: ``expiry_months`` calendar months after the moment earned, same day and time of
  day; a day the target month lacks becomes its last day (31 Aug + 6 months → 28/29 Feb).
- ``YEAR_END``: 31 December 23:59:59 of the year **after** the year earned (as the program
  setting reads: "at the end of the year after they are earned"), so points earned on
  1 January and on 31 December of 2025 both expire at 31 December 2026 23:59:59.
- ``NEVER``: no expiry (``expires_at`` is empty).

A lot is expired from ``expires_at`` on: at exactly ``expires_at`` its points can no longer be
redeemed and :func:`points_expire_due` expires them.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Min, Q, QuerySet, Sum
from django.utils import timezone

from langganan.core import settings_cache, units
from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.ledger import (
    InsufficientBalance,
    accounts_lock,
    customer_account,
    journal_post,
    system_account,
)
from langganan.loyalty.members import aware, merchant_zone, program_for
from langganan.loyalty.models import (
    Account,
    AccountKind,
    EarnRule,
    ExpiryPolicy,
    Journal,
    JournalKind,
    LotUse,
    PointLot,
    Program,
    Rounding,
    Tier,
)
from langganan.sales.models import Transaction

ZERO = Decimal("0")
ONE = Decimal("1")

ERR_TOTAL_NEGATIVE = "the sale total cannot be negative"
ERR_POINTS_WHOLE = "points must be a whole number"
ERR_GIVEN_ACCOUNT = (
    "the account given is not the customer's (or the merchant's) account of this kind"
)
ERR_POINTS_NEGATIVE = "points cannot be negative"
ERR_POINTS_NOT_POSITIVE = "the number of points must be more than zero"
ERR_EARN_KIND = "points can only be credited as {kinds}"
ERR_BELOW_MINIMUM = "at least {minimum} points are needed to redeem"
ERR_NOT_ENOUGH_POINTS = "not enough points: {available} available, {requested} requested"
ERR_NOT_A_REDEMPTION = "only a points redemption can be given back"

#: Journal kinds that credit points, and the counter-account each is issued from.
EARN_KINDS = {
    JournalKind.EARN: "points_issued",
    JournalKind.BONUS: "points_issued",
    JournalKind.REFERRAL: "points_issued",
    JournalKind.OPENING: "points_opening",
}


@dataclass(frozen=True)
class SaleLine:
    """One line of a sale, as the earning and voucher rules see it.

    ``amount`` is the line total after line discounts.
    """

    product_id: int | None
    category_id: int | None
    quantity: Decimal
    amount: Decimal


# -- earning rule (pure) -----------------------------------------------------------------------


def points_for_sale(
    *,
    program: Program,
    tier: Tier | None,
    lines: Sequence[SaleLine],
    total: Decimal,
    at: datetime,
) -> int:
    """Points a sale earns. Pure: reads only the program's earning rules.

    ``total`` is what the customer actually paid in money (after vouchers, points and other
    discounts); ``lines`` only say which part of it each product is.

    The rule::

        weighted = Σ over lines  share_of_total(line) × multiplier(line)
        steps    = round(weighted × tier.earn_multiplier / program.earn_step)
        points   = steps × program.earn_points + program.points_per_visit

    - ``share_of_total(line) = total × line.amount / Σ line.amount`` (lines with no positive
      amount get no share; a sale without lines is one line without product or category).
    - ``multiplier(line)``: the **highest** multiplier among the program's active earning
      rules that apply to the line, or 1 when none applies. A rule applies when each of its
      conditions holds: its product is the line's product, its category is the line's
      category, and the sale's local date (merchant's time zone) is within
      ``starts_on``…``ends_on``, both days included. A rule below 1 (e.g. 0 for cigarettes)
      therefore lowers the line when it is the only one that applies.
    - Rounding happens once, on the number of steps: ``DOWN`` counts only whole steps
      (Rp 9.999 at Rp 10.000 a step earns nothing, Rp 19.999 one step); ``HALF_UP`` rounds to
      the nearest step, a half step up (Rp 5.000 → 1 step, Rp 4.999 → 0).
    - Nothing at all (not even ``points_per_visit``) when ``total`` is 0 (a bill paid entirely
      with points or vouchers earns nothing), below ``program.min_spend_to_earn`` (a total
      exactly at the minimum earns), or when the program is switched off.
    - ``points_per_visit`` is flat: no multiplier applies to it.

    Raises
    ------
    InvalidInput
        :data:`ERR_TOTAL_NEGATIVE` for a negative total.
    """
    total = Decimal(total)
    if total < 0:
        raise InvalidInput(ERR_TOTAL_NEGATIVE, field="total")
    if not program.is_active or total == 0 or total < program.min_spend_to_earn:
        return 0
    day = timezone.localtime(aware(at), merchant_zone(program.merchant)).date()
    rules = [
        rule
        for rule in settings_cache.rows(
            program.merchant,
            f"earn_rules:{program.pk}",
            lambda: program.earn_rules.filter(is_active=True),
        )
        if (rule.starts_on is None or rule.starts_on <= day)
        and (rule.ends_on is None or day <= rule.ends_on)
    ]
    priced = [line for line in lines if Decimal(line.amount) > 0]
    if not priced:
        priced = [SaleLine(product_id=None, category_id=None, quantity=ONE, amount=total)]
    line_sum = sum((Decimal(line.amount) for line in priced), ZERO)
    weighted_lines = sum(
        (Decimal(line.amount) * _line_multiplier(rules, line) for line in priced), ZERO
    )
    weighted = total * weighted_lines / line_sum
    tier_multiplier = tier.earn_multiplier if tier is not None else ONE
    raw_steps = weighted * tier_multiplier / program.earn_step
    rounding = ROUND_HALF_UP if program.earn_rounding == Rounding.HALF_UP else ROUND_DOWN
    steps = int(raw_steps.quantize(ONE, rounding=rounding))
    return steps * program.earn_points + program.points_per_visit


def _line_multiplier(rules: Sequence[EarnRule], line: SaleLine) -> Decimal:
    applicable = [
        rule.multiplier
        for rule in rules
        if (rule.product_id is None or rule.product_id == line.product_id)
        and (rule.category_id is None or rule.category_id == line.category_id)
    ]
    return max(applicable) if applicable else ONE


def points_expires_at(*, program: Program, earned_at: datetime) -> datetime | None:
    """When points earned at ``earned_at`` expire under the program's current policy (see the
    module docstring); ``None`` when they never expire."""
    if program.expiry_policy == ExpiryPolicy.NEVER:
        return None
    local = timezone.localtime(aware(earned_at), merchant_zone(program.merchant))
    if program.expiry_policy == ExpiryPolicy.YEAR_END:
        return local.replace(
            year=local.year + 1, month=12, day=31, hour=23, minute=59, second=59, microsecond=0
        )
    years, month0 = divmod(local.month - 1 + program.expiry_months, 12)
    year, month = local.year + years, month0 + 1
    day = min(local.day, monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


# -- writes ------------------------------------------------------------------------------------


def _whole(points: int | Decimal) -> int:
    if isinstance(points, bool) or Decimal(points) != Decimal(points).to_integral_value():
        raise InvalidInput(ERR_POINTS_WHOLE, field="points")
    return int(points)


def _counter_account(journal: Journal) -> Account:
    """The merchant-side account of a customer journal (its only system-account entry)."""
    return Account.objects.get(entries__journal=journal, kind=AccountKind.SYSTEM)


def _lock_lots(lots: QuerySet[PointLot]) -> list[PointLot]:
    return list(lots.select_for_update())


def points_earn(
    *,
    customer: Customer,
    points: int,
    key: str,
    at: datetime,
    kind: str = "earn",
    transaction_obj: Transaction | None = None,
    memo: str = "",
    expires_at: datetime | None = None,
    program: Program | None = None,
    account: Account | None = None,
    counter: Account | None = None,
) -> Journal | None:
    """Credit ``points`` to the customer: one journal and one lot expiring by the program's
    policy at this moment (:func:`points_expires_at`).

    ``expires_at`` overrides the policy for this lot (opening balances carried over from a
    previous system keep their own expiry); ``None`` means "by the policy".

    ``kind`` is ``earn``, ``bonus`` or ``referral`` (issued from ``points_issued``) or
    ``opening`` (from ``points_opening``). Returns ``None`` and posts nothing for 0 points.

    ``program`` (the merchant's active program), ``account`` (the customer's points account)
    and ``counter`` (the counter-account of ``kind``) may be passed by a caller that already
    holds them (the checkout), to save looking them up again.

    Raises
    ------
    InvalidInput
        Negative or fractional points, or another kind.
    NotFound
        The merchant has no active program.
    DuplicateJournal
        ``key`` was already posted.
    """
    points = _whole(points)
    if points < 0:
        raise InvalidInput(ERR_POINTS_NEGATIVE, field="points")
    if kind not in EARN_KINDS:
        raise InvalidInput(ERR_EARN_KIND.format(kinds=", ".join(EARN_KINDS)), field="kind")
    if points == 0:
        return None
    at = aware(at)
    merchant = customer.merchant
    if program is None:
        program = program_for(merchant=merchant)
    if expires_at is None:
        expires_at = points_expires_at(program=program, earned_at=at)
    else:
        expires_at = aware(expires_at)
    code = EARN_KINDS[JournalKind(kind)]
    _check_given(customer, account, AccountKind.POINTS)
    if counter is not None and (counter.merchant_id != merchant.pk or counter.code != code):
        raise InvalidInput(ERR_GIVEN_ACCOUNT)
    with units.atomic():
        if account is None:
            account = customer_account(customer=customer, kind=AccountKind.POINTS)
        if counter is None:
            counter = system_account(merchant=merchant, code=code)
        journal = journal_post(
            merchant=merchant,
            kind=kind,
            key=key,
            postings=[(account, points), (counter, -points)],
            transaction_obj=transaction_obj,
            memo=memo,
            posted_at=at,
        )
        PointLot.objects.create(
            account=account,
            journal=journal,
            earned_at=at,
            expires_at=expires_at,
            amount=points,
            remaining=points,
        )
    return journal


def _check_given(customer: Customer, account: Account | None, kind: str) -> None:
    if account is not None and (account.customer_id != customer.pk or account.kind != kind):
        raise InvalidInput(ERR_GIVEN_ACCOUNT)


def _usable(at: datetime) -> Q:
    return Q(remaining__gt=0) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def _take(lot: PointLot, journal: Journal, amount: int) -> None:
    """Move ``amount`` out of (positive) or back into (negative) a locked lot."""
    LotUse.objects.create(lot=lot, journal=journal, amount=amount)
    PointLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - amount)
    lot.remaining -= amount


def points_redeem(
    *,
    customer: Customer,
    points: int,
    key: str,
    at: datetime,
    transaction_obj: Transaction | None = None,
    memo: str = "",
    program: Program | None = None,
    account: Account | None = None,
    counter: Account | None = None,
) -> Journal:
    """Redeem ``points`` of the customer's points, oldest-expiring first.

    Lots are consumed by ``expires_at`` (never-expiring lots last), then by id; lots already
    expired at ``at`` cannot be used even if the expiry run has not reached them yet. The
    account and the lots are locked for the whole transaction. ``program``, ``account`` and
    ``counter`` (``points_redeemed``) may be passed by a caller that already holds them; an
    ``account`` passed in must already be locked by the caller (:func:`accounts_lock`).

    Raises
    ------
    InvalidInput
        :data:`ERR_POINTS_NOT_POSITIVE`, or :data:`ERR_BELOW_MINIMUM` under the program's
        ``min_points_to_redeem``.
    InsufficientBalance
        :data:`ERR_NOT_ENOUGH_POINTS` when the usable lots hold fewer points; nothing is
        written.
    """
    points = _whole(points)
    if points <= 0:
        raise InvalidInput(ERR_POINTS_NOT_POSITIVE, field="points")
    at = aware(at)
    merchant = customer.merchant
    if program is None:
        program = program_for(merchant=merchant)
    if points < program.min_points_to_redeem:
        raise InvalidInput(
            ERR_BELOW_MINIMUM.format(minimum=program.min_points_to_redeem), field="points"
        )
    _check_given(customer, account, AccountKind.POINTS)
    if counter is not None and (
        counter.merchant_id != merchant.pk or counter.code != "points_redeemed"
    ):
        raise InvalidInput(ERR_GIVEN_ACCOUNT)
    with units.atomic():
        if account is None:
            account = customer_account(customer=customer, kind=AccountKind.POINTS)
            accounts_lock([account])
        # else: a caller that passes the account holds its row lock already (the checkout)
        redeemed = counter or system_account(merchant=merchant, code="points_redeemed")
        lots = _lock_lots(
            PointLot.objects.filter(_usable(at), account=account).order_by(
                F("expires_at").asc(nulls_last=True), "id"
            )
        )
        available = sum(int(lot.remaining) for lot in lots)
        if available < points:
            raise InsufficientBalance(
                ERR_NOT_ENOUGH_POINTS.format(available=available, requested=points)
            )
        journal = journal_post(
            merchant=merchant,
            kind=JournalKind.REDEEM,
            key=key,
            postings=[(account, -points), (redeemed, points)],
            transaction_obj=transaction_obj,
            memo=memo,
            posted_at=at,
        )
        left = points
        for lot in lots:
            if left == 0:
                break
            use = min(left, int(lot.remaining))
            _take(lot, journal, use)
            left -= use
    return journal


def points_take_back(
    *, earn_journal: Journal, points: int, key: str, at: datetime
) -> Journal | None:
    """Refund of an earning sale: take back up to ``points`` from what is still left of that
    journal's lot.

    Never more than the lot still holds (points already redeemed stay redeemed), nothing when
    the lot has expired at ``at`` (its points are lost to expiry anyway). Returns ``None``
    when there is nothing to take back. The reversal journal ``reverses`` the earning.
    """
    points = _whole(points)
    if points < 0:
        raise InvalidInput(ERR_POINTS_NEGATIVE, field="points")
    at = aware(at)
    if points == 0:
        return None
    with transaction.atomic():
        lot = PointLot.objects.filter(journal=earn_journal).first()
        if lot is None:
            return None
        accounts_lock([lot.account])
        lot = (
            PointLot.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=lot.pk)
        )
        if lot.expires_at is not None and lot.expires_at <= at:
            return None
        take = min(points, int(lot.remaining))
        if take == 0:
            return None
        journal = journal_post(
            merchant=earn_journal.merchant,
            kind=JournalKind.REVERSAL,
            key=key,
            postings=[(lot.account, -take), (_counter_account(earn_journal), take)],
            reverses=earn_journal,
            memo=f"refund: {take} points taken back",
            posted_at=at,
        )
        _take(lot, journal, take)
    return journal


def points_give_back(
    *, redeem_journal: Journal, points: int, key: str, at: datetime
) -> Journal | None:
    """Refund of a sale paid with points: give back up to ``points`` to the lots the
    redemption used.

    Only what this redemption took and has not yet been given back is returned, newest-expiring
    lot first (never-expiring lots first of all), skipping lots that have expired at ``at``:
    points from an expired lot are not given back. Returns ``None`` when nothing is given back.
    """
    points = _whole(points)
    if points < 0:
        raise InvalidInput(ERR_POINTS_NEGATIVE, field="points")
    if redeem_journal.kind != JournalKind.REDEEM:
        raise InvalidInput(ERR_NOT_A_REDEMPTION)
    at = aware(at)
    if points == 0:
        return None
    with transaction.atomic():
        uses = LotUse.objects.filter(
            Q(journal=redeem_journal) | Q(journal__reverses=redeem_journal, amount__lt=0)
        ).values_list("lot_id", "amount")
        taken: dict[int, int] = defaultdict(int)
        for lot_id, amount in uses:
            taken[lot_id] += int(amount)
        lot_ids = [lot_id for lot_id, amount in taken.items() if amount > 0]
        if not lot_ids:
            return None
        account = Account.objects.get(lots__pk=lot_ids[0])
        accounts_lock([account])
        lots = _lock_lots(
            PointLot.objects.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=at), pk__in=lot_ids
            ).order_by(F("expires_at").desc(nulls_first=True), "-id")
        )
        plan: list[tuple[PointLot, int]] = []
        left = points
        for lot in lots:
            give = min(left, taken[lot.pk], int(lot.amount - lot.remaining))
            if give > 0:
                plan.append((lot, give))
                left -= give
        given = points - left
        if given == 0:
            return None
        journal = journal_post(
            merchant=redeem_journal.merchant,
            kind=JournalKind.REVERSAL,
            key=key,
            postings=[(account, given), (_counter_account(redeem_journal), -given)],
            reverses=redeem_journal,
            memo=f"refund: {given} points given back",
            posted_at=at,
        )
        for lot, give in plan:
            _take(lot, journal, -give)
    return journal


def points_expire_due(*, merchant: Merchant, now: datetime) -> int:
    """Expire every lot of the merchant whose ``expires_at`` is at or before ``now``.

    One journal per lot (key ``expire:lot:<lot id>``), each in its own database transaction
    with the account and the lot locked, so a failure half-way keeps what was done and a
    second run (or a concurrent one) expires nothing more. Returns the points expired.
    """
    now = aware(now)
    due = list(
        PointLot.objects.filter(
            account__merchant=merchant, remaining__gt=0, expires_at__lte=now
        ).values_list("pk", "account_id")
    )
    if not due:
        return 0
    expired_account = system_account(merchant=merchant, code="points_expired")
    total = 0
    for lot_id, account_id in due:
        with transaction.atomic():
            locked = accounts_lock([Account(pk=account_id)])
            lot = PointLot.objects.select_for_update().get(pk=lot_id)
            points = int(lot.remaining)
            if points == 0:
                continue
            key = f"expire:lot:{lot.pk}"
            if Journal.objects.filter(merchant=merchant, key=key).exists():
                continue
            journal = journal_post(
                merchant=merchant,
                kind=JournalKind.EXPIRE,
                key=key,
                postings=[(locked[account_id], -points), (expired_account, points)],
                memo=f"{points} points expired at {lot.expires_at.isoformat()}",
                posted_at=now,
            )
            _take(lot, journal, points)
            total += points
    return total


# -- reads -------------------------------------------------------------------------------------


def points_balance(*, customer: Customer, at: datetime | None = None) -> int:
    """Points the customer can redeem at ``at`` (default: now): the ledger balance without
    lots that have expired by then but that the expiry run has not processed yet (the two
    agree once it has run)."""
    account = Account.objects.filter(customer=customer, kind=AccountKind.POINTS).first()
    if account is None:
        return 0
    lapsed = PointLot.objects.filter(
        account=account,
        remaining__gt=0,
        expires_at__lte=aware(at) if at is not None else timezone.now(),
    ).aggregate(total=Sum("remaining"))["total"]
    return int(account.balance - (lapsed or ZERO))


def points_expiring(
    *, merchant: Merchant, within_days: int, now: datetime
) -> list[tuple[Customer, int, datetime]]:
    """Customers with points expiring after ``now`` and at most ``within_days`` days later,
    for reminders: ``(customer, points expiring in that period, earliest expiry)``, soonest
    first."""
    now = aware(now)
    rows = (
        PointLot.objects.filter(
            account__merchant=merchant,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=within_days),
        )
        .values("account__customer")
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
        .order_by("first", "account__customer")
    )
    rows = list(rows)
    customers = Customer.objects.in_bulk([r["account__customer"] for r in rows])
    return [(customers[r["account__customer"]], int(r["points"]), r["first"]) for r in rows]
