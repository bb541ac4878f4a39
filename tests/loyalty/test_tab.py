"""The tab (kasbon): limits, charges, payments, refunds of charges, and the ageing report."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection

from langganan.core.errors import InvalidInput
from langganan.loyalty.ledger import (
    DuplicateJournal,
    InsufficientBalance,
    balance_of,
    customer_account,
    journal_post,
    ledger_discrepancies,
    system_account,
)
from langganan.loyalty.models import Account, Journal
from langganan.loyalty.tab import (
    ERR_AMOUNT_NOT_POSITIVE,
    ERR_LIMIT_BELOW_OWED,
    ERR_LIMIT_NEGATIVE,
    ERR_NOT_A_TAB_CHARGE,
    ERR_OTHER_MERCHANT,
    ERR_PAY_MORE_THAN_OWED,
    tab_ageing,
    tab_balance,
    tab_charge,
    tab_credit_back,
    tab_pay,
    tab_set_limit,
)
from tests.factories import CustomerFactory, MerchantFactory, TransactionFactory

pytestmark = pytest.mark.django_db

JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2025, 3, 1, 10, 0, tzinfo=JKT)


def rp(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
def customer():
    return CustomerFactory()


def with_limit(customer, limit):
    tab_set_limit(customer=customer, limit=rp(limit), at=AT)
    return customer


# -- limits -----------------------------------------------------------------------------------


def test_a_new_tab_has_no_credit(customer):
    assert tab_balance(customer=customer) == (Decimal("0"), Decimal("0"))
    with pytest.raises(InsufficientBalance):
        tab_charge(customer=customer, amount=rp(1), key="k", at=AT)
    assert not Journal.objects.exists()


def test_setting_a_limit_sets_the_floor(customer):
    account = tab_set_limit(customer=customer, limit=rp(500_000), at=AT)
    assert account.floor == rp(-500_000)
    assert Account.objects.get(pk=account.pk).floor == rp(-500_000)
    assert tab_balance(customer=customer) == (rp(0), rp(500_000))


def test_a_negative_limit_is_refused(customer):
    with pytest.raises(InvalidInput) as err:
        tab_set_limit(customer=customer, limit=rp(-1), at=AT)
    assert err.value.message == ERR_LIMIT_NEGATIVE


def test_a_limit_below_what_is_owed_is_refused_but_exactly_the_debt_is_fine(customer):
    with_limit(customer, 100_000)
    tab_charge(customer=customer, amount=rp(60_000), key="c1", at=AT)

    with pytest.raises(InvalidInput) as err:
        tab_set_limit(customer=customer, limit=rp("59999.99"), at=AT)
    assert err.value.message == ERR_LIMIT_BELOW_OWED.format(owed="Rp 60.000", limit="Rp 59.999,99")
    assert tab_balance(customer=customer) == (rp(60_000), rp(100_000))

    tab_set_limit(customer=customer, limit=rp(60_000), at=AT)
    assert tab_balance(customer=customer) == (rp(60_000), rp(60_000))


def test_lowering_the_limit_to_zero_closes_the_tab_to_new_debt(customer):
    with_limit(customer, 50_000)
    tab_set_limit(customer=customer, limit=rp(0), at=AT)
    with pytest.raises(InsufficientBalance):
        tab_charge(customer=customer, amount=rp(1), key="c", at=AT)


# -- charges ----------------------------------------------------------------------------------


def test_charging_exactly_up_to_the_limit_is_allowed_and_one_rupiah_more_is_refused(customer):
    with_limit(customer, 100_000)
    tab_charge(customer=customer, amount=rp(70_000), key="c1", at=AT)
    tab_charge(customer=customer, amount=rp(30_000), key="c2", at=AT)
    assert tab_balance(customer=customer) == (rp(100_000), rp(100_000))

    with pytest.raises(InsufficientBalance) as err:
        tab_charge(customer=customer, amount=rp(1), key="c3", at=AT)
    assert "Rp 0" in err.value.message
    assert tab_balance(customer=customer) == (rp(100_000), rp(100_000))
    assert not Journal.objects.filter(key="c3").exists()


def test_a_charge_posts_against_tab_sales_and_the_ledger_stays_consistent(customer):
    with_limit(customer, 100_000)
    sale = TransactionFactory(merchant=customer.merchant, customer=customer)
    journal = tab_charge(
        customer=customer, amount=rp(25_000), key="sale:1:tab", at=AT, transaction_obj=sale
    )
    assert journal.kind == "tab"
    assert journal.transaction == sale
    assert journal.posted_at == AT
    tab_sales = system_account(merchant=customer.merchant, code="tab_sales")
    assert balance_of(tab_sales) == rp(25_000)
    assert balance_of(customer_account(customer=customer, kind="tab")) == rp(-25_000)
    assert ledger_discrepancies(customer.merchant) == []


def test_the_database_refuses_a_charge_past_the_limit_even_without_the_service_check(customer):
    with_limit(customer, 10_000)
    merchant = customer.merchant
    with pytest.raises(InsufficientBalance):
        journal_post(
            merchant=merchant,
            kind="tab",
            key="raw",
            postings=[
                (customer_account(customer=customer, kind="tab"), rp(-10_001)),
                (system_account(merchant=merchant, code="tab_sales"), rp(10_001)),
            ],
        )


def test_the_same_charge_cannot_be_posted_twice(customer):
    with_limit(customer, 100_000)
    tab_charge(customer=customer, amount=rp(10_000), key="sale:9:tab", at=AT)
    with pytest.raises(DuplicateJournal):
        tab_charge(customer=customer, amount=rp(10_000), key="sale:9:tab", at=AT)
    assert tab_balance(customer=customer)[0] == rp(10_000)


@pytest.mark.parametrize("amount", ["0", "-5000"])
def test_a_charge_or_payment_must_be_positive(customer, amount):
    with_limit(customer, 100_000)
    with pytest.raises(InvalidInput) as err:
        tab_charge(customer=customer, amount=rp(amount), key="c", at=AT)
    assert err.value.message == ERR_AMOUNT_NOT_POSITIVE
    with pytest.raises(InvalidInput) as err:
        tab_pay(customer=customer, amount=rp(amount), key="p", at=AT)
    assert err.value.message == ERR_AMOUNT_NOT_POSITIVE


def test_a_charge_for_another_merchants_sale_is_refused(customer):
    with_limit(customer, 100_000)
    other_sale = TransactionFactory(merchant=MerchantFactory())
    with pytest.raises(InvalidInput) as err:
        tab_charge(customer=customer, amount=rp(1000), key="x", at=AT, transaction_obj=other_sale)
    assert err.value.message == ERR_OTHER_MERCHANT


# -- payments ---------------------------------------------------------------------------------


def test_paying_more_than_is_owed_is_refused_and_paying_all_of_it_clears_the_debt(customer):
    with_limit(customer, 100_000)
    tab_charge(customer=customer, amount=rp(40_000), key="c", at=AT)

    with pytest.raises(InvalidInput) as err:
        tab_pay(customer=customer, amount=rp("40000.01"), key="p1", at=AT)
    assert err.value.message == ERR_PAY_MORE_THAN_OWED.format(
        amount="Rp 40.000,01", owed="Rp 40.000"
    )
    tab_pay(customer=customer, amount=rp(15_000), key="p2", at=AT, memo="cicilan")
    assert tab_balance(customer=customer) == (rp(25_000), rp(100_000))
    journal = tab_pay(customer=customer, amount=rp(25_000), key="p3", at=AT)
    assert journal.kind == "tab_pay"
    assert tab_balance(customer=customer) == (rp(0), rp(100_000))
    assert balance_of(system_account(merchant=customer.merchant, code="tab_payments")) == rp(
        -40_000
    )
    assert Journal.objects.get(key="p2").memo == "cicilan"


def test_paying_with_nothing_owed_is_refused(customer):
    with pytest.raises(InvalidInput):
        tab_pay(customer=customer, amount=rp(1), key="p", at=AT)


# -- credit back (refunds of sales charged to the tab) -------------------------------------------


def test_a_refund_reduces_the_debt_by_at_most_what_was_charged(customer):
    with_limit(customer, 200_000)
    charge = tab_charge(customer=customer, amount=rp(50_000), key="sale:1:tab", at=AT)
    tab_charge(customer=customer, amount=rp(80_000), key="sale:2:tab", at=AT)

    first = tab_credit_back(charge_journal=charge, amount=rp(20_000), key="refund:1:tab", at=AT)
    assert first.kind == "reversal"
    assert first.reverses == charge
    assert tab_balance(customer=customer)[0] == rp(110_000)

    second = tab_credit_back(charge_journal=charge, amount=rp(99_000), key="refund:2:tab", at=AT)
    tab_entry = second.entries.get(account__kind="tab")
    assert tab_entry.amount == rp(30_000)  # only what was left of the 50.000 charge
    assert tab_balance(customer=customer)[0] == rp(80_000)

    assert tab_credit_back(charge_journal=charge, amount=rp(1), key="refund:3:tab", at=AT) is None
    assert not Journal.objects.filter(key="refund:3:tab").exists()
    assert ledger_discrepancies(customer.merchant) == []


def test_a_refund_after_the_debt_was_paid_credits_back_only_what_is_still_owed(customer):
    with_limit(customer, 100_000)
    charge = tab_charge(customer=customer, amount=rp(50_000), key="sale:1:tab", at=AT)
    tab_pay(customer=customer, amount=rp(40_000), key="pay", at=AT)

    journal = tab_credit_back(charge_journal=charge, amount=rp(50_000), key="refund", at=AT)
    assert journal.entries.get(account__kind="tab").amount == rp(10_000)
    assert tab_balance(customer=customer)[0] == rp(0)
    assert tab_credit_back(charge_journal=charge, amount=rp(1), key="again", at=AT) is None


def test_only_a_tab_charge_can_be_credited_back(customer):
    with_limit(customer, 100_000)
    tab_charge(customer=customer, amount=rp(10_000), key="c", at=AT)
    payment = tab_pay(customer=customer, amount=rp(5_000), key="p", at=AT)
    with pytest.raises(InvalidInput) as err:
        tab_credit_back(charge_journal=payment, amount=rp(1000), key="r", at=AT)
    assert err.value.message == ERR_NOT_A_TAB_CHARGE


# -- ageing -----------------------------------------------------------------------------------


def charge_on(customer, when: datetime, amount, key: str):
    return tab_charge(customer=customer, amount=rp(amount), key=key, at=when)


def test_ageing_bucket_edges_at_30_31_60_61_90_91_days(customer):
    with_limit(customer, 10_000_000)
    at = datetime(2025, 6, 30, 20, 0, tzinfo=JKT)
    for days, amount in [(0, 1), (30, 2), (31, 4), (60, 8), (61, 16), (90, 32), (91, 64)]:
        when = datetime.combine(at.date() - timedelta(days=days), datetime.min.time(), JKT)
        charge_on(customer, when.replace(hour=9), amount * 1000, f"c{days}")

    (row,) = tab_ageing(merchant=customer.merchant, at=at)

    assert row.customer == customer
    assert row.owed == rp(127_000)
    assert row.limit == rp(10_000_000)
    assert row.days_0_30 == rp(3_000)
    assert row.days_31_60 == rp(12_000)
    assert row.days_61_90 == rp(48_000)
    assert row.days_over_90 == rp(64_000)
    assert row.buckets == {
        "0-30": rp(3_000),
        "31-60": rp(12_000),
        "61-90": rp(48_000),
        "90+": rp(64_000),
    }
    assert row.oldest_unpaid_on == at.date() - timedelta(days=91)


def test_ageing_counts_days_in_jakarta_time(customer):
    with_limit(customer, 1_000_000)
    # 17:30 UTC on 1 January is 00:30 on 2 January in Jakarta
    charge_on(customer, datetime(2025, 1, 1, 17, 30, tzinfo=UTC), 10_000, "c")
    at = datetime(2025, 2, 1, 12, 0, tzinfo=JKT)  # 30 days after 2 January

    (row,) = tab_ageing(merchant=customer.merchant, at=at)

    assert row.days_0_30 == rp(10_000)
    assert row.days_31_60 == rp(0)


def test_payments_settle_the_oldest_charges_first(customer):
    with_limit(customer, 1_000_000)
    at = datetime(2025, 6, 30, 12, 0, tzinfo=JKT)
    charge_on(customer, at - timedelta(days=100), 50_000, "old")
    charge_on(customer, at - timedelta(days=45), 30_000, "middle")
    charge_on(customer, at - timedelta(days=5), 20_000, "new")
    tab_pay(customer=customer, amount=rp(60_000), key="pay", at=at - timedelta(days=1))

    (row,) = tab_ageing(merchant=customer.merchant, at=at)

    assert row.owed == rp(40_000)
    assert row.days_over_90 == rp(0)  # the 50.000 charge is paid in full
    assert row.days_31_60 == rp(20_000)  # 10.000 of the 30.000 charge was paid
    assert row.days_0_30 == rp(20_000)
    assert row.oldest_unpaid_on == (at - timedelta(days=45)).date()


def test_a_refund_settles_the_charge_it_refunds_first(customer):
    with_limit(customer, 1_000_000)
    at = datetime(2025, 6, 30, 12, 0, tzinfo=JKT)
    charge_on(customer, at - timedelta(days=70), 50_000, "old")
    recent = charge_on(customer, at - timedelta(days=10), 30_000, "recent")
    tab_credit_back(charge_journal=recent, amount=rp(30_000), key="refund", at=at)

    (row,) = tab_ageing(merchant=customer.merchant, at=at)

    assert row.owed == rp(50_000)
    assert row.days_61_90 == rp(50_000)
    assert row.days_0_30 == rp(0)


def test_ageing_is_as_of_at_and_lists_only_customers_who_owe_largest_first(customer):
    merchant = customer.merchant
    big = with_limit(CustomerFactory(merchant=merchant), 1_000_000)
    paid_up = with_limit(CustomerFactory(merchant=merchant), 1_000_000)
    with_limit(customer, 1_000_000)
    other = with_limit(CustomerFactory(), 1_000_000)  # another merchant
    at = datetime(2025, 6, 30, 12, 0, tzinfo=JKT)
    charge_on(customer, at - timedelta(days=3), 10_000, "a")
    charge_on(customer, at + timedelta(days=1), 99_000, "after")  # not yet as of ``at``
    charge_on(big, at - timedelta(days=3), 70_000, "b")
    charge_on(paid_up, at - timedelta(days=3), 5_000, "c")
    tab_pay(customer=paid_up, amount=rp(5_000), key="c-pay", at=at - timedelta(days=2))
    charge_on(other, at - timedelta(days=3), 1_000, "d")

    rows = tab_ageing(merchant=merchant, at=at)

    assert [(r.customer, r.owed) for r in rows] == [(big, rp(70_000)), (customer, rp(10_000))]
    later = tab_ageing(merchant=merchant, at=at + timedelta(days=2))
    assert [r.owed for r in later if r.customer == customer] == [rp(109_000)]


# -- races ------------------------------------------------------------------------------------


def _race(n: int, work) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            work(i)
            outcomes.append("ok")
        except (InsufficientBalance, InvalidInput):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_racing_charges_never_pass_the_limit(ledger_cleanup):
    customer = with_limit(CustomerFactory(), 100_000)

    outcomes = _race(
        8, lambda i: tab_charge(customer=customer, amount=rp(60_000), key=f"c{i}", at=AT)
    )

    assert outcomes == ["ok"] + ["refused"] * 7
    assert tab_balance(customer=customer) == (rp(60_000), rp(100_000))
    assert ledger_discrepancies(customer.merchant) == []


@pytest.mark.django_db(transaction=True)
def test_racing_payments_of_the_whole_debt_are_taken_once(ledger_cleanup):
    customer = with_limit(CustomerFactory(), 100_000)
    tab_charge(customer=customer, amount=rp(30_000), key="c", at=AT)

    outcomes = _race(6, lambda i: tab_pay(customer=customer, amount=rp(30_000), key=f"p{i}", at=AT))

    assert outcomes == ["ok"] + ["refused"] * 5
    assert tab_balance(customer=customer) == (rp(0), rp(100_000))
