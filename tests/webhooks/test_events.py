"""The services emit the webhook events in the same transaction as their effects."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import LanggananError
from langganan.customers.services import customer_create
from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest
from langganan.loyalty.models import Tier
from langganan.loyalty.points import points_earn
from langganan.loyalty.reminders import points_expiring_announce
from langganan.webhooks.models import WebhookDelivery
from langganan.webhooks.services import webhook_endpoint_create
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db
JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 5, 4, 9, 30, tzinfo=JKT)


@pytest.fixture
def shop():
    outlet = OutletFactory()
    program = ProgramFactory(merchant=outlet.merchant)
    webhook_endpoint_create(merchant=outlet.merchant, url="https://pos.example/hooks")
    return outlet, program


def _events(merchant, event):
    return list(WebhookDelivery.objects.filter(merchant=merchant, event=event))


def test_registering_a_customer_emits_customer_created_without_contact_details(shop):
    outlet, _ = shop
    customer = customer_create(merchant=outlet.merchant, full_name="Rina", phone="0812 3456 7890")
    [delivery] = _events(outlet.merchant, "customer.created")
    assert delivery.payload["customer_id"] == customer.pk
    assert delivery.payload["name"] == "Rina"
    assert "phone" not in delivery.payload and "6281234567890" not in str(delivery.payload)


def test_a_checkout_emits_transaction_recorded_and_a_refused_one_emits_nothing(shop):
    outlet, program = shop
    product = ProductFactory(merchant=outlet.merchant, price=Decimal("20000"))
    member = MemberFactory(customer=CustomerFactory(merchant=outlet.merchant))
    Tier.objects.create(program=program, name="Gold", rank=1, min_spend=Decimal("30000"))
    request = CheckoutRequest(
        lines=[BasketLine(product_id=product.pk, quantity=Decimal("2"))],
        customer_id=member.customer_id,
        occurred_at=AT,
    )
    result = co.checkout(
        merchant=outlet.merchant, outlet=outlet, idempotency_key="a", request=request
    )
    [recorded] = _events(outlet.merchant, "transaction.recorded")
    assert recorded.payload["transaction"]["id"] == result["transaction"]["id"]
    assert recorded.payload["total"] == "40000.00" and recorded.payload["points_earned"] == 4
    [changed] = _events(outlet.merchant, "tier.changed")
    assert changed.payload["to_tier"] == "Gold" and changed.payload["reason"] == "qualified"
    with pytest.raises(LanggananError):
        co.checkout(
            merchant=outlet.merchant,
            outlet=outlet,
            idempotency_key="b",
            request=CheckoutRequest(
                lines=request.lines, customer_id=member.customer_id, points_to_redeem=999
            ),
        )
    assert len(_events(outlet.merchant, "transaction.recorded")) == 1


def test_expiring_points_are_announced_once_by_daily_runs(shop):
    outlet, program = shop
    customer = MemberFactory(customer=CustomerFactory(merchant=outlet.merchant)).customer
    earned_at = AT - timedelta(days=365) + timedelta(days=7)  # expires (12 months) in 7 days
    points_earn(customer=customer, points=40, key="old", at=earned_at)
    points_earn(customer=customer, points=5, key="new", at=AT)
    for day in range(3):  # the runs of the three days before: nothing yet
        assert (
            points_expiring_announce(
                merchant=outlet.merchant, days=7, now=AT - timedelta(days=3 - day)
            )
            == 0
        )
    assert points_expiring_announce(merchant=outlet.merchant, days=7, now=AT) == 1
    assert (
        points_expiring_announce(merchant=outlet.merchant, days=7, now=AT + timedelta(days=1)) == 0
    )
    [announced] = _events(outlet.merchant, "points.expiring")
    assert announced.payload["customer_id"] == customer.pk
    assert announced.payload["points"] == 40 and announced.payload["points_balance"] == 45
