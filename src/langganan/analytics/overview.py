"""The merchant overview's aggregates per period, and customers' summaries as of past dates.

Framework-free like the rest of the engine: the caller hands in plain tables (see
:mod:`.sql.overview` for the views) and gets pandas frames back. The SQL is written once and runs
on DuckDB or Spark (:mod:`.engines`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._inputs import engine_scope
from .engines import Engine
from .pipeline import _summary_and_rhythm
from .sql import overview as overview_sql

__all__ = ["PeriodTables", "Span", "period_tables", "summaries_before"]

SPANS = ("current", "previous", "last_year")


@dataclass(frozen=True)
class Span:
    """One time span of a period: transactions with ``start < ts <= end`` (naive local)."""

    period_days: int
    span: str
    start: dt.datetime
    end: dt.datetime


@dataclass
class PeriodTables:
    """The per-period aggregates (see :mod:`.sql.overview` for the columns)."""

    figures: pd.DataFrame
    weekday_hour: pd.DataFrame
    day_of_month: pd.DataFrame
    payments: pd.DataFrame
    payments_by_segment: pd.DataFrame
    segment_revenue: pd.DataFrame
    first_product_repeat: pd.DataFrame


def _spans_table(spans: Iterable[Span]) -> pa.Table:
    spans = list(spans)
    return pa.table(
        {
            "period_days": pa.array([s.period_days for s in spans], pa.int64()),
            "span": pa.array([s.span for s in spans], pa.string()),
            "start_ts": pa.array([s.start for s in spans], pa.timestamp("us")),
            "end_ts": pa.array([s.end for s in spans], pa.timestamp("us")),
        }
    )


def period_tables(
    ledger: Any,
    paid: Any,
    lines: Any,
    segments: Any,
    spans: Iterable[Span],
    engine: str | Engine = "duckdb",
) -> PeriodTables:
    """The overview's aggregates of ``ledger`` over ``spans``.

    Parameters
    ----------
    ledger
        Every transaction: ``transaction_id``, ``customer_id`` (null: walk-in), ``ts`` (naive
        local), ``amount`` (refunds negative), ``is_sale``, ``method``.
    paid
        ``transaction_id``, ``method``, ``amount``: what paid each sale.
    lines
        ``transaction_id``, ``item``: the sales' line items.
    segments
        ``customer_id``, ``segment``.
    spans
        :class:`Span` rows.
    """
    with engine_scope(engine) as eng:
        eng.register("input_ledger", ledger)
        eng.create_view(
            "ledger",
            "SELECT CAST(transaction_id AS BIGINT) AS transaction_id, "
            "CAST(customer_id AS BIGINT) AS customer_id, CAST(ts AS TIMESTAMP) AS ts, "
            "CAST(amount AS DECIMAL(18, 2)) AS amount, is_sale, method FROM input_ledger",
        )
        eng.register("input_paid", paid)
        eng.create_view(
            "paid",
            "SELECT CAST(transaction_id AS BIGINT) AS transaction_id, method, "
            "CAST(amount AS DECIMAL(18, 2)) AS amount FROM input_paid",
        )
        eng.register("lines", lines)
        eng.register("customer_segments", segments)
        eng.register("spans", _spans_table(spans))
        return PeriodTables(
            figures=eng.query(overview_sql.WINDOW_FIGURES),
            weekday_hour=eng.query(overview_sql.WEEKDAY_HOUR),
            day_of_month=eng.query(overview_sql.DAY_OF_MONTH),
            payments=eng.query(overview_sql.PAYMENTS),
            payments_by_segment=eng.query(overview_sql.PAYMENTS_BY_SEGMENT),
            segment_revenue=eng.query(overview_sql.SEGMENT_REVENUE),
            first_product_repeat=eng.query(overview_sql.FIRST_PRODUCT_REPEAT),
        )


def summaries_before(
    transactions: pa.Table,
    at: dt.datetime,
    *,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str = "total",
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """Each customer's summary (days) and median gap as of ``at`` (naive local), from their
    transactions at or before it: the pipeline's own summary and rhythm pass
    (:mod:`.sql.pipeline`), observed until ``at``'s day.

    Returns the columns of :data:`~langganan.analytics.summary.SUMMARY_COLUMNS` and
    ``median_gap_days``, indexed by customer; customers without a transaction by then are absent.
    """
    kept = transactions.filter(pc.less_equal(transactions.column(timestamp), pa.scalar(at)))
    with engine_scope(engine) as eng:
        summary, rhythm, _ = _summary_and_rhythm(
            eng,
            kept,
            customer=customer,
            timestamp=timestamp,
            amount=amount,
            end=at,
            holdout=False,
        )
    out = summary.copy()
    out["median_gap_days"] = rhythm["median_gap_days"]
    return out
