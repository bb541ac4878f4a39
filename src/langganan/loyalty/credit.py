"""Store credit ("saldo"): cashback on a sale, spending it, taking it back on a refund.

Postings (customer account ``credit``, floor 0):

=========================== =============== ===========================
event                       customer        counter-account
=========================== =============== ===========================
cashback / grant            + amount        ``credit_issued`` − amount
spend                       − amount        ``credit_spent`` + amount
refund of a granting sale   − amount        ``credit_issued`` + amount
=========================== =============== ===========================
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from langganan.core import settings_cache, units
from langganan.core.errors import InvalidInput
from langganan.core.money import CENT, format_rupiah
from langganan.customers.models import Customer
from langganan.loyalty.ledger import (
    InsufficientBalance,
    accounts_lock,
    customer_account,
    journal_post,
    system_account,
)
from langganan.loyalty.members import aware, merchant_zone
from langganan.loyalty.models import (
    Account,
    AccountKind,
    Entry,
    Journal,
    JournalKind,
    Program,
    Tier,
)
from langganan.sales.models import Transaction

ZERO = Decimal("0.00")
RUPIAH = Decimal("1")

ERR_AMOUNT_NEGATIVE = "the amount cannot be negative"
ERR_AMOUNT_NOT_POSITIVE = "the amount must be more than zero"
ERR_AMOUNT_CENTS = "an amount has at most two decimals"
ERR_CREDIT_KIND = "{kind!r} is not a ledger event kind"
ERR_NOT_ENOUGH_CREDIT = "not enough store credit: {available} available, {requested} requested"
ERR_NOT_A_GRANT = "this journal did not grant store credit"
ERR_GIVEN_ACCOUNT = (
    "the account given is not the customer's (or the merchant's) account of this kind"
)


def cashback_for_sale(
    *, program: Program, tier: Tier | None, total: Decimal, at: datetime
) -> Decimal:
    """Store credit a sale earns. Pure: reads only the program's cashback rules.

    ``cashback = best rule + tier.cashback_rate × total``, rounded **down to whole Rupiah**
    (returned with two decimals, e.g. ``Decimal("1234.00")``), where the best rule is the
    largest amount among the active rules whose ``min_spend <= total`` (a total exactly at
    the minimum qualifies) and whose ``starts_on``…``ends_on`` (both included) contains the
    sale's local date; a rule gives ``rate × total`` capped by ``max_amount`` or its fixed
    ``amount`` (also capped by ``max_amount`` if set). Only one rule counts, never their sum.
    0 for a total of 0 or less and when the program is switched off.
    """
    total = Decimal(total)
    if not program.is_active or total <= 0:
        return ZERO
    day = timezone.localtime(aware(at), merchant_zone(program.merchant)).date()
    best = ZERO
    rules = settings_cache.rows(
        program.merchant,
        f"cashback_rules:{program.pk}",
        lambda: program.cashback_rules.filter(is_active=True),
    )
    for rule in rules:
        if rule.min_spend > total:
            continue
        if (rule.starts_on is not None and day < rule.starts_on) or (
            rule.ends_on is not None and day > rule.ends_on
        ):
            continue
        value = rule.rate * total if rule.rate is not None else Decimal(rule.amount)
        if rule.max_amount is not None:
            value = min(value, rule.max_amount)
        best = max(best, value)
    if tier is not None:
        best += tier.cashback_rate * total
    return best.quantize(RUPIAH, rounding=ROUND_DOWN).quantize(CENT)


def _amount(amount: Decimal | int | str, *, positive: bool) -> Decimal:
    value = Decimal(amount)
    if value != value.quantize(CENT):
        raise InvalidInput(ERR_AMOUNT_CENTS, field="amount")
    if value < 0 or (positive and value == 0):
        raise InvalidInput(
            ERR_AMOUNT_NOT_POSITIVE if positive else ERR_AMOUNT_NEGATIVE, field="amount"
        )
    return value.quantize(CENT)


def credit_grant(
    *,
    customer: Customer,
    amount: Decimal,
    key: str,
    at: datetime,
    kind: str = "cashback",
    transaction_obj: Transaction | None = None,
    memo: str = "",
    account: Account | None = None,
    counter: Account | None = None,
) -> Journal | None:
    """Add ``amount`` of store credit (issued from ``credit_issued``); ``None`` for 0.

    ``account`` (the customer's credit account) and ``counter`` (``credit_issued``) may be
    passed by a caller that already holds them (the checkout).

    Raises
    ------
    InvalidInput
        A negative amount, more than two decimals, or an unknown ``kind``.
    DuplicateJournal
        ``key`` was already posted.
    """
    amount = _amount(amount, positive=False)
    if kind not in JournalKind.values:
        raise InvalidInput(ERR_CREDIT_KIND.format(kind=kind), field="kind")
    if amount == 0:
        return None
    at = aware(at)
    merchant = customer.merchant
    if account is not None and (
        account.customer_id != customer.pk or account.kind != AccountKind.CREDIT
    ):
        raise InvalidInput(ERR_GIVEN_ACCOUNT)
    if counter is not None and (
        counter.merchant_id != merchant.pk or counter.code != "credit_issued"
    ):
        raise InvalidInput(ERR_GIVEN_ACCOUNT)
    with units.atomic():
        return journal_post(
            merchant=merchant,
            kind=kind,
            key=key,
            postings=[
                (account or customer_account(customer=customer, kind=AccountKind.CREDIT), amount),
                (counter or system_account(merchant=merchant, code="credit_issued"), -amount),
            ],
            transaction_obj=transaction_obj,
            memo=memo,
            posted_at=at,
        )


def credit_spend(
    *,
    customer: Customer,
    amount: Decimal,
    key: str,
    at: datetime,
    transaction_obj: Transaction | None = None,
) -> Journal:
    """Pay ``amount`` with the customer's store credit.

    Raises
    ------
    InvalidInput
        :data:`ERR_AMOUNT_NOT_POSITIVE`, or more than two decimals.
    InsufficientBalance
        :data:`ERR_NOT_ENOUGH_CREDIT`; nothing is written.
    """
    amount = _amount(amount, positive=True)
    at = aware(at)
    merchant = customer.merchant
    with units.atomic():
        account = customer_account(customer=customer, kind=AccountKind.CREDIT)
        spent = system_account(merchant=merchant, code="credit_spent")
        account = accounts_lock([account])[account.pk]
        if account.balance < amount:
            raise InsufficientBalance(
                ERR_NOT_ENOUGH_CREDIT.format(
                    available=format_rupiah(account.balance, cents=True),
                    requested=format_rupiah(amount, cents=True),
                )
            )
        return journal_post(
            merchant=merchant,
            kind=JournalKind.CREDIT_SPEND,
            key=key,
            postings=[(account, -amount), (spent, amount)],
            transaction_obj=transaction_obj,
            posted_at=at,
        )


def credit_take_back(
    *, grant_journal: Journal, amount: Decimal, key: str, at: datetime
) -> Journal | None:
    """Refund of a sale that earned store credit: take back up to ``amount``.

    Never more than what the grant gave minus what earlier take-backs of it took, and never
    more than the customer still has (credit already spent stays spent). Returns ``None``
    when nothing is taken back. The reversal journal ``reverses`` the grant.
    """
    amount = _amount(amount, positive=False)
    at = aware(at)
    if amount == 0:
        return None
    with transaction.atomic():
        granted = (
            Entry.objects.filter(journal=grant_journal, account__kind=AccountKind.CREDIT)
            .select_related("account")
            .first()
        )
        if granted is None or granted.amount <= 0:
            raise InvalidInput(ERR_NOT_A_GRANT)
        account = accounts_lock([granted.account])[granted.account_id]
        already = -(
            Entry.objects.filter(journal__reverses=grant_journal, account=account).aggregate(
                total=Sum("amount")
            )["total"]
            or ZERO
        )
        take = min(amount, granted.amount - already, account.balance)
        if take <= 0:
            return None
        counter = Account.objects.get(entries__journal=grant_journal, kind=AccountKind.SYSTEM)
        return journal_post(
            merchant=grant_journal.merchant,
            kind=JournalKind.REVERSAL,
            key=key,
            postings=[(account, -take), (counter, take)],
            reverses=grant_journal,
            memo=f"refund: {format_rupiah(take, cents=True)} store credit taken back",
            posted_at=at,
        )


def credit_balance(*, customer: Customer) -> Decimal:
    """The customer's store credit (``Decimal("0.00")`` without an account)."""
    balance = (
        Account.objects.filter(customer=customer, kind=AccountKind.CREDIT)
        .values_list("balance", flat=True)
        .first()
    )
    return Decimal(balance if balance is not None else ZERO).quantize(CENT)
