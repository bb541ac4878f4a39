"""Reads for stored insights. Every selector takes the merchant explicitly."""

from __future__ import annotations

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.insights.models import CustomerInsight, InsightRun, PeriodOverview


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


def overview_for(*, merchant: Merchant, period_days: int) -> PeriodOverview | None:
    """The overview of ``period_days`` (7, 30, 90 or 365) stored by the merchant's latest
    finished analysis; None before the first one (or for another period length)."""
    run = insight_run_latest(merchant=merchant)
    if run is None:
        return None
    return PeriodOverview.objects.filter(run=run, period_days=period_days).first()
