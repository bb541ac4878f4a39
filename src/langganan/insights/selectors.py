"""Reads for stored insights. Every selector takes the merchant explicitly."""

from __future__ import annotations

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.insights.models import CustomerInsight, InsightRun


def customer_insight_get(*, merchant: Merchant, customer: Customer) -> CustomerInsight | None:
    return (
        CustomerInsight.objects.filter(merchant=merchant, customer=customer)
        .select_related("run")
        .first()
    )


def insight_run_latest(*, merchant: Merchant) -> InsightRun | None:
    return (
        InsightRun.objects.filter(merchant=merchant, status=InsightRun.Status.DONE)
        .order_by("-started_at", "-id")
        .first()
    )
