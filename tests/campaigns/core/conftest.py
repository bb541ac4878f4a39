"""Builders shared by the campaign core tests: insights, consent, templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.customers.services import consent_record
from langganan.insights.models import CustomerInsight, InsightRun
from tests.factories import CustomerFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=JAKARTA)  # a Wednesday, 10:00 in Jakarta


def insight_for(customer, *, run=None, **fields) -> CustomerInsight:
    run = run or InsightRun.objects.create(merchant=customer.merchant, status="done")
    last = fields.pop("last_purchase", NOW - timedelta(days=10))
    defaults = dict(
        orders=5,
        frequency=4,
        recency_days=60.0,
        age_days=90.0,
        days_since_last=(NOW - last).days,
        total_spend=Decimal("250000"),
        monetary_value=Decimal("50000"),
        first_purchase=last - timedelta(days=60),
        last_purchase=last,
        r_score=3,
        f_score=3,
        m_score=3,
        segment="loyal",
        lifecycle="active",
        p_alive=0.8,
        clv=Decimal("500000"),
        usual_order=[{"item": "Es Kopi Susu", "times": 4}, {"item": "Roti Bakar", "times": 2}],
    )
    defaults.update(fields)
    return CustomerInsight.objects.create(
        merchant=customer.merchant, customer=customer, run=run, **defaults
    )


def consenting_customer(merchant, channel="whatsapp", **fields):
    customer = CustomerFactory(merchant=merchant, **fields)
    consent_record(
        customer=customer,
        channel=channel,
        granted=True,
        source="counter",
        occurred_at=NOW - timedelta(days=30),
    )
    return customer


@pytest.fixture
def now():
    return NOW
