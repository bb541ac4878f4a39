"""Cohort retention by first-purchase month, and monthly revenue from new vs returning customers.

Months are calendar months of the local timestamp. A customer's cohort is the month of their first
(kept) purchase. Refunds are summed as given. Transactions without a customer (walk-ins) are left
out of both tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from . import sql
from ._inputs import (
    as_local_datetime,
    drop_view,
    engine_scope,
    register_params,
    register_transactions,
)
from .engines import Engine

__all__ = ["cohort_retention", "revenue_by_customer_type"]


def cohort_tables(
    transactions: Any,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str | None = "total",
    observation_end: Any = None,
    engine: str | Engine = "duckdb",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`cohort_retention` and :func:`revenue_by_customer_type` together, the per-(customer,
    month) table they both read computed once (the pipeline's shared pass)."""
    end = as_local_datetime(observation_end)
    with engine_scope(engine) as eng:
        register_transactions(
            eng, transactions, customer=customer, timestamp=timestamp, amount=amount
        )
        register_params(eng, "cohort_params", observation_end=(dt.datetime, end))
        eng.create_view("cohort_months", sql.COHORT_MONTHS, materialize=True)
        try:
            retention = eng.query(sql.COHORT_RETENTION_FROM_MONTHS)
            mix = eng.query(sql.REVENUE_BY_CUSTOMER_TYPE_FROM_MONTHS)
        finally:
            drop_view(eng, "cohort_months")
    return retention, mix


def _monthly(
    query: str,
    transactions: Any,
    customer: str,
    timestamp: str,
    amount: str | None,
    observation_end: Any,
    engine: str | Engine,
) -> pd.DataFrame:
    end = as_local_datetime(observation_end)
    with engine_scope(engine) as eng:
        register_transactions(
            eng, transactions, customer=customer, timestamp=timestamp, amount=amount
        )
        register_params(eng, "cohort_params", observation_end=(dt.datetime, end))
        return eng.query(query)


def cohort_retention(
    transactions: Any,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str | None = "total",
    observation_end: Any = None,
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """Customers of each first-purchase-month cohort active in each later month.

    Returns
    -------
    pandas.DataFrame
        Long format sorted by cohort and offset: ``cohort_month`` (timestamp, first day of the
        month), ``months_since`` (0 = the cohort month), ``cohort_size``, ``customers`` (cohort
        members with a transaction in that month), ``orders``, ``revenue`` (their spend that
        month) and ``retention`` = customers / cohort_size. Offsets with no active customer have
        no row.
    """
    return _monthly(
        sql.COHORT_RETENTION, transactions, customer, timestamp, amount, observation_end, engine
    )


def revenue_by_customer_type(
    transactions: Any,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str | None = "total",
    observation_end: Any = None,
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """Monthly revenue and orders from new customers vs returning customers.

    A transaction is *new* when it falls in its customer's first purchase month (all of that
    month's transactions), *returning* otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per month with any transaction, sorted: ``month``, ``new_customers``,
        ``new_orders``, ``new_revenue``, ``returning_customers``, ``returning_orders``,
        ``returning_revenue``, ``revenue`` and ``returning_revenue_share`` (NaN when the month's
        revenue is 0).
    """
    return _monthly(
        sql.REVENUE_BY_CUSTOMER_TYPE,
        transactions,
        customer,
        timestamp,
        amount,
        observation_end,
        engine,
    )
