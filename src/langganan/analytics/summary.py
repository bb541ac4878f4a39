"""Per-customer BTYD summary (frequency, recency, T, monetary value) from raw transactions.

The definitions are those of Fader, Hardie & Lee (2005) and of lifetimes'
``summary_data_from_transaction_data`` (also used by PyMC-Marketing and CLVTools):

- purchases are grouped by *period* — the local calendar day (``period="D"``) or the ISO week
  starting on Monday (``period="W"``, pandas' ``W`` periods); several purchases in one period
  count once, their amounts are summed;
- ``frequency`` = number of periods with a purchase − 1 (the repeat periods);
- ``recency`` = time from the first to the last purchase period; ``T`` = time from the first
  purchase period to the period containing ``observation_end``; both measured between period
  starts and expressed in ``unit`` (``"D"`` days, ``"W"`` weeks = days / 7, so ``period="D",
  unit="W"`` gives lifetimes' ``freq="D", freq_multiplier=7`` fractional weeks and
  ``period="W", unit="D"`` gives multiples of 7);
- ``monetary_value`` = mean spend of the repeat periods (the first period left out); 0 when
  ``frequency`` is 0.

Days are cut on the timestamps' own local date as given (see :mod:`.engines`: timezone-aware
values keep their wall-clock time; callers pass local times, e.g. Asia/Jakarta naive).
``observation_end`` defaults to the last timestamp in the data; transactions on a later *day* are
left out (a timestamp ``observation_end`` observes its whole day, as in lifetimes). With
``period="W"`` lifetimes would also keep the rest of the observation week; here nothing after
``observation_end``'s day is kept. Negative amounts (refunds) are summed as given, so a refund in
a repeat period lowers that period's spend (and ``monetary_value``); the transaction still counts
as an order and its day as a purchase period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from . import sql
from ._inputs import as_local_datetime, choice, engine_scope, register_params, register_transactions
from .engines import Engine

__all__ = ["SUMMARY_COLUMNS", "summarize"]

#: Output columns of :func:`summarize`, in order (the index is the customer id).
SUMMARY_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "first_purchase",
    "last_purchase",
    "orders",
    "periods",
    "total_spend",
    "first_period",
)

_PERIODS = {"D": "D", "DAY": "D", "W": "W", "WEEK": "W"}
_UNIT_DAYS = {"D": 1, "DAY": 1, "W": 7, "WEEK": 7}


def summarize(
    transactions: Any,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str | None = "total",
    observation_end: dt.date | dt.datetime | str | pd.Timestamp | None = None,
    period: str = "D",
    unit: str = "D",
    engine: str | Engine = "duckdb",
) -> pd.DataFrame:
    """Summarise transactions into one BTYD row per customer.

    Parameters
    ----------
    transactions : DataFrame, pyarrow.Table, DuckDB relation, Spark DataFrame, str or Path
        One row per transaction; a path is a Parquet or CSV file.
    customer, timestamp, amount : str
        Column names. ``amount=None`` sets every amount to 0.
    observation_end : date-like, optional
        Last observed day; defaults to the last timestamp in the data.
    period : {"D", "W"}
        Purchases are grouped by day or by Monday-starting week.
    unit : {"D", "W"}
        Unit of ``recency`` and ``T``.
    engine : {"duckdb", "spark"} or Engine

    Returns
    -------
    pandas.DataFrame
        Indexed by customer (index name = ``customer``), sorted, with columns
        ``frequency`` (int64), ``recency``, ``T``, ``monetary_value`` (float64),
        ``first_purchase``, ``last_purchase`` (first/last kept timestamp), ``orders`` (number of
        kept transactions, int64), ``periods`` (int64), ``total_spend`` (sum of all kept amounts,
        refunds included, float64), ``first_period`` (start of the first purchase period).
        ``attrs["observation_period"]`` holds the start of the period containing the observation
        end as an ISO 8601 string (``"2024-02-01T00:00:00"``; ``pd.Timestamp`` reads it back),
        ``None`` when there are no transactions; ``attrs["period"]`` and ``attrs["unit_days"]``
        the ``period`` code and the days per ``unit``. All attrs are JSON values, so the result
        can be written with ``to_parquet`` (pandas refuses attrs JSON cannot hold).
    """
    period_code = choice(period, _PERIODS, "period")
    unit_days = choice(unit, _UNIT_DAYS, "unit")
    end = as_local_datetime(observation_end)
    with engine_scope(engine) as eng:
        register_transactions(
            eng, transactions, customer=customer, timestamp=timestamp, amount=amount
        )
        register_params(
            eng,
            "summary_params",
            observation_end=(dt.datetime, end),
            period=(str, period_code),
            unit_days=(int, unit_days),
        )
        result = eng.query(sql.SUMMARY)
    observation_period = result.pop("observation_period")
    result = result.set_index("customer_id")
    result.index.name = customer
    result.attrs.update(
        observation_period=observation_period_attr(observation_period),
        period=period_code,
        unit_days=unit_days,
    )
    return result[list(SUMMARY_COLUMNS)]


def observation_period_attr(observation_period: pd.Series) -> str | None:
    """``attrs["observation_period"]`` from the query's ``observation_period`` column.

    The period start (the same on every row) as an ISO 8601 string, so the summary's attrs stay
    JSON values and ``to_parquet`` writes them; ``None`` when there are no rows.
    """
    if not len(observation_period) or pd.isna(observation_period.iloc[0]):
        return None
    return pd.Timestamp(observation_period.iloc[0]).isoformat()
