"""Posting to the double-entry ledger, and checking it.

Every movement of points, store credit or tab money goes through :func:`journal_post`. The
database does the rest (see :mod:`langganan.loyalty.models`): entries cannot be changed or
deleted, each entry updates its account's balance, and a balance below its floor is refused.

Locking: a service that reads a balance and then posts against it first calls
:func:`accounts_lock` (``SELECT … FOR UPDATE`` on PostgreSQL, in id order so that two requests
never wait on each other crosswise; on SQLite the IMMEDIATE transaction already holds the write
lock). Even without the lock a race cannot overdraw: the database's CHECK refuses the second
posting, which then fails with :class:`InsufficientBalance`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from langganan.core import settings_cache, units
from langganan.core.errors import Conflict, InvalidInput, LanggananError
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.models import (
    SYSTEM_ACCOUNTS,
    Account,
    AccountKind,
    Entry,
    Journal,
    Unit,
)
from langganan.sales.models import Transaction

ERR_INSUFFICIENT = "not enough balance: the {kind} balance would fall below its limit"
ERR_UNBALANCED = "a journal's entries must sum to zero per unit; got {sums}"
ERR_DUPLICATE_KEY = "this ledger event was already posted ({key})"
ERR_OTHER_MERCHANT = "an account of another merchant cannot be posted to"
ERR_ZERO = "a ledger entry cannot be zero"
_FLOOR_CONSTRAINT = "account_balance_at_least_floor"

_UNITS = {
    AccountKind.POINTS: Unit.POINTS,
    AccountKind.CREDIT: Unit.RUPIAH,
    AccountKind.TAB: Unit.RUPIAH,
}


class InsufficientBalance(LanggananError):
    code = "insufficient_balance"


class DuplicateJournal(Conflict):
    code = "duplicate_event"


def customer_account(*, customer: Customer, kind: str) -> Account:
    """The customer's account of ``kind`` (points, credit or tab), created on first use.

    A new tab has no credit (floor 0) until the merchant sets a limit.
    """
    kind = AccountKind(kind)
    if kind == AccountKind.SYSTEM:
        raise InvalidInput("use system_account() for merchant counter-accounts")
    account = Account.objects.filter(customer=customer, kind=kind).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                merchant_id=customer.merchant_id,
                customer=customer,
                kind=kind,
                unit=_UNITS[kind],
                floor=Decimal("0"),
            )
    except IntegrityError:  # created meanwhile by a concurrent request
        return Account.objects.get(customer=customer, kind=kind)


CUSTOMER_KINDS = (AccountKind.POINTS, AccountKind.CREDIT, AccountKind.TAB)


def customer_accounts_lock(*, customer: Customer) -> dict[str, Account]:
    """The customer's points, credit and tab accounts, by kind: created when missing, locked
    (in id order, like :func:`accounts_lock`) and fresh. One query when they all exist.

    Must run inside ``transaction.atomic``.
    """
    from langganan.loyalty.customer_rows import customer_accounts_of

    def locked() -> dict[str, Account]:
        # one hand-written query (the ORM's select_for_update cost about 1 ms more of CPU)
        return {a.kind: a for a in customer_accounts_of(customer, lock=True)}

    accounts = locked()
    if len(accounts) < len(CUSTOMER_KINDS):
        # first use: create the missing ones (new rows get higher ids than the ones already
        # locked, so the id order holds), then lock them all
        for kind in CUSTOMER_KINDS:
            if kind not in accounts:
                customer_account(customer=customer, kind=kind)
        accounts = locked()
    return accounts


def system_accounts(*, merchant: Merchant, codes: Iterable[str]) -> dict[str, Account]:
    """The merchant's counter-accounts ``codes``, by code, created on first use; one query when
    they all exist."""
    codes = set(codes)
    unknown = codes - set(SYSTEM_ACCOUNTS)
    if unknown:
        raise InvalidInput(f"unknown system account {sorted(unknown)[0]!r}")
    if not codes:
        return {}
    every = settings_cache.rows(
        merchant,
        "system_accounts",
        lambda: Account.objects.filter(merchant=merchant, customer=None),
    )
    found = {a.code: a for a in every if a.code in codes}
    missing = codes - set(found)
    for code in missing:
        found[code] = system_account(merchant=merchant, code=code)
    if missing:  # made on first use: the next call reads them with the others
        settings_cache.forget(merchant, "system_accounts")
    return found


def system_account(*, merchant: Merchant, code: str) -> Account:
    """The merchant's counter-account ``code`` (see ``SYSTEM_ACCOUNTS``), created on first use."""
    if code not in SYSTEM_ACCOUNTS:
        raise InvalidInput(f"unknown system account {code!r}")
    account = Account.objects.filter(merchant=merchant, customer=None, code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                merchant=merchant, kind=AccountKind.SYSTEM, code=code, unit=SYSTEM_ACCOUNTS[code]
            )
    except IntegrityError:
        return Account.objects.get(merchant=merchant, customer=None, code=code)


def accounts_lock(accounts: Iterable[Account]) -> dict[int, Account]:
    """Lock the accounts' rows (in id order) and return them fresh, by id.

    Must run inside ``transaction.atomic``.
    """
    ids = sorted({a.pk for a in accounts})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {a.pk: a for a in locked}


def journal_post(
    *,
    merchant: Merchant,
    kind: str,
    key: str,
    postings: Sequence[tuple[Account, Decimal | int]],
    transaction_obj: Transaction | None = None,
    reverses: Journal | None = None,
    memo: str = "",
    posted_at: datetime | None = None,
) -> Journal:
    """Post one balanced journal.

    Parameters
    ----------
    key
        Unique per merchant for this business event (e.g. ``"sale:123:earn"``); posting the
        same key again raises :class:`DuplicateJournal` and changes nothing.
    postings
        ``(account, amount)`` pairs; positive adds to the account. Zero amounts are skipped;
        per unit (points, Rupiah) the amounts must sum to zero.

    Raises
    ------
    InsufficientBalance
        When an account would fall below its floor (refused by the database).
    """
    lines = [(acc, Decimal(amount)) for acc, amount in postings if Decimal(amount) != 0]
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for account, amount in lines:
        if account.merchant_id != merchant.pk:
            raise InvalidInput(ERR_OTHER_MERCHANT)
        sums[account.unit] += amount
    if any(total != 0 for total in sums.values()):
        raise InvalidInput(ERR_UNBALANCED.format(sums=dict(sums)))
    when = posted_at or timezone.now()
    try:
        with units.atomic():
            journal = Journal.objects.create(
                merchant=merchant,
                kind=kind,
                key=key,
                transaction=transaction_obj,
                reverses=reverses,
                memo=memo[:200],
                posted_at=when,
            )
            # one INSERT; the balance trigger runs for each row (FOR EACH ROW)
            Entry.objects.bulk_create(
                [
                    Entry(journal=journal, account=account, amount=amount, posted_at=when)
                    for account, amount in lines
                ]
            )
    except IntegrityError as exc:
        text = str(exc)
        if _FLOOR_CONSTRAINT in text or "CHECK constraint failed" in text:
            short = next(
                (acc for acc, amount in lines if amount < 0 and acc.kind != AccountKind.SYSTEM),
                None,
            )
            label = short.get_kind_display().lower() if short else "account"
            raise InsufficientBalance(ERR_INSUFFICIENT.format(kind=label)) from exc
        if "journal_key_unique" in text or "loyalty_journal.merchant_id" in text:
            raise DuplicateJournal(ERR_DUPLICATE_KEY.format(key=key)) from exc
        raise
    # the database moved the balances (trigger); the caller's objects follow, so a service
    # that holds the accounts' row locks knows the new balances without reading them again
    for account, amount in lines:
        account.balance = Decimal(account.balance) + amount
    return journal


def balance_of(account: Account) -> Decimal:
    """The account's current balance, read from the database."""
    return Account.objects.values_list("balance", flat=True).get(pk=account.pk)


def ledger_discrepancies(merchant: Merchant) -> list[tuple[int, Decimal, Decimal]]:
    """Accounts whose cached balance differs from the sum of their entries, and journals that
    do not balance — ``(account id, balance, sum)``; empty when the ledger is consistent."""
    sums = dict(
        Entry.objects.filter(account__merchant=merchant)
        .values_list("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    wrong = []
    for pk, cached in Account.objects.filter(merchant=merchant).values_list("pk", "balance"):
        total = sums.get(pk) or Decimal("0")
        if Decimal(cached) != Decimal(total).quantize(Decimal("0.01")):
            wrong.append((pk, Decimal(cached), Decimal(total)))
    per_journal: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    rows = Entry.objects.filter(journal__merchant=merchant).values_list(
        "journal", "account__unit", "amount"
    )
    for journal_id, unit, amount in rows.iterator():
        per_journal[(journal_id, unit)] += Decimal(amount)
    for (journal_id, _unit), total in per_journal.items():
        if total != 0:
            wrong.append((-journal_id, Decimal("0"), total))
    return wrong
