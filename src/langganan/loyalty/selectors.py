"""Loyalty reads for the dashboard: one customer's membership, balances, vouchers, movements.

Every selector takes the merchant explicitly and reads only that merchant's rows. The customer
page's loyalty card costs a fixed number of queries whatever the history's length (at most
seven: program, membership, accounts, lots, vouchers, their free products, movements; four for
a customer who never had an account).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import prefetch_related_objects

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.customer_rows import customer_accounts_of, points_left_by_expiry
from langganan.loyalty.members import aware, program_of
from langganan.loyalty.models import (
    Account,
    AccountKind,
    Entry,
    JournalKind,
    Member,
    Program,
    Voucher,
)
from langganan.loyalty.vouchers import vouchers_active_for

ZERO = Decimal("0")
MOVEMENTS_SHOWN = 10

#: Journal kinds whose memo is written by a person (or names a reward), worth showing.
_MEMO_SHOWN = frozenset({JournalKind.REDEEM, JournalKind.ADJUST, JournalKind.TAB_PAYMENT})


@dataclass(frozen=True)
class Movement:
    """One ledger entry of the customer: when, what, on which balance, how much."""

    posted_at: datetime
    kind: str  # JournalKind value
    kind_label: str
    account_kind: str  # AccountKind value: points, credit or tab
    amount: Decimal  # points (whole) or Rupiah; positive adds to the customer's balance
    detail: str = ""  # the receipt number of the sale, or a memo worth showing
    transaction_id: int | None = None

    @property
    def is_points(self) -> bool:
        return self.account_kind == AccountKind.POINTS


@dataclass(frozen=True)
class CustomerLoyalty:
    """What the customer page shows about a customer's loyalty."""

    program: Program | None
    member: Member | None
    points: int = 0
    points_value: Decimal = ZERO  # what the redeemable points are worth at the program's rate
    next_expiry_points: int = 0
    next_expiry_at: datetime | None = None
    store_credit: Decimal = ZERO
    tab_owed: Decimal = ZERO
    tab_limit: Decimal = ZERO
    vouchers: list[Voucher] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def has_tab(self) -> bool:
        return self.tab_limit > 0 or self.tab_owed > 0


def customer_loyalty_get(
    *, merchant: Merchant, customer: Customer, at: datetime, movements: bool = True
) -> CustomerLoyalty:
    """The customer's loyalty at ``at``: membership and tier, redeemable points and the next
    points to expire after ``at``, store credit, tab, usable personal vouchers, and the last
    :data:`MOVEMENTS_SHOWN` ledger movements (newest first).

    Points are those :func:`~langganan.loyalty.points.points_balance` counts: the ledger balance
    without lots that have expired by ``at`` but that the expiry run has not processed yet.
    A customer of another merchant gets an empty answer (the caller already gave a 404).

    ``movements=False`` leaves the movements out (the cashier's card does not show them). A
    customer read with ``select_related("loyalty_member__tier")`` spares the membership query.
    """
    at = aware(at)
    if customer.merchant_id != merchant.pk:
        return CustomerLoyalty(program=None, member=None)
    program = program_of(merchant)
    member = _member_of(merchant, customer)
    accounts = {a.kind: a for a in customer_accounts_of(customer)}
    points, next_points, next_at = _points(accounts.get(AccountKind.POINTS), at)
    credit = accounts.get(AccountKind.CREDIT)
    tab = accounts.get(AccountKind.TAB)
    vouchers = vouchers_active_for(customer=customer, at=at)
    if any(v.free_product_id for v in vouchers):
        prefetch_related_objects(vouchers, "free_product")
    return CustomerLoyalty(
        program=program,
        member=member,
        points=points,
        points_value=points * program.point_value if program is not None else ZERO,
        next_expiry_points=next_points,
        next_expiry_at=next_at,
        store_credit=Decimal(credit.balance) if credit is not None else ZERO,
        tab_owed=max(ZERO, -Decimal(tab.balance)) if tab is not None else ZERO,
        tab_limit=-Decimal(tab.floor or 0) + ZERO if tab is not None else ZERO,
        vouchers=vouchers,
        movements=_movements(merchant, list(accounts.values())) if movements else [],
    )


def _member_of(merchant: Merchant, customer: Customer) -> Member | None:
    if Customer.loyalty_member.is_cached(customer):  # read with the customer
        try:
            member = customer.loyalty_member
        except Member.DoesNotExist:
            return None
        return member if member.merchant_id == merchant.pk else None
    return (
        Member.objects.filter(merchant=merchant, customer=customer).select_related("tier").first()
    )


def _points(account: Account | None, at: datetime) -> tuple[int, int, datetime | None]:
    """``(redeemable points, points of the next expiry, its time)`` in one query: the
    remaining points per expiry time (a member has one lot per earning, so at most about a
    year of visits)."""
    if account is None or Decimal(account.balance) <= 0:
        return 0, 0, None  # the lots' remaining points add up to the balance: none are left
    lapsed, upcoming = ZERO, None
    for expires_at, total in points_left_by_expiry(account):
        if expires_at <= at:
            lapsed += total
        else:
            upcoming = (expires_at, total)
            break
    points = int(Decimal(account.balance) - lapsed)
    if upcoming is None:
        return points, 0, None
    return points, int(upcoming[1]), upcoming[0]


def _movements(merchant: Merchant, accounts: list[Account]) -> list[Movement]:
    if not accounts:
        return []
    kinds = {a.pk: a.kind for a in accounts}
    entries = (
        Entry.objects.filter(account_id__in=list(kinds), journal__merchant=merchant)
        .select_related("journal", "journal__transaction")
        .order_by("-posted_at", "-id")[:MOVEMENTS_SHOWN]
    )
    movements = []
    for entry in entries:
        journal = entry.journal
        if journal.kind in _MEMO_SHOWN and journal.memo:
            detail = journal.memo
        elif journal.transaction is not None:
            detail = journal.transaction.external_id or f"#{journal.transaction_id}"
        else:
            detail = ""
        movements.append(
            Movement(
                posted_at=entry.posted_at,
                kind=journal.kind,
                kind_label=journal.get_kind_display(),
                account_kind=kinds[entry.account_id],
                amount=Decimal(entry.amount),
                detail=detail,
                transaction_id=journal.transaction_id,
            )
        )
    return movements
