"""Store credit: cashback on a sale, granting, spending, taking back on a refund."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import InvalidInput
from langganan.loyalty.credit import (
    ERR_AMOUNT_CENTS,
    ERR_AMOUNT_NEGATIVE,
    ERR_AMOUNT_NOT_POSITIVE,
    ERR_NOT_A_GRANT,
    ERR_NOT_ENOUGH_CREDIT,
    cashback_for_sale,
    credit_balance,
    credit_grant,
    credit_spend,
    credit_take_back,
)
from langganan.loyalty.ledger import (
    DuplicateJournal,
    InsufficientBalance,
    balance_of,
    ledger_discrepancies,
    system_account,
)
from langganan.loyalty.models import CashbackRule, Journal
from langganan.loyalty.points import points_earn
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
AT = datetime(2025, 3, 10, 12, 0, tzinfo=JAKARTA)


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def program():
    return ProgramFactory()


@pytest.fixture
def customer(program):
    return CustomerFactory(merchant=program.merchant)


def cashback(program, total, tier=None, at=AT) -> Decimal:
    return cashback_for_sale(program=program, tier=tier, total=Decimal(total), at=at)


def rule(program, **fields) -> CashbackRule:
    fields.setdefault("name", "Cashback")
    return CashbackRule.objects.create(program=program, **fields)


# -- cashback_for_sale -----------------------------------------------------------------------


def test_no_rules_and_no_tier_give_no_cashback(program):
    assert cashback(program, "100000") == Decimal("0")


@pytest.mark.parametrize(
    ("total", "expected"), [("49999.99", "0"), ("50000", "2500"), ("80000", "4000")]
)
def test_a_rate_rule_needs_its_minimum_spend_exactly_reached(program, total, expected):
    rule(program, min_spend=Decimal("50000"), rate=Decimal("0.05"))
    assert cashback(program, total) == Decimal(expected)


def test_a_rate_rule_is_capped_by_its_largest_amount(program):
    rule(program, min_spend=0, rate=Decimal("0.10"), max_amount=Decimal("7500"))
    assert cashback(program, "50000") == Decimal("5000")
    assert cashback(program, "100000") == Decimal("7500")


def test_a_fixed_amount_rule_gives_its_amount(program):
    rule(program, min_spend=Decimal("100000"), amount=Decimal("10000"))
    assert cashback(program, "99999") == Decimal("0")
    assert cashback(program, "100000") == Decimal("10000")


def test_only_the_best_rule_counts_never_their_sum(program):
    rule(program, min_spend=Decimal("50000"), rate=Decimal("0.05"))
    rule(program, min_spend=Decimal("100000"), amount=Decimal("4000"))
    assert cashback(program, "100000") == Decimal("5000")  # 5 % beats Rp 4.000
    assert cashback(program, "60000") == Decimal("3000")


def test_the_tier_rate_is_added_to_the_best_rule(program):
    rule(program, min_spend=0, amount=Decimal("1000"))
    gold = TierFactory(program=program, cashback_rate=Decimal("0.02"))
    assert cashback(program, "50000", tier=gold) == Decimal("2000")  # 1.000 + 2 % of 50.000


def test_cashback_is_rounded_down_to_whole_rupiah(program):
    gold = TierFactory(program=program, cashback_rate=Decimal("0.02"))
    assert cashback(program, "12345", tier=gold) == Decimal("246")  # 246,90
    assert cashback(program, "12345", tier=gold) == Decimal("246.00")
    assert cashback(program, "49.99", tier=gold) == Decimal("0")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (jkt(2025, 3, 9, 23, 59, 59), "0"),
        (jkt(2025, 3, 10, 0, 0), "5000"),
        (jkt(2025, 3, 12, 23, 59, 59), "5000"),
        (jkt(2025, 3, 13, 0, 0), "0"),
    ],
)
def test_a_dated_rule_counts_its_first_and_last_day(program, at, expected):
    rule(
        program,
        min_spend=0,
        amount=Decimal("5000"),
        starts_on=date(2025, 3, 10),
        ends_on=date(2025, 3, 12),
    )
    assert cashback(program, "10000", at=at) == Decimal(expected)


def test_an_inactive_rule_or_program_gives_no_cashback(program):
    rule(program, min_spend=0, amount=Decimal("5000"), is_active=False)
    assert cashback(program, "10000") == Decimal("0")
    rule(program, name="On", min_spend=0, amount=Decimal("5000"))
    program.is_active = False
    assert cashback(program, "10000") == Decimal("0")


def test_a_free_bill_earns_no_cashback(program):
    rule(program, min_spend=0, amount=Decimal("5000"))
    assert cashback(program, "0") == Decimal("0")


# -- grant, spend ----------------------------------------------------------------------------


def test_a_grant_credits_the_customer_from_credit_issued(customer):
    journal = credit_grant(customer=customer, amount=Decimal("2500"), key="sale:1:cashback", at=AT)
    assert journal.kind == "cashback" and journal.posted_at == AT
    assert credit_balance(customer=customer) == Decimal("2500.00")
    issued = system_account(merchant=customer.merchant, code="credit_issued")
    assert balance_of(issued) == Decimal("-2500")
    assert ledger_discrepancies(customer.merchant) == []


def test_a_grant_of_nothing_posts_nothing(customer):
    assert credit_grant(customer=customer, amount=Decimal("0"), key="k", at=AT) is None
    assert not Journal.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"), [("-1", ERR_AMOUNT_NEGATIVE), ("10.005", ERR_AMOUNT_CENTS)]
)
def test_a_negative_or_sub_cent_grant_is_refused(customer, amount, message):
    with pytest.raises(InvalidInput, match=message):
        credit_grant(customer=customer, amount=Decimal(amount), key="k", at=AT)


def test_the_same_grant_cannot_be_posted_twice(customer):
    credit_grant(customer=customer, amount=Decimal("100"), key="k", at=AT)
    with pytest.raises(DuplicateJournal):
        credit_grant(customer=customer, amount=Decimal("100"), key="k", at=AT)
    assert credit_balance(customer=customer) == Decimal("100")


def test_spending_store_credit_moves_it_to_credit_spent(customer):
    credit_grant(customer=customer, amount=Decimal("5000"), key="g", at=AT)
    journal = credit_spend(customer=customer, amount=Decimal("3000.50"), key="s", at=AT)
    assert journal.kind == "credit"
    assert credit_balance(customer=customer) == Decimal("1999.50")
    spent = system_account(merchant=customer.merchant, code="credit_spent")
    assert balance_of(spent) == Decimal("3000.50")
    assert ledger_discrepancies(customer.merchant) == []


def test_spending_more_than_the_store_credit_is_refused_and_nothing_is_written(customer):
    credit_grant(customer=customer, amount=Decimal("5000"), key="g", at=AT)
    with pytest.raises(
        InsufficientBalance,
        match=ERR_NOT_ENOUGH_CREDIT.format(available="Rp 5.000", requested="Rp 5.000,01"),
    ):
        credit_spend(customer=customer, amount=Decimal("5000.01"), key="s", at=AT)
    assert not Journal.objects.filter(key="s").exists()
    credit_spend(customer=customer, amount=Decimal("5000"), key="s", at=AT)
    assert credit_balance(customer=customer) == Decimal("0")


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_spending_nothing_or_a_negative_amount_is_refused(customer, amount):
    with pytest.raises(InvalidInput, match=ERR_AMOUNT_NOT_POSITIVE):
        credit_spend(customer=customer, amount=Decimal(amount), key="s", at=AT)


def test_a_customer_without_an_account_has_no_store_credit(customer):
    assert credit_balance(customer=customer) == Decimal("0.00")


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_takes_back_the_cashback_of_the_sale(customer):
    grant = credit_grant(customer=customer, amount=Decimal("2500"), key="g", at=AT)
    back = credit_take_back(grant_journal=grant, amount=Decimal("1000"), key="t", at=AT)
    assert back.kind == "reversal" and back.reverses == grant
    assert credit_balance(customer=customer) == Decimal("1500")
    issued = system_account(merchant=customer.merchant, code="credit_issued")
    assert balance_of(issued) == Decimal("-1500")
    assert ledger_discrepancies(customer.merchant) == []


def test_a_refund_takes_back_only_what_the_customer_still_has(customer):
    grant = credit_grant(customer=customer, amount=Decimal("2500"), key="g", at=AT)
    credit_spend(customer=customer, amount=Decimal("2000"), key="s", at=AT)
    back = credit_take_back(grant_journal=grant, amount=Decimal("2500"), key="t", at=AT)
    assert back.entries.get(account__kind="credit").amount == Decimal("-500")
    assert credit_balance(customer=customer) == Decimal("0")
    assert credit_take_back(grant_journal=grant, amount=Decimal("1"), key="t2", at=AT) is None


def test_partial_refunds_never_take_back_more_than_the_grant(customer):
    grant = credit_grant(customer=customer, amount=Decimal("2500"), key="g", at=AT)
    credit_grant(customer=customer, amount=Decimal("10000"), key="other", at=AT)
    credit_take_back(grant_journal=grant, amount=Decimal("2000"), key="t1", at=AT)
    second = credit_take_back(grant_journal=grant, amount=Decimal("2000"), key="t2", at=AT)
    assert second.entries.get(account__kind="credit").amount == Decimal("-500")
    assert credit_take_back(grant_journal=grant, amount=Decimal("1"), key="t3", at=AT) is None
    assert credit_balance(customer=customer) == Decimal("10000")


def test_only_a_store_credit_grant_can_be_taken_back(customer):
    earn = points_earn(customer=customer, points=5, key="e", at=AT)
    with pytest.raises(InvalidInput, match=ERR_NOT_A_GRANT):
        credit_take_back(grant_journal=earn, amount=Decimal("1"), key="t", at=AT)
