"""Fixtures for the POS API tests: a café with a loyalty program, a member, an API key per
outlet, and a second merchant whose objects every endpoint must answer with a 404."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from langganan.api.services import api_key_create
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (a fixture)
from tests.loyalty.factories import MemberFactory, ProgramFactory

BASE = "/api/v1"


class Api:
    """A test client that sends the API key and JSON bodies."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.key = key

    def _headers(self, idempotency_key: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def get(self, path: str, params: dict | None = None, **headers: str):
        return self.client.get(BASE + path, params or {}, headers=self._headers(**headers))

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None, **headers):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            BASE + path,
            data=data,
            content_type="application/json",
            headers=self._headers(**headers),
        )


@dataclass
class Shop:
    merchant: Any
    outlet: Any
    program: Any
    coffee: Any
    tea: Any
    customer: Any
    api: Api
    raw_key: str


def make_shop() -> Shop:
    outlet = OutletFactory()
    merchant = outlet.merchant
    program = ProgramFactory(merchant=merchant, max_redeem_share=Decimal("1"))
    coffee = ProductFactory(merchant=merchant, name="Kopi Susu", price=Decimal("25000"))
    tea = ProductFactory(merchant=merchant, name="Teh Tarik", price=Decimal("15000"))
    customer = CustomerFactory(merchant=merchant, full_name="Rina Wati", gender="F")
    MemberFactory(customer=customer)
    _, raw = api_key_create(merchant=merchant, outlet=outlet, name="Kasir 1")
    return Shop(merchant, outlet, program, coffee, tea, customer, Api(raw), raw)


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()


@pytest.fixture
def other(db) -> Shop:
    """Another merchant, with its own customer, products and key."""
    return make_shop()


def sale_body(shop: Shop, quantity: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "lines": [{"product_id": shop.coffee.pk, "quantity": quantity}],
        "customer_id": shop.customer.pk,
        **extra,
    }


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code"} <= set(body)
    if code is not None:
        assert body["code"] == code, body
    return body
