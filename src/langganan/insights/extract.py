"""Read a merchant's sales out of the app database into Arrow tables for the engine.

The engine never touches Django: this module hands it plain columns. Timestamps are converted
to the merchant's local wall-clock time (naive), so that days, weekdays and hours are the
merchant's own. Only sales are read (a refund is not a visit); a refund's amount is not
subtracted from spend here.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pyarrow as pa
from django.db import connection

from langganan.core.models import Merchant
from langganan.sales.models import LineItem, Product, Transaction

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


def sales_table(merchant: Merchant) -> pa.Table:
    """customer_id, transaction_id, occurred_at (local, naive), total — member sales only."""
    tz = ZoneInfo(merchant.time_zone)
    queryset = Transaction.objects.filter(
        merchant=merchant, kind="sale", customer__isnull=False
    ).order_by()
    cols = _fetch_columns(queryset, ["customer_id", "id", "occurred_at", "total"])
    occurred = cols["occurred_at"]
    if occurred and isinstance(occurred[0], str):  # SQLite returns text through a raw cursor
        from django.utils.dateparse import parse_datetime

        occurred = [parse_datetime(v) for v in occurred]
    occurred = [v if v.tzinfo else v.replace(tzinfo=ZoneInfo("UTC")) for v in occurred]
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
