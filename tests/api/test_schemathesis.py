"""schemathesis against the OpenAPI document: every operation, valid and invalid input.

The schema is loaded from the Django WSGI app itself (no server, no network) and every
operation is called with a valid API key of a merchant that has data: members with points,
products, a loyalty program with tiers, vouchers and a recorded sale. Every schemathesis check
runs on every answer (``checks=all``): no server error (5xx), a documented status code, the
documented content type, a body valid against the documented schema, headers as documented,
invalid input refused with a 4xx, a missing or wrong key refused with a 401, a method the path
does not take refused with a 405 and its ``Allow`` header, a request valid by the schema
accepted. For that last one (``positive_data_acceptance``) an answer counts as accepted when it
is a 2xx or one of the documented problems the business rules give a schema-valid request: a
404 (a customer or voucher the merchant does not have), a 409 (a receipt number already
recorded) or a 422 (an unknown referral code, a phone number that is no phone number, a refund
larger than what is left of the sale). A 400 or a 5xx to a valid request still fails.

What it found, now fixed: a refund body that was not a JSON object (``[null, null]``) was
taken as an empty one and refunded the whole sale; decimal fields were documented as any
string, while the server refused all but plain decimals; a sale repeating a recorded receipt
number under a new key was a 500 (an IntegrityError), now a 409 naming the recorded sale.

Deterministic (hypothesis's ``derandomize``: the same examples on every run, no example
database) and bounded (``MAX_EXAMPLES`` per operation and generation mode), so it runs in CI
on SQLite and PostgreSQL in well under two minutes.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from langganan.api.services import api_key_create
from langganan.config.wsgi import application
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout
from langganan.staff.guard import forget_all
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory, VoucherFactory

MAX_EXAMPLES = 25


@pytest.fixture
def raw_key(db, settings) -> str:
    """A merchant with data, and a valid API key of its outlet.

    schemathesis sends many wrong keys from one address (the ``ignored_auth`` check expects a
    401 each time); the lock after 20 of them (:mod:`langganan.staff.guard`, tested in
    tests/staff) is lifted here so that each wrong key gets its 401."""
    settings.API_KEY_FAILURES_PER_ADDRESS = 10**9
    forget_all()
    outlet = OutletFactory()
    merchant = outlet.merchant
    program = ProgramFactory(merchant=merchant, max_redeem_share=Decimal("1"))
    TierFactory(program=program, name="Perak", rank=1)
    TierFactory(program=program, name="Emas", rank=2, min_spend=Decimal("500000"))
    products = [
        ProductFactory(merchant=merchant, name=name, price=Decimal(price))
        for name, price in (("Kopi Susu", 25000), ("Teh Tarik", 15000), ("Roti Bakar", 20000))
    ]
    customers = [CustomerFactory(merchant=merchant) for _ in range(3)]
    for customer in customers[:2]:
        MemberFactory(customer=customer)
    for code in ("HEMAT5", "KOPI10"):
        VoucherFactory(merchant=merchant, code=code, kind="multi", max_uses=1000)
    checkout(
        merchant=merchant,
        outlet=outlet,
        idempotency_key=str(uuid.uuid4()),
        request=CheckoutRequest(
            lines=[BasketLine(product_id=products[0].pk, quantity=Decimal(2))],
            customer_id=customers[0].pk,
        ),
    )
    _, raw = api_key_create(merchant=merchant, outlet=outlet, name="schemathesis")
    return raw


@pytest.fixture
def wsgi_requests_keep_the_connection():
    """Django's test client keeps the test's database connection open across requests; the
    WSGI handler called directly would close it at the end of each request (in the middle of
    the test's transaction), so those signal handlers are disconnected, as the client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The document as the app serves it (no database needed); one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
schema.config.checks.update(included_check_names=["all"])
#: What a request valid by the schema may get (see the module docstring).
ACCEPTED = ["2xx", "404", "409", "422"]
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=ACCEPTED
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case, raw_key, wsgi_requests_keep_the_connection):
    case.call_and_validate(headers={"Authorization": f"Bearer {raw_key}"})
