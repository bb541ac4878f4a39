"""A day at the counter: the end-of-day summary per outlet and cashier (selectors only).

For one merchant-local calendar day (midnight to midnight in the merchant's time zone):

- **sales**: the number of sales and their total (revenue after discounts), and refunds apart;
- **payment methods**: what came in per method — each sale's payment rows
  (:class:`~langganan.sales.models.TransactionPayment`: a split sale counts its QRIS part as
  QRIS and its cash part as cash), refunds taken off, plus the tab payments taken that day by
  their method; store credit used and what went on the tab (kasbon) are shown as their own
  lines, since no money came in for them. A sale without payment rows (one written straight
  into the table, not through the checkout or an import) counts its total less what store
  credit and the tab paid for its ``payment_method``;
- **split sales**: the sales paid with more than one method;
- **points** issued (earned on the day's sales, referral rewards they triggered) and redeemed
  on them;
- **vouchers** used on the day's sales (not given back by a refund) and their discount;
- **tab** charged by the day's sales, and paid that day (from the counter, a POS or imports);
- **new members**: customers enrolled in the program that day, by where they signed up.

Each sale is counted for its outlet and the staff user who recorded it
(``Transaction.recorded_by``: the counter screen sets it; the POS API and imports leave it
empty, shown as "POS / import"); a tab payment for its outlet and who took it
(:class:`~langganan.loyalty.models.TabPayment`). New members are counted for the merchant only
(an enrolment records no cashier).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum

from langganan.core.models import Merchant, Outlet
from langganan.loyalty.models import (
    Entry,
    JournalKind,
    Member,
    TabPayment,
    VoucherRedemption,
)
from langganan.sales.models import (
    PaymentMethod,
    Transaction,
    TransactionKind,
    TransactionPayment,
)

ZERO = Decimal("0")
#: the lines of the payment table that are not money coming in
STORE_CREDIT = "store_credit_used"
TAB = "tab_charged"
#: payment rows that are no money coming in (shown as store credit used and put on tabs)
NOT_MONEY_IN = {PaymentMethod.STORE_CREDIT.value, PaymentMethod.TAB.value}


@dataclass
class Figures:
    """The numbers of one group (a cashier at an outlet, an outlet, the whole merchant)."""

    sales_count: int = 0
    sales_total: Decimal = ZERO
    refunds_count: int = 0
    refunds_total: Decimal = ZERO  # negative, as recorded
    received: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    store_credit_used: Decimal = ZERO
    points_issued: int = 0
    points_redeemed: int = 0
    vouchers_used: int = 0
    voucher_discount: Decimal = ZERO
    tab_charged: Decimal = ZERO
    tab_paid: Decimal = ZERO
    split_count: int = 0

    @property
    def net_sales(self) -> Decimal:
        return self.sales_total + self.refunds_total

    @property
    def received_total(self) -> Decimal:
        return sum(self.received.values(), ZERO)

    @property
    def methods(self) -> list[tuple[str, Decimal]]:
        """``(method, amount)`` for each method with money, largest first."""
        return sorted(
            ((m, a) for m, a in self.received.items() if a), key=lambda item: (-item[1], item[0])
        )

    def add(self, other: Figures) -> None:
        for name in (
            "sales_count",
            "sales_total",
            "refunds_count",
            "refunds_total",
            "store_credit_used",
            "points_issued",
            "points_redeemed",
            "vouchers_used",
            "voucher_discount",
            "tab_charged",
            "tab_paid",
            "split_count",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for method, amount in other.received.items():
            self.received[method] += amount

    @property
    def empty(self) -> bool:
        return not (self.sales_count or self.refunds_count or self.tab_paid)


@dataclass
class CashierDay:
    user_id: int | None
    name: str  # the user's full name or username; "" for the POS API and imports
    figures: Figures


@dataclass
class OutletDay:
    outlet: Outlet | None  # None: tab payments without an outlet
    figures: Figures
    cashiers: list[CashierDay]


@dataclass
class DaySummary:
    day: date
    start: datetime
    end: datetime
    total: Figures
    outlets: list[OutletDay]
    new_members: int
    new_members_by_source: list[tuple[str, int]]


def day_bounds(merchant: Merchant, day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight of ``day`` in the merchant's time zone."""
    zone = ZoneInfo(merchant.time_zone or settings.TIME_ZONE)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def merchant_today(merchant: Merchant, now: datetime) -> date:
    return now.astimezone(ZoneInfo(merchant.time_zone or settings.TIME_ZONE)).date()


def day_summary(*, merchant: Merchant, day: date, outlet: Outlet | None = None) -> DaySummary:
    """The end-of-day summary of ``day`` (merchant-local), per outlet and cashier; only
    ``outlet``'s when given (a cashier's own: then tab payments without an outlet and new
    members, which no outlet records, are left out)."""
    start, end = day_bounds(merchant, day)
    groups: dict[tuple[int | None, int | None], Figures] = defaultdict(Figures)

    sales = Transaction.objects.filter(
        merchant=merchant, occurred_at__gte=start, occurred_at__lt=end
    )
    if outlet is not None:
        sales = sales.filter(outlet=outlet)
    transactions = list(
        sales.values_list("pk", "kind", "outlet_id", "recorded_by_id", "total", "payment_method")
    )
    group_of: dict[int, tuple[int | None, int | None]] = {}
    paid_by: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    sale_ids = [pk for pk, kind, *_rest in transactions if kind == TransactionKind.SALE]
    if sale_ids:
        for transaction_id, method, amount in TransactionPayment.objects.filter(
            transaction_id__in=sale_ids
        ).values_list("transaction_id", "method", "amount"):
            paid_by[transaction_id].append((method, amount))
    for pk, kind, outlet_id, user_id, total, method in transactions:
        key = (outlet_id, user_id)
        group_of[pk] = key
        figures = groups[key]
        if kind == TransactionKind.SALE:
            figures.sales_count += 1
            figures.sales_total += total
        else:
            figures.refunds_count += 1
            figures.refunds_total += total
        if pk in paid_by:  # the payment rows: money per method (store credit and tab apart)
            figures.split_count += len(paid_by[pk]) > 1
            for paid_method, amount in paid_by[pk]:
                if paid_method not in NOT_MONEY_IN:
                    figures.received[paid_method] += amount
        else:  # a refund, or a sale without rows: the tab and store credit parts come off below
            figures.received[method] += total

    # the ledger of the day's sales and refunds: points, store credit, tab
    ids = list(group_of)
    if ids:
        entries = (
            Entry.objects.filter(journal__transaction_id__in=ids, account__customer__isnull=False)
            .values_list("journal__transaction_id", "journal__kind", "account__kind")
            .annotate(total=Sum("amount"))
        )
        methods = dict((pk, method) for pk, _k, _o, _u, _t, method in transactions)
        for transaction_id, journal_kind, account_kind, amount in entries:
            figures = groups[group_of[transaction_id]]
            method = methods[transaction_id]
            if account_kind == "points":
                if journal_kind == JournalKind.REDEEM:
                    figures.points_redeemed += int(-amount)
                elif journal_kind in (JournalKind.EARN, JournalKind.REFERRAL, JournalKind.BONUS):
                    figures.points_issued += int(amount)
                elif journal_kind == JournalKind.REVERSAL:  # a refund's points
                    if amount < 0:
                        figures.points_issued += int(amount)  # taken back
                    else:
                        figures.points_redeemed -= int(amount)  # given back
            elif account_kind == "credit" and journal_kind == JournalKind.CREDIT_SPEND:
                figures.store_credit_used += -amount
                if transaction_id not in paid_by:
                    figures.received[method] += amount  # (negative) not money in
            elif account_kind == "tab" and journal_kind == JournalKind.TAB_CHARGE:
                figures.tab_charged += -amount
                if transaction_id not in paid_by:
                    figures.received[method] += amount
            elif account_kind == "tab" and journal_kind == JournalKind.REVERSAL:
                figures.tab_charged -= amount  # a refund credited back to the tab
                figures.received[method] += amount  # ... so no money went out
        vouchers = (
            VoucherRedemption.objects.filter(transaction_id__in=ids, reversed_at__isnull=True)
            .values_list("transaction_id")
            .annotate(n=Count("pk"), discount=Sum("discount"))
        )
        for transaction_id, n, discount in vouchers:
            figures = groups[group_of[transaction_id]]
            figures.vouchers_used += n
            figures.voucher_discount += discount or ZERO

    # tab payments that day: the counter's and the POS's with their method, outlet and user;
    # any other (an import) with no method, outlet or user
    paid = Entry.objects.filter(
        account__merchant=merchant,
        account__kind="tab",
        journal__kind=JournalKind.TAB_PAYMENT,
        posted_at__gte=start,
        posted_at__lt=end,
    ).values_list("journal_id", "amount")
    described = {
        p.journal_id: p
        for p in TabPayment.objects.filter(merchant=merchant, journal_id__in=[j for j, _a in paid])
    }
    for journal_id, amount in paid:
        payment = described.get(journal_id)
        if outlet is not None and (payment is None or payment.outlet_id != outlet.pk):
            continue
        key = (payment.outlet_id, payment.recorded_by_id) if payment else (None, None)
        figures = groups[key]
        figures.tab_paid += amount
        figures.received[payment.method if payment else "unknown"] += amount

    outlets = {o.pk: o for o in Outlet.objects.filter(merchant=merchant)}
    users = _user_names({user_id for _o, user_id in groups if user_id is not None})
    by_outlet: dict[int | None, OutletDay] = {}
    total = Figures()
    for (outlet_id, user_id), figures in groups.items():
        row = by_outlet.get(outlet_id)
        if row is None:
            row = by_outlet[outlet_id] = OutletDay(
                outlet=outlets.get(outlet_id), figures=Figures(), cashiers=[]
            )
        row.figures.add(figures)
        row.cashiers.append(CashierDay(user_id, users.get(user_id, ""), figures))
        total.add(figures)
    ordered = sorted(
        by_outlet.values(),
        key=lambda r: (
            r.outlet is None,
            r.outlet.name if r.outlet else "",
            r.outlet and r.outlet.pk,
        ),
    )
    for row in ordered:
        row.cashiers.sort(key=lambda c: (c.user_id is None, c.name.casefold(), c.user_id or 0))

    members = Member.objects.filter(merchant=merchant, enrolled_at__gte=start, enrolled_at__lt=end)
    sources = (
        members.values_list("customer__acquisition_source")
        .annotate(n=Count("pk"))
        .order_by("-n", "customer__acquisition_source")
    )
    by_source = [(source or "", n) for source, n in sources] if outlet is None else []
    return DaySummary(
        day=day,
        start=start,
        end=end,
        total=total,
        outlets=ordered,
        new_members=sum(n for _s, n in by_source),
        new_members_by_source=by_source,
    )


def _user_names(ids: set[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    names = {}
    for user in get_user_model().objects.filter(pk__in=ids):
        names[user.pk] = user.get_full_name() or user.get_username()
    return names
