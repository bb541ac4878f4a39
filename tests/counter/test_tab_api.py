"""``POST /api/v1/customers/{id}/tab/payments``: a POS settles a tab, idempotently."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from langganan.api.urls import api
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.models import TabPayment
from langganan.loyalty.tab import tab_balance, tab_charge, tab_set_limit
from tests.api.conftest import Shop, assert_problem
from tests.api.conftest import other as other  # noqa: F401, PLC0414 (fixtures)
from tests.api.conftest import shop as shop  # noqa: F401, PLC0414

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(shop: Shop) -> Shop:
    now = timezone.now()
    tab_set_limit(customer=shop.customer, limit=Decimal("100000"), at=now, actor="test")
    tab_charge(customer=shop.customer, amount=Decimal("45500"), key="c1", at=now)
    return shop


def _path(customer) -> str:
    return f"/customers/{customer.pk}/tab/payments"


def test_a_partial_then_a_full_payment_settle_the_tab(owing):
    first = owing.api.post(_path(owing.customer), {"amount": "20000"}, idempotency_key="p1")
    second = owing.api.post(
        _path(owing.customer), {"amount": 25500, "method": "qris"}, idempotency_key="p2"
    )

    assert first.status_code == 201, first.content
    assert first["Idempotent-Replayed"] == "false"
    body = first.json()
    assert body["tab"] == {"owed": "25500.00", "limit": "100000.00", "settled": False}
    assert body["payment"]["amount"] == "20000.00"
    assert body["payment"]["method"] == "cash"
    assert body["payment"]["outlet"] == owing.outlet.code
    assert second.json()["tab"]["settled"] is True
    assert tab_balance(customer=owing.customer)[0] == Decimal("0")
    assert ledger_discrepancies(owing.merchant) == []
    assert TabPayment.objects.filter(outlet=owing.outlet, recorded_by=None).count() == 2


def test_a_retry_with_the_same_key_replays_the_same_answer(owing):
    first = owing.api.post(_path(owing.customer), {"amount": "20000"}, idempotency_key="same")
    again = owing.api.post(_path(owing.customer), {"amount": "20000"}, idempotency_key="same")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TabPayment.objects.count() == 1
    assert tab_balance(customer=owing.customer)[0] == Decimal("25500.00")


def test_the_same_key_with_another_amount_is_a_422(owing):
    owing.api.post(_path(owing.customer), {"amount": "20000"}, idempotency_key="same")

    response = owing.api.post(_path(owing.customer), {"amount": "1000"}, idempotency_key="same")

    assert_problem(response, 422, "idempotency_key_reused")
    assert TabPayment.objects.count() == 1


def test_without_an_idempotency_key_it_is_a_400(owing):
    response = owing.api.post(_path(owing.customer), {"amount": "20000"})

    assert_problem(response, 400, "idempotency_key_missing")


def test_more_than_is_owed_is_a_422_and_records_nothing(owing):
    response = owing.api.post(_path(owing.customer), {"amount": "50000"}, idempotency_key="k")

    body = assert_problem(response, 422)
    assert "more than the customer owes" in body["detail"]
    assert body["errors"][0]["field"] == "amount"
    assert not TabPayment.objects.exists()


def test_a_customer_without_a_tab_cannot_pay_anything(shop):
    response = shop.api.post(_path(shop.customer), {"amount": "1000"}, idempotency_key="k")

    assert_problem(response, 422)


@pytest.mark.parametrize(
    "body",
    [{}, {"amount": "0"}, {"amount": "-5"}, {"amount": "1e3"}, {"amount": "10", "method": "gold"}],
)
def test_a_malformed_payment_is_a_422_problem(owing, body):
    response = owing.api.post(_path(owing.customer), body, idempotency_key="k")

    assert_problem(response, 422, "validation_error")


def test_another_merchants_customer_is_a_404(owing, other):
    response = other.api.post(_path(owing.customer), {"amount": "1000"}, idempotency_key="k")

    assert_problem(response, 404)
    assert tab_balance(customer=owing.customer)[0] == Decimal("45500.00")


def test_no_key_is_a_401(owing):
    owing.api.key = None

    response = owing.api.post(_path(owing.customer), {"amount": "1000"}, idempotency_key="k")

    assert_problem(response, 401)


def test_the_endpoint_is_in_the_openapi_document():
    schema = api.get_openapi_schema()
    operation = schema["paths"]["/api/v1/customers/{customer_id}/tab/payments"]["post"]

    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    responses = {str(status): answer for status, answer in operation["responses"].items()}
    assert set(responses) >= {"201", "404", "409", "422"}
    assert "application/problem+json" in responses["422"]["content"]
