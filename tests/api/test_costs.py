"""What the busiest calls of a till cost in queries (a regression breaks these bounds).

The load benchmark (bench/api.py) mixes 60 % lookups, 30 % sales and 10 % quotes; each query
costs about a millisecond of Python in the ORM, so these numbers are the API's throughput.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout
from tests.api.conftest import sale_body

pytestmark = pytest.mark.django_db

#: key (with merchant, outlet and program) + customer (with membership, tier and insight) +
#: accounts + lots + vouchers + her open complaints and latest rating (one query)
LOOKUP_QUERIES = 6
#: key (with the program) + customer + products; the earning and cashback rules come from the
#: process's copy once a request has read them (langganan.core.settings_cache)
QUOTE_QUERIES = 3
#: a member's sale through the API (14 statements on SQLite, 15 on PostgreSQL: the advisory
#: lock of the idempotency key), with the merchant's settings already read once; was 19 and 20
#: with a savepoint around each service (langganan.core.units), then 13 and 14 before the
#: sale's payment rows (one bulk insert, however many methods paid)
API_MEMBER_SALE_QUERIES = 15


def _warm(shop):
    """A first sale: the customer's accounts exist, the key's last use is recorded, and the
    member has points (so the card reads their lots)."""
    checkout(
        merchant=shop.merchant,
        outlet=shop.outlet,
        idempotency_key="warm",
        request=_request(shop),
    )
    shop.api.get("/customers/lookup", {"phone": shop.customer.phone})
    shop.api.post("/checkout/quote", sale_body(shop))  # the rules, read once
    shop.api.post("/transactions", sale_body(shop), idempotency_key="warm-api")


def _request(shop) -> CheckoutRequest:
    return CheckoutRequest(
        lines=[BasketLine(product_id=shop.coffee.pk, quantity=Decimal("2"))],
        customer_id=shop.customer.pk,
    )


def test_a_lookup_costs_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    _warm(shop)
    with django_assert_max_num_queries(LOOKUP_QUERIES):
        response = shop.api.get("/customers/lookup", {"phone": shop.customer.phone})
    assert response.status_code == 200 and response.json()["points"] > 0


def test_a_quote_costs_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    _warm(shop)
    with django_assert_max_num_queries(QUOTE_QUERIES):
        response = shop.api.post("/checkout/quote", sale_body(shop))
    assert response.status_code == 200


def test_a_sale_through_the_api_answers_with_the_database_balances(shop):
    _warm(shop)
    response = shop.api.post("/transactions", sale_body(shop), idempotency_key=str(uuid.uuid4()))
    assert response.status_code == 201
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()
    assert response.json()["balances"]["points"] == card["points"]


def test_a_members_sale_through_the_api_reads_the_settings_from_the_copy(
    shop, django_assert_max_num_queries
):
    _warm(shop)
    with django_assert_max_num_queries(API_MEMBER_SALE_QUERIES):
        response = shop.api.post(
            "/transactions", sale_body(shop), idempotency_key=str(uuid.uuid4())
        )
    assert response.status_code == 201, response.content


def test_a_members_sale_makes_no_savepoint_inside_its_own(shop):
    """The sale is one unit: the key's record is claimed without a savepoint (ON CONFLICT),
    and the services it calls (points, tier) open none either. The one savepoint seen is the
    sale's own block, nested in the test's transaction."""
    _warm(shop)
    with CaptureQueriesContext(connection) as seen:
        response = shop.api.post(
            "/transactions", sale_body(shop), idempotency_key=str(uuid.uuid4())
        )
    assert response.status_code == 201, response.content
    assert response.json()["points_earned"] > 0
    savepoints = [q["sql"] for q in seen.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1, savepoints
