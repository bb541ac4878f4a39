"""The tab ("kasbon", "ngutang"): a customer buys now and pays later, up to a credit limit.

The tab is the customer's ledger account of kind ``tab``. Its balance is negative while the
customer owes (``-balance`` is the debt) and its floor is minus the credit limit, so the
database refuses a charge beyond the limit even when two cashiers race. A new tab has no
credit (limit 0) until the merchant sets one with :func:`tab_set_limit`.

Postings (counter-accounts are the merchant's ``tab_*`` system accounts):

=================== =================== =========================================
event               tab account         counter-account
=================== =================== =========================================
charge (a sale)     − amount            ``tab_sales`` + amount
payment             + amount            ``tab_payments`` − amount
refund of a charge  + amount            ``tab_sales`` − amount (reverses the charge)
opening balance     − debt              ``tab_opening`` + debt (see ``opening.py``)
=================== =================== =========================================

Ageing (:func:`tab_ageing`) splits what a customer owes by the age of the unpaid charges.
Policy: a payment settles the **oldest** unpaid charges first (FIFO); a refund of a charge
(:func:`tab_credit_back`) first settles the charge it refunds, and anything it has left
settles the oldest ones. The age of a charge is counted in whole calendar days in the
merchant's time zone, from the day it was posted to the day of ``at``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Sum

from langganan.core import units
from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.core.money import format_rupiah, to_money
from langganan.customers.models import Customer
from langganan.loyalty.ledger import (
    InsufficientBalance,
    accounts_lock,
    customer_account,
    journal_post,
    system_account,
)
from langganan.loyalty.models import Account, AccountKind, Entry, Journal, JournalKind
from langganan.sales.models import Transaction

ZERO = Decimal("0")

ERR_LIMIT_NEGATIVE = "a tab limit cannot be negative"
ERR_LIMIT_BELOW_OWED = (
    "the customer already owes {owed}, more than the new limit {limit}: "
    "take a payment first or set a higher limit"
)
ERR_AMOUNT_NOT_POSITIVE = "the amount must be more than zero"
ERR_OVER_LIMIT = (
    "over the tab limit: the customer owes {owed} of a {limit} limit, "
    "so at most {available} more can be charged"
)
ERR_PAY_MORE_THAN_OWED = "a payment of {amount} is more than the customer owes ({owed})"
ERR_NOT_A_TAB_CHARGE = "only a tab charge can be credited back"
ERR_OTHER_MERCHANT = "the sale belongs to another merchant"

#: Ageing buckets: (label, lowest age in days, highest age in days or None).
AGEING_BUCKETS = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def _positive(amount: Decimal | int | str) -> Decimal:
    value = to_money(amount)
    if value <= 0:
        raise InvalidInput(ERR_AMOUNT_NOT_POSITIVE, field="amount")
    return value


def _owed(account: Account) -> Decimal:
    return max(ZERO, -Decimal(account.balance))


def _limit(account: Account) -> Decimal:
    return -Decimal(account.floor or 0) + ZERO  # "+ ZERO" turns -0 into 0


def _tab_locked(customer: Customer) -> Account:
    """The customer's tab, locked for the rest of the transaction, with fresh values."""
    account = customer_account(customer=customer, kind=AccountKind.TAB)
    return accounts_lock([account])[account.pk]


# -- services ---------------------------------------------------------------------------------


def tab_set_limit(
    *,
    customer: Customer,
    limit: Decimal,
    at: datetime,
    by=None,
    request=None,
    actor: str = "",
) -> Account:
    """Set how much ``customer`` may owe (the tab account's floor becomes ``-limit``).

    Refused with :data:`ERR_LIMIT_BELOW_OWED` when the customer already owes more than the new
    limit (exactly the new limit is fine), and with :data:`ERR_LIMIT_NEGATIVE` below zero.
    ``at`` is when the merchant decided it; the account keeps only the current limit.

    Every change is recorded in the audit log (action ``tab.limit``, in the same database
    transaction) with who made it: the dashboard ``request``'s user, else the user ``by``, else
    ``actor`` (``"CLI"`` by default), and the previous and new limit; the history of a
    customer's limit is :func:`tab_limit_history`. Setting the limit it already has records
    nothing.
    """
    from langganan.privacy import audit

    value = to_money(limit)
    if value < 0:
        raise InvalidInput(ERR_LIMIT_NEGATIVE, field="limit")
    with transaction.atomic():
        account = _tab_locked(customer)
        owed = _owed(account)
        if owed > value:
            raise InvalidInput(
                ERR_LIMIT_BELOW_OWED.format(
                    owed=format_rupiah(owed, cents=True), limit=format_rupiah(value, cents=True)
                ),
                field="limit",
            )
        previous = _limit(account)
        if previous == value:
            return account
        account.floor = -value
        account.save(update_fields=["floor"])
        audit.record(
            request,
            customer.merchant,
            "tab.limit",
            customer,
            actor=actor,
            user=by,
            limit=str(value),
            previous=str(previous),
            owed=str(owed),
            decided_at=at,
        )
    return account


@dataclass
class LimitChange:
    """One change of a customer's tab limit, from the audit log."""

    at: datetime
    previous: Decimal | None
    limit: Decimal
    by: str


def tab_limit_history(*, customer: Customer, limit: int = 20) -> list[LimitChange]:
    """The latest changes of the customer's tab limit, newest first: when, from what to what,
    and who (the user's name at the time, or what acted without one)."""
    from langganan.privacy.models import AuditEvent

    events = AuditEvent.objects.filter(
        merchant_id=customer.merchant_id,
        action="tab.limit",
        object_type=customer._meta.label_lower,
        object_id=str(customer.pk),
    ).order_by("-at", "-id")[:limit]
    rows = []
    for event in events:
        detail = event.detail or {}
        previous = detail.get("previous")
        rows.append(
            LimitChange(
                at=event.at,
                previous=to_money(previous) if previous not in (None, "") else None,
                limit=to_money(detail.get("limit") or 0),
                by=event.actor,
            )
        )
    return rows


def tab_charge(
    *,
    customer: Customer,
    amount: Decimal,
    key: str,
    at: datetime,
    transaction_obj: Transaction | None = None,
) -> Journal:
    """Put ``amount`` on the customer's tab (the customer owes it).

    Raises :class:`InsufficientBalance` (:data:`ERR_OVER_LIMIT`) when the debt would pass the
    limit; reaching the limit exactly is allowed.
    """
    value = _positive(amount)
    if transaction_obj is not None and transaction_obj.merchant_id != customer.merchant_id:
        raise InvalidInput(ERR_OTHER_MERCHANT)
    with units.atomic():
        account = _tab_locked(customer)
        available = Decimal(account.balance) - Decimal(account.floor or 0)
        if value > available:
            raise InsufficientBalance(
                ERR_OVER_LIMIT.format(
                    owed=format_rupiah(_owed(account), cents=True),
                    limit=format_rupiah(_limit(account), cents=True),
                    available=format_rupiah(max(ZERO, available), cents=True),
                )
            )
        return journal_post(
            merchant=customer.merchant,
            kind=JournalKind.TAB_CHARGE,
            key=key,
            postings=[
                (account, -value),
                (system_account(merchant=customer.merchant, code="tab_sales"), value),
            ],
            transaction_obj=transaction_obj,
            posted_at=at,
        )


def tab_pay(
    *, customer: Customer, amount: Decimal, key: str, at: datetime, memo: str = ""
) -> Journal:
    """Record a payment of ``amount`` towards the customer's debt.

    Refused (:data:`ERR_PAY_MORE_THAN_OWED`) when it is more than the customer owes: the tab
    never holds money for the customer (that is store credit).
    """
    value = _positive(amount)
    with transaction.atomic():
        account = _tab_locked(customer)
        owed = _owed(account)
        if value > owed:
            raise InvalidInput(
                ERR_PAY_MORE_THAN_OWED.format(
                    amount=format_rupiah(value, cents=True), owed=format_rupiah(owed, cents=True)
                ),
                field="amount",
            )
        return journal_post(
            merchant=customer.merchant,
            kind=JournalKind.TAB_PAYMENT,
            key=key,
            postings=[
                (account, value),
                (system_account(merchant=customer.merchant, code="tab_payments"), -value),
            ],
            memo=memo,
            posted_at=at,
        )


def tab_credit_back(
    *,
    charge_journal: Journal,
    amount: Decimal,
    key: str,
    at: datetime,
    transaction_obj: Transaction | None = None,
) -> Journal | None:
    """Refund (part of) a sale that was charged to the tab: the debt goes down.

    The amount credited back is the smallest of ``amount``, what is left of the charge after
    earlier credit-backs of it, and what the customer owes now; ``None`` when that is zero
    (nothing is posted). Whatever part of ``amount`` is not credited back here (the customer had
    already paid for the sale) must be refunded another way (cash or store credit): the
    returned journal's tab entry says how much was taken off the debt.
    ``transaction_obj`` is the refund transaction, when there is one.
    """
    value = _positive(amount)
    if charge_journal.kind != JournalKind.TAB_CHARGE:
        raise InvalidInput(ERR_NOT_A_TAB_CHARGE)
    merchant = charge_journal.merchant
    with transaction.atomic():
        charge_entry = (
            Entry.objects.select_related("account")
            .filter(journal=charge_journal, account__kind=AccountKind.TAB)
            .get()
        )
        account = accounts_lock([charge_entry.account])[charge_entry.account_id]
        credited = (
            Entry.objects.filter(account=account, journal__reverses=charge_journal).aggregate(
                total=Sum("amount")
            )["total"]
            or ZERO
        )
        left = -Decimal(charge_entry.amount) - Decimal(credited)
        back = min(value, left, _owed(account))
        if back <= 0:
            return None
        return journal_post(
            merchant=merchant,
            kind=JournalKind.REVERSAL,
            key=key,
            postings=[
                (account, back),
                (system_account(merchant=merchant, code="tab_sales"), -back),
            ],
            reverses=charge_journal,
            transaction_obj=transaction_obj,
            memo=f"refund of {charge_journal.key}",
            posted_at=at,
        )


# -- selectors --------------------------------------------------------------------------------


def tab_balance(*, customer: Customer) -> tuple[Decimal, Decimal]:
    """``(owed, limit)`` of the customer's tab; ``(0, 0)`` when there is none yet."""
    account = Account.objects.filter(customer=customer, kind=AccountKind.TAB).first()
    if account is None:
        return ZERO, ZERO
    return _owed(account), _limit(account)


@dataclass
class TabAgeing:
    """What one customer owes, split by the age of the unpaid charges."""

    customer: Customer
    owed: Decimal
    limit: Decimal
    days_0_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    days_over_90: Decimal = ZERO
    oldest_unpaid_on: date | None = None

    @property
    def buckets(self) -> dict[str, Decimal]:
        return dict(
            zip(
                [label for label, _low, _high in AGEING_BUCKETS],
                [self.days_0_30, self.days_31_60, self.days_61_90, self.days_over_90],
                strict=True,
            )
        )


@dataclass
class _Charge:
    day: date
    journal_id: int
    remaining: Decimal


@dataclass
class _TabHistory:
    open: deque[_Charge] = field(default_factory=deque)
    advance: Decimal = ZERO  # credit beyond the debt (never made by the services here)

    def charge(self, day: date, journal_id: int, amount: Decimal) -> None:
        used = min(self.advance, amount)
        self.advance -= used
        if amount - used > 0:
            self.open.append(_Charge(day, journal_id, amount - used))

    def credit(self, amount: Decimal, reverses_id: int | None) -> None:
        if reverses_id is not None:  # a refund settles the charge it refunds first
            for item in self.open:
                if item.journal_id == reverses_id:
                    used = min(item.remaining, amount)
                    item.remaining -= used
                    amount -= used
                    break
        while amount > 0 and self.open:  # then the oldest charges first (FIFO)
            item = self.open[0]
            used = min(item.remaining, amount)
            item.remaining -= used
            amount -= used
            if item.remaining == 0:
                self.open.popleft()
        self.advance += amount
        while self.open and self.open[0].remaining == 0:
            self.open.popleft()


def _bucket_field(age: int) -> str:
    if age <= 30:
        return "days_0_30"
    if age <= 60:
        return "days_31_60"
    if age <= 90:
        return "days_61_90"
    return "days_over_90"


def tab_ageing(*, merchant: Merchant, at: datetime) -> list[TabAgeing]:
    """Every customer who owes on their tab as of ``at``, largest debt first.

    Each unpaid charge is aged in whole days in the merchant's time zone: a charge posted on
    the same day as ``at`` is 0 days old, 30 days old is still in "0-30", 31 days goes to
    "31-60", and so on; more than 90 days is "90+". Payments settle the oldest charges first.
    Entries posted after ``at`` are ignored.
    """
    zone = ZoneInfo(merchant.time_zone or "Asia/Jakarta")
    today = at.astimezone(zone).date()
    accounts = {
        a.pk: a
        for a in Account.objects.filter(merchant=merchant, kind=AccountKind.TAB).select_related(
            "customer"
        )
    }
    histories: dict[int, _TabHistory] = {}
    entries = (
        Entry.objects.filter(
            account__merchant=merchant, account__kind=AccountKind.TAB, posted_at__lte=at
        )
        .order_by("account_id", "posted_at", "journal_id", "id")
        .values_list("account_id", "journal_id", "journal__reverses_id", "amount", "posted_at")
    )
    for account_id, journal_id, reverses_id, amount, posted_at in entries.iterator():
        history = histories.setdefault(account_id, _TabHistory())
        amount = Decimal(amount)
        if amount < 0:
            history.charge(posted_at.astimezone(zone).date(), journal_id, -amount)
        else:
            history.credit(amount, reverses_id)
    rows = []
    for account_id, history in histories.items():
        owed = sum((item.remaining for item in history.open), ZERO)
        if owed <= 0:
            continue
        account = accounts[account_id]
        row = TabAgeing(customer=account.customer, owed=to_money(owed), limit=_limit(account))
        for item in history.open:
            name = _bucket_field((today - item.day).days)
            setattr(row, name, to_money(getattr(row, name) + item.remaining))
        row.oldest_unpaid_on = history.open[0].day
        rows.append(row)
    rows.sort(key=lambda r: (-r.owed, str(r.customer), r.customer.pk))
    return rows
