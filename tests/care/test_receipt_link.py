"""The counter's receipt carries the sale's feedback link and QR code."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from langganan.care.feedback import feedback_sale
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout
from tests.factories import CustomerFactory, MembershipFactory, OutletFactory

pytestmark = pytest.mark.django_db


def test_the_receipt_links_to_the_feedback_page_of_its_own_sale(merchant):
    outlet = OutletFactory(merchant=merchant)
    customer = CustomerFactory(merchant=merchant)
    key = "kasir-" + "0" * 31 + "7"
    checkout(
        merchant=merchant,
        outlet=outlet,
        idempotency_key=key,
        request=CheckoutRequest(
            lines=[BasketLine(quantity=1, unit_price=15000, name="Es Teh")],
            customer_id=customer.pk,
        ),
    )
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role="cashier", outlet=outlet).user)

    html = client.get(reverse("counter:receipt", args=[merchant.slug, key])).content.decode()

    assert "Pindai untuk memberi nilai" in html and "<svg" in html
    token = re.search(r'href="http://testserver/ulasan/([^/"]+)/"', html).group(1)
    sale = feedback_sale(token)
    assert sale is not None and sale.customer == customer and sale.merchant == merchant
    assert Client().get(reverse("care:feedback", args=[token])).status_code == 200
