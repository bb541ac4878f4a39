"""Reads for sales. Every selector takes the merchant explicitly."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet, Sum

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.sales.models import Transaction


def transactions_for_customer(*, merchant: Merchant, customer: Customer) -> QuerySet[Transaction]:
    """The customer's transactions, newest first, with outlet and items prefetched."""
    return (
        Transaction.objects.filter(merchant=merchant, customer=customer)
        .select_related("outlet")
        .prefetch_related("items")
        .order_by("-occurred_at", "-id")
    )


def customer_sales_summary(*, merchant: Merchant, customer: Customer) -> dict:
    """Orders, net spend and last purchase time of one customer."""
    row = Transaction.objects.filter(merchant=merchant, customer=customer).aggregate(
        orders=Count("id", filter=None),
        spend=Sum("total"),
        last_purchase=Max("occurred_at"),
    )
    sales = Transaction.objects.filter(merchant=merchant, customer=customer, kind="sale").count()
    return {
        "orders": sales,
        "spend": row["spend"] or 0,
        "last_purchase": row["last_purchase"],
    }
