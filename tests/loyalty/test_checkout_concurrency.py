"""Checkouts racing each other, with real threads and connections (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from langganan.core.errors import LanggananError
from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest
from langganan.loyalty.ledger import customer_account, ledger_discrepancies
from langganan.loyalty.models import PointLot
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

THREADS = 50


def _race(work, n=THREADS):
    """Run ``work(i)`` in ``n`` threads started together; return their results or errors."""
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        close_old_connections()
        try:
            barrier.wait()
            results[i] = work(i)
        except LanggananError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def shop(ledger_cleanup):
    outlet = OutletFactory()
    merchant = outlet.merchant
    ProgramFactory(merchant=merchant, max_redeem_share=Decimal("1"))
    coffee = ProductFactory(merchant=merchant, price=Decimal("25000"))
    member = MemberFactory(customer=CustomerFactory(merchant=merchant))
    return merchant, outlet, coffee, member.customer


@pytest.mark.django_db(transaction=True)
def test_fifty_checkouts_with_one_key_record_one_sale_with_identical_results(shop):
    merchant, outlet, coffee, customer = shop
    request = CheckoutRequest(
        lines=[BasketLine(product_id=coffee.pk, quantity=Decimal("2"))], customer_id=customer.pk
    )
    results = _race(
        lambda i: co.checkout(
            merchant=merchant, outlet=outlet, idempotency_key="same", request=request
        )
    )
    assert all(isinstance(r, dict) for r in results), results
    assert Counter(r["replayed"] for r in results) == {True: THREADS - 1, False: 1}
    bodies = [{k: v for k, v in r.items() if k != "replayed"} for r in results]
    assert all(body == bodies[0] for body in bodies)
    assert Transaction.objects.filter(merchant=merchant).count() == 1
    assert customer_account(customer=customer, kind="points").balance == 5
    assert ledger_discrepancies(merchant) == []


@pytest.mark.django_db(transaction=True)
def test_fifty_redemptions_of_more_than_half_the_balance_let_exactly_one_through(shop):
    merchant, outlet, coffee, customer = shop
    co.checkout(
        merchant=merchant,
        outlet=outlet,
        idempotency_key="earn",
        request=CheckoutRequest(
            lines=[BasketLine(product_id=coffee.pk, quantity=Decimal("40"))],
            customer_id=customer.pk,
        ),
    )  # 1,000,000 → 100 points
    request = CheckoutRequest(
        lines=[BasketLine(product_id=coffee.pk, quantity=Decimal("1"))],
        customer_id=customer.pk,
        points_to_redeem=60,
    )
    results = _race(
        lambda i: co.checkout(
            merchant=merchant, outlet=outlet, idempotency_key=f"redeem-{i}", request=request
        )
    )
    ok = [r for r in results if isinstance(r, dict)]
    assert len(ok) == 1, Counter(type(r).__name__ for r in results)
    assert all(isinstance(r, LanggananError) for r in results if not isinstance(r, dict))
    balance = customer_account(customer=customer, kind="points").balance
    assert balance == 100 - 60 + ok[0]["points_earned"]
    lots = PointLot.objects.filter(account__customer=customer)
    assert sum(lot.remaining for lot in lots) == balance
    assert Transaction.objects.filter(merchant=merchant).count() == 2
    assert ledger_discrepancies(merchant) == []
