"""The ledger's database-enforced invariants, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from langganan.core.errors import InvalidInput
from langganan.loyalty.ledger import (
    ERR_UNBALANCED,
    DuplicateJournal,
    InsufficientBalance,
    balance_of,
    customer_account,
    journal_post,
    ledger_discrepancies,
    system_account,
)
from langganan.loyalty.models import Account, Entry, Journal
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _earn(customer, points, key):
    merchant = customer.merchant
    return journal_post(
        merchant=merchant,
        kind="earn",
        key=key,
        postings=[
            (customer_account(customer=customer, kind="points"), points),
            (system_account(merchant=merchant, code="points_issued"), -points),
        ],
    )


def test_posting_updates_the_balance_from_the_entries():
    customer = CustomerFactory()
    _earn(customer, 120, "a")
    _earn(customer, 30, "b")
    account = customer_account(customer=customer, kind="points")
    assert balance_of(account) == Decimal("150")
    issued = system_account(merchant=customer.merchant, code="points_issued")
    assert balance_of(issued) == Decimal("-150")
    assert ledger_discrepancies(customer.merchant) == []


def test_an_unbalanced_journal_is_refused_and_nothing_is_written():
    customer = CustomerFactory()
    account = customer_account(customer=customer, kind="points")
    with pytest.raises(InvalidInput) as err:
        journal_post(merchant=customer.merchant, kind="earn", key="x", postings=[(account, 5)])
    assert str(err.value).startswith(ERR_UNBALANCED.split("{")[0])
    assert not Journal.objects.exists()


def test_the_same_event_key_cannot_be_posted_twice():
    customer = CustomerFactory()
    _earn(customer, 10, "sale:1:earn")
    with pytest.raises(DuplicateJournal):
        _earn(customer, 10, "sale:1:earn")
    assert balance_of(customer_account(customer=customer, kind="points")) == 10


def test_the_database_refuses_a_balance_below_the_floor():
    customer = CustomerFactory()
    _earn(customer, 10, "a")
    with pytest.raises(InsufficientBalance):
        _earn(customer, -11, "b")
    assert balance_of(customer_account(customer=customer, kind="points")) == 10
    # and directly, bypassing Python: the CHECK constraint fires inside the trigger
    account = customer_account(customer=customer, kind="points")
    journal = Journal.objects.get(key="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(journal=journal, account=account, amount=Decimal("-11"))


def test_a_tab_may_go_down_to_minus_its_credit_limit():
    customer = CustomerFactory()
    tab = customer_account(customer=customer, kind="tab")
    Account.objects.filter(pk=tab.pk).update(floor=Decimal("-50000"))
    sales = system_account(merchant=customer.merchant, code="tab_sales")
    journal_post(
        merchant=customer.merchant,
        kind="tab",
        key="t1",
        postings=[(tab, Decimal("-50000")), (sales, Decimal("50000"))],
    )
    with pytest.raises(InsufficientBalance):
        journal_post(
            merchant=customer.merchant,
            kind="tab",
            key="t2",
            postings=[(tab, Decimal("-0.01")), (sales, Decimal("0.01"))],
        )
    assert balance_of(tab) == Decimal("-50000")


def test_cent_amounts_sum_exactly():
    customer = CustomerFactory()
    credit = customer_account(customer=customer, kind="credit")
    issued = system_account(merchant=customer.merchant, code="credit_issued")
    for i, amount in enumerate(["0.10", "0.20"]):
        journal_post(
            merchant=customer.merchant,
            kind="cashback",
            key=f"c{i}",
            postings=[(credit, Decimal(amount)), (issued, -Decimal(amount))],
        )
    journal_post(
        merchant=customer.merchant,
        kind="credit",
        key="spend",
        postings=[(credit, Decimal("-0.30")), (issued, Decimal("0.30"))],
    )
    assert balance_of(credit) == Decimal("0")
    assert ledger_discrepancies(customer.merchant) == []


@pytest.mark.parametrize("statement", ["UPDATE {t} SET amount = 1", "DELETE FROM {t}"])
def test_entries_are_never_updated_or_deleted(statement):
    customer = CustomerFactory()
    _earn(customer, 10, "a")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(t="loyalty_entry"))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Journal.objects.filter(key="a").update(memo="changed")
    assert Entry.objects.count() == 2


def test_posting_to_another_merchants_account_is_refused():
    mine, theirs = CustomerFactory(), CustomerFactory()
    with pytest.raises(InvalidInput):
        journal_post(
            merchant=mine.merchant,
            kind="earn",
            key="x",
            postings=[
                (customer_account(customer=theirs, kind="points"), 5),
                (system_account(merchant=mine.merchant, code="points_issued"), -5),
            ],
        )


@pytest.mark.django_db(transaction=True)
def test_racing_debits_never_overdraw(ledger_cleanup):
    customer = CustomerFactory()
    _earn(customer, 100, "start")
    account = customer_account(customer=customer, kind="points")
    redeemed = system_account(merchant=customer.merchant, code="points_redeemed")
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def debit(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            journal_post(
                merchant=customer.merchant,
                kind="redeem",
                key=f"r{i}",
                postings=[(account, -60), (redeemed, 60)],
            )
            outcomes.append("ok")
        except InsufficientBalance:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=debit, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 9
    assert balance_of(account) == 40
    assert ledger_discrepancies(customer.merchant) == []
