"""Each customer's buying habits: rhythm (when they buy) and their usual order (what they buy).

Both run the same SQL (:mod:`.sql.habits`) on DuckDB or Spark. Times are local wall-clock times
as given (see :mod:`.engines`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import sql
from ._inputs import engine_scope, register_lines, register_params, register_transactions
from .engines import Engine

__all__ = [
    "RHYTHM_COLUMNS",
    "TIME_OF_MONTH",
    "USUAL_ORDER_COLUMNS",
    "purchase_rhythm",
    "usual_order",
]

#: Codes of ``time_of_month`` and the Indonesian labels the dashboard shows for them.
TIME_OF_MONTH = {"start": "awal bulan", "middle": "pertengahan", "end": "akhir bulan"}

#: Output columns of :func:`purchase_rhythm` (the index is the customer id).
RHYTHM_COLUMNS = (
    "typical_weekday",
    "weekday_share",
    "typical_hour",
    "hour_share",
    "time_of_month",
    "time_of_month_share",
    "payday_share",
    "median_gap_days",
    "mean_gap_days",
    "gap_cv",
    "n_purchase_days",
    "n_transactions",
    "last_purchase",
)

#: Output columns of :func:`usual_order`.
USUAL_ORDER_COLUMNS = (
    "customer_id",
    "rank",
    "item",
    "times",
    "share",
    "n_transactions",
    "usual_quantity",
)


def purchase_rhythm(
    transactions: Any,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """When each customer buys: typical weekday, hour and part of the month, and the usual gap.

    Shares and modes count transactions (rows); gaps are between consecutive distinct purchase
    days.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer, sorted, with columns

        - ``typical_weekday`` (int64, 0 = Monday … 6 = Sunday) and ``weekday_share``: the most
          frequent weekday (ties → the smallest) and the share of transactions on it;
        - ``typical_hour`` (int64, 0–23) and ``hour_share``: likewise for the hour of day;
        - ``time_of_month`` (``"start"`` days 1–10 / ``"middle"`` 11–20 / ``"end"`` 21–31, ties
          → the earlier part; :data:`TIME_OF_MONTH` maps them to *awal bulan / pertengahan /
          akhir bulan*) and ``time_of_month_share``;
        - ``payday_share``: share of transactions on day ≥ 25 or ≤ 5 of the month (gajian);
        - ``median_gap_days``, ``mean_gap_days`` (NaN with fewer than 2 purchase days) and
          ``gap_cv`` (sample standard deviation / mean of the gaps; NaN with fewer than 3
          purchase days);
        - ``n_purchase_days``, ``n_transactions`` (int64), ``last_purchase`` (timestamp).
    """
    with engine_scope(engine) as eng:
        register_transactions(
            eng, transactions, customer=customer, timestamp=timestamp, amount=None
        )
        result = eng.query(sql.PURCHASE_RHYTHM)
    result = result.set_index("customer_id")
    result.index.name = customer
    return result[list(RHYTHM_COLUMNS)]


def usual_order(
    lines: Any,
    customer: str = "customer_id",
    item: str = "product",
    transaction: str = "transaction_id",
    quantity: str | None = None,
    top: int = 3,
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """Each customer's "usual": the items found in most of their transactions.

    Parameters
    ----------
    lines : DataFrame, pyarrow.Table, DuckDB relation, Spark DataFrame, str or Path
        One row per line item, with the customer, the transaction and the item.
    quantity : str, optional
        Quantity column; when given, ``usual_quantity`` is the median quantity of the item per
        transaction (quantities of repeated lines of the same item in a transaction are summed).
    top : int
        How many items per customer.

    Returns
    -------
    pandas.DataFrame
        Long format, sorted by customer and rank: ``customer_id`` (named after ``customer``),
        ``rank`` (1 = most usual), ``item``, ``times`` (the customer's transactions containing
        the item), ``share`` (times / the customer's transactions), ``n_transactions`` and
        ``usual_quantity`` (only when ``quantity`` is given). Ties are broken by item.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    with engine_scope(engine) as eng:
        register_lines(
            eng, lines, customer=customer, transaction=transaction, item=item, quantity=quantity
        )
        register_params(eng, "usual_order_params", top=(int, top))
        result = eng.query(sql.USUAL_ORDER if quantity is None else sql.USUAL_ORDER_WITH_QUANTITY)
    if quantity is None:
        result = result.drop(columns="usual_quantity")
    return result.rename(columns={"customer_id": customer})
