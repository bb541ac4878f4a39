"""A refund as service recovery: (part of) the complaint's sale refunded through the sales
refund service (points taken back through the ledger), linked to the complaint and counted as
its cost, once even when the button is pressed twice."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from langganan.care.models import ComplaintRecovery, EventKind, RecoveryKind
from langganan.care.refunds import ERR_NO_SALE, RefundRefused, complaint_refund
from langganan.care.selectors import complaint_cost
from langganan.core.errors import InvalidInput
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout
from langganan.loyalty.models import CheckoutRecord
from langganan.loyalty.points import points_balance
from langganan.sales.models import Transaction, TransactionKind
from tests.care.helpers import complaint
from tests.factories import CustomerFactory, MembershipFactory, OutletFactory, ProductFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (a fixture)
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(merchant):
    """A member's sale of Rp 50.000 that earned points, and a complaint about it."""
    outlet = OutletFactory(merchant=merchant)
    ProgramFactory(merchant=merchant)
    coffee = ProductFactory(merchant=merchant, name="Kopi Susu", price=Decimal("25000"))
    customer = CustomerFactory(merchant=merchant, full_name="Rina Wati")
    MemberFactory(customer=customer)
    result = checkout(
        merchant=merchant,
        outlet=outlet,
        idempotency_key=str(uuid.uuid4()),
        request=CheckoutRequest(
            lines=[BasketLine(product_id=coffee.pk, quantity=Decimal(2))],
            customer_id=customer.pk,
        ),
    )
    sale = Transaction.objects.get(pk=result["transaction"]["id"])
    return sale, complaint(merchant, customer=customer, transaction_obj=sale)


def _refunds(sale):
    return Transaction.objects.filter(refund_of=sale, kind=TransactionKind.REFUND)


def test_a_partial_refund_goes_through_the_refund_service_and_is_the_cost(sold):
    sale, c = sold
    earned = points_balance(customer=sale.customer)
    assert earned > 0
    recovery = complaint_refund(complaint=c, key="r1", by=None, amount=Decimal("20000"))
    [refund_tx] = _refunds(sale)
    assert refund_tx.total == Decimal("-20000.00")
    assert recovery.kind == RecoveryKind.REFUND and recovery.refund_id == refund_tx.pk
    assert complaint_cost(c) == Decimal("20000.00")
    assert points_balance(customer=sale.customer) < earned  # taken back in proportion
    assert c.events.filter(kind=EventKind.RECOVERY, text__contains="Rp 20.000").count() == 1


def test_pressing_refund_twice_refunds_once(sold):
    sale, c = sold
    first = complaint_refund(complaint=c, key="same", by=None)
    again = complaint_refund(complaint=c, key="same", by=None)
    assert first.pk == again.pk
    assert _refunds(sale).count() == 1 and ComplaintRecovery.objects.count() == 1
    assert complaint_cost(c) == Decimal("50000.00")
    assert CheckoutRecord.objects.filter(operation="refund").count() == 1


def test_pressing_the_page_button_twice_refunds_once(sold, merchant):
    sale, c = sold
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    page = client.get(reverse("care:complaint_detail", args=[merchant.slug, c.pk]))
    assert "Refund penjualan" in page.content.decode()
    url = reverse("care:complaint_refund", args=[merchant.slug, c.pk])
    for _ in range(2):
        response = client.post(url, {"key": "form-1", "amount": "15.000"})
        assert response.status_code == 302
    assert [r.total for r in _refunds(sale)] == [Decimal("-15000.00")]
    assert complaint_cost(c) == Decimal("15000.00")
    page = client.get(reverse("care:complaint_detail", args=[merchant.slug, c.pk])).content
    assert "Rp 15.000" in page.decode() and "Rp 35.000" in page.decode()  # cost, what is left


def test_more_than_is_left_is_refused_with_the_amount_left_and_nothing_is_written(sold, merchant):
    sale, c = sold
    complaint_refund(complaint=c, key="a", by=None, amount=Decimal("30000"))
    with pytest.raises(RefundRefused) as refused:
        complaint_refund(complaint=c, key="b", by=None, amount=Decimal("30000"))
    assert refused.value.params == {"left": "Rp 20.000"}
    assert _refunds(sale).count() == 1 and complaint_cost(c) == Decimal("30000.00")
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role="manager").user)
    url = reverse("care:complaint_refund", args=[merchant.slug, c.pk])
    response = client.post(url, {"key": "c", "amount": "90000"}, follow=True)
    assert "paling banyak Rp 20.000 (sisa penjualan itu)" in response.content.decode()
    assert _refunds(sale).count() == 1


def test_a_complaint_without_a_sale_cannot_be_refunded(merchant):
    c = complaint(merchant, customer=CustomerFactory(merchant=merchant))
    with pytest.raises(InvalidInput) as refused:
        complaint_refund(complaint=c, key="x", by=None)
    assert refused.value.message == ERR_NO_SALE
    assert ComplaintRecovery.objects.count() == 0


def test_another_merchants_complaint_cannot_be_refunded_from_this_one(sold):
    sale, c = sold
    other = MembershipFactory(role="owner")
    client = Client()
    client.force_login(other.user)
    url = reverse("care:complaint_refund", args=[other.merchant.slug, c.pk])
    assert client.post(url, {"key": "k"}).status_code == 404
    assert _refunds(sale).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ledger_cleanup")
def test_two_presses_at_the_same_moment_refund_once(sold):
    """Two requests with the form's key in real threads (the complaint's row lock on
    PostgreSQL, the write lock on SQLite): one refund, both answered with the same recovery."""
    sale, c = sold
    barrier = threading.Barrier(2)
    outcomes: list = []
    lock = threading.Lock()

    def press() -> None:
        close_old_connections()
        try:
            barrier.wait()
            result = complaint_refund(complaint=c, key="double", by=None, amount=Decimal("10000"))
            outcome = result.pk
        except Exception as exc:  # reported in the assertion
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    assert [r.total for r in _refunds(sale)] == [Decimal("-10000.00")]
    assert complaint_cost(c) == Decimal("10000.00")
