"""Reads for sales. Every selector takes the merchant explicitly."""

from __future__ import annotations

from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.sales.models import Transaction, TransactionKind


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


def customers_with_sales_stats(*, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate ``customers`` with ``order_count`` and ``last_purchase_at`` (sales only).

    Correlated subqueries rather than a join with GROUP BY: one statement per page, each
    subquery served by the (customer, occurred_at) index, and PostgreSQL can postpone them past
    ``ORDER BY … LIMIT`` so only the fetched page pays for them.
    """
    sales = Transaction.objects.filter(customer=OuterRef("pk"), kind=TransactionKind.SALE)
    order_count = sales.order_by().values("customer").annotate(n=Count("id")).values("n")[:1]
    last_purchase = sales.order_by("-occurred_at").values("occurred_at")[:1]
    return customers.annotate(
        order_count=Coalesce(Subquery(order_count, output_field=IntegerField()), 0),
        last_purchase_at=Subquery(last_purchase),
    )
