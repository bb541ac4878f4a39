"""Read a merchant's sales out of the app database into Arrow tables for the engine.

The engine never touches Django: this module hands it plain columns. Timestamps are converted
to the merchant's local wall-clock time (naive), so that days, weekdays and hours are the
merchant's own. Only sales are read (a refund is not a visit); a refund's amount is not
subtracted from spend here.

The overview (:mod:`.overview`) reads every transaction (:func:`ledger_table`: walk-ins and
refunds too, with the payment method) and what paid each sale (:func:`paid_table`); the
engine's member sales are a slice of the same read (:func:`member_sales`), so a run reads the
transactions once.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from langganan.core.models import Merchant
from langganan.sales.models import LineItem, Product, Transaction, TransactionPayment

FETCH = 20_000


def _local_naive(values, tz: ZoneInfo):
    return [v.astimezone(tz).replace(tzinfo=None) if v is not None else None for v in values]


def _fetch_columns(queryset, fields: list[str]) -> dict[str, list]:
    """Stream a queryset's columns through a server-side cursor, chunk by chunk."""
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    columns: dict[str, list] = {f: [] for f in fields}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            for name, values in zip(fields, zip(*rows, strict=True), strict=True):
                columns[name].extend(values)
    return columns


def _aware_values(occurred: list) -> list:
    if occurred and isinstance(occurred[0], str):  # SQLite returns text through a raw cursor
        from django.utils.dateparse import parse_datetime

        occurred = [parse_datetime(v) for v in occurred]
    return [v if v.tzinfo else v.replace(tzinfo=ZoneInfo("UTC")) for v in occurred]


def sales_table(merchant: Merchant) -> pa.Table:
    """customer_id, transaction_id, occurred_at (local, naive), total — member sales only."""
    tz = ZoneInfo(merchant.time_zone)
    queryset = Transaction.objects.filter(
        merchant=merchant, kind="sale", customer__isnull=False
    ).order_by()
    cols = _fetch_columns(queryset, ["customer_id", "id", "occurred_at", "total"])
    occurred = _aware_values(cols["occurred_at"])
    return pa.table(
        {
            "customer_id": pa.array(cols["customer_id"], pa.int64()),
            "transaction_id": pa.array(cols["id"], pa.int64()),
            "occurred_at": pa.array(_local_naive(occurred, tz), pa.timestamp("us")),
            "total": pa.array([float(v) for v in cols["total"]], pa.float64()),
        }
    )


def lines_table(merchant: Merchant) -> pa.Table:
    """transaction_id, customer_id (null for walk-ins), product — every sale's line items."""
    queryset = LineItem.objects.filter(
        transaction__merchant=merchant, transaction__kind="sale"
    ).order_by()
    cols = _fetch_columns(queryset, ["transaction_id", "transaction__customer_id", "product_name"])
    return pa.table(
        {
            "transaction_id": pa.array(cols["transaction_id"], pa.int64()),
            "customer_id": pa.array(cols["transaction__customer_id"], pa.int64()),
            "product": pa.array(cols["product_name"], pa.string()),
        }
    )


def products_table(merchant: Merchant) -> pa.Table:
    """item, category, price of the merchant's active products."""
    rows = list(
        Product.objects.filter(merchant=merchant, is_active=True).values_list(
            "name", "category__name", "price"
        )
    )
    return pa.table(
        {
            "item": pa.array([r[0] for r in rows], pa.string()),
            "category": pa.array([r[1] or "" for r in rows], pa.string()),
            "price": pa.array([float(r[2]) for r in rows], pa.float64()),
        }
    )


def ledger_table(merchant: Merchant) -> pa.Table:
    """Every transaction of the merchant: transaction_id, customer_id (null: a walk-in),
    occurred_at (local, naive), total (a refund's is negative), is_sale, payment_method."""
    tz = ZoneInfo(merchant.time_zone)
    queryset = Transaction.objects.filter(merchant=merchant).order_by()
    fields = ["id", "customer_id", "occurred_at", "total", "kind", "payment_method"]
    cols = _fetch_columns(queryset, fields)
    occurred = _aware_values(cols["occurred_at"])
    return pa.table(
        {
            "transaction_id": pa.array(cols["id"], pa.int64()),
            "customer_id": pa.array(cols["customer_id"], pa.int64()),
            "occurred_at": pa.array(_local_naive(occurred, tz), pa.timestamp("us")),
            "total": pa.array([float(v) for v in cols["total"]], pa.float64()),
            "is_sale": pa.array([k == "sale" for k in cols["kind"]], pa.bool_()),
            "payment_method": pa.array(cols["payment_method"], pa.string()),
        }
    )


def member_sales(ledger: pa.Table) -> pa.Table:
    """The rows of :func:`sales_table` out of a :func:`ledger_table`: customers' sales."""
    keep = pc.and_(ledger.column("is_sale"), pc.is_valid(ledger.column("customer_id")))
    return ledger.filter(keep).select(["customer_id", "transaction_id", "occurred_at", "total"])


def paid_table(merchant: Merchant, ledger: pa.Table) -> pa.Table:
    """What paid each sale of ``ledger``: transaction_id, method, amount (one row per method).

    The sales' payment rows (:class:`~langganan.sales.models.TransactionPayment`) are the
    truth; a sale with a total above 0 and no payment row (a row written around the services)
    counts as paid in full with its ``payment_method``. The source is chosen here only.
    """
    sales = ledger.filter(pc.and_(ledger.column("is_sale"), pc.greater(ledger.column("total"), 0)))
    whole = pa.table(
        {
            "transaction_id": sales.column("transaction_id"),
            "method": sales.column("payment_method"),
            "amount": sales.column("total"),
        }
    )
    cols = _fetch_columns(
        TransactionPayment.objects.filter(transaction__merchant=merchant).order_by(),
        ["transaction_id", "method", "amount"],
    )
    rows = pa.table(
        {
            "transaction_id": pa.array(cols["transaction_id"], pa.int64()),
            "method": pa.array(cols["method"], pa.string()),
            "amount": pa.array([float(v) for v in cols["amount"]], pa.float64()),
        }
    )
    without = pc.invert(pc.is_in(whole.column("transaction_id"), rows.column("transaction_id")))
    return pa.concat_tables([rows, whole.filter(without)])
