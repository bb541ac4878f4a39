"""The overview's per-period SQL (analytics.overview) on hand-made data, on DuckDB and Spark."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa
import pytest

from langganan.analytics.overview import Span, period_tables, summaries_before
from langganan.analytics.summary import summarize

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

CURRENT = Span(30, "current", datetime(2024, 2, 9), datetime(2024, 3, 10))
PREVIOUS = Span(30, "previous", datetime(2024, 1, 10), datetime(2024, 2, 9))
EMPTY = Span(30, "last_year", datetime(2023, 2, 9), datetime(2023, 3, 10))


@pytest.fixture(params=["duckdb", "spark"])
def engine(request) -> str:
    if request.param == "spark":
        request.getfixturevalue("spark")
    return request.param


def _ledger() -> pd.DataFrame:
    rows = [
        # id, customer, time, amount, sale?, method
        (1, 1, "2024-01-10 09:00", 100, True, "cash"),  # in the previous span
        (2, 1, "2024-03-05 10:00", 50, True, "qris"),
        (3, 2, "2024-03-06 11:00", 30, True, "cash"),
        (4, None, "2024-03-07 12:00", 20, True, "e_wallet"),  # a walk-in
        (5, 1, "2024-03-08 13:00", -10, False, "qris"),  # a refund of sale 2
        (6, 3, "2024-03-09 14:00", 40, True, "cash"),  # split: 25 cash, 15 debit
        (7, 2, "2024-03-09 15:00", 0, True, "cash"),  # free: no payment row
        (8, 3, "2024-03-10 00:00:01", 99, True, "cash"),  # after the end
    ]
    frame = pd.DataFrame(
        rows, columns=["transaction_id", "customer_id", "ts", "amount", "is_sale", "method"]
    )
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _paid() -> pd.DataFrame:
    rows = [
        (1, "cash", 100.0),
        (2, "qris", 50.0),
        (3, "cash", 30.0),
        (4, "e_wallet", 20.0),
        (6, "cash", 25.0),
        (6, "debit_card", 15.0),
        (8, "cash", 99.0),
    ]
    return pd.DataFrame(rows, columns=["transaction_id", "method", "amount"])


def _lines() -> pd.DataFrame:
    rows = [(1, "kopi"), (1, "roti"), (2, "kopi"), (3, "teh"), (4, "kopi"), (6, "kopi")]
    return pd.DataFrame(rows, columns=["transaction_id", "item"])


def _segments() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2, 3], "segment": ["champions", "new", "new"]})


@pytest.fixture
def tables(engine):
    return period_tables(
        _ledger(), _paid(), _lines(), _segments(), [CURRENT, PREVIOUS, EMPTY], engine=engine
    )


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def test_figures_per_span(tables):
    got = {r["span"]: r for r in _records(tables.figures)}
    assert set(got) == {"current", "previous"}  # a span without a transaction has no row
    current = got["current"]
    assert (current["sales"], current["customer_sales"], current["buyers"]) == (5, 4, 3)
    assert current["new_customers"] == 2  # customers 2 and 3; customer 1 came in January
    assert current["revenue"] == 130.0  # the walk-in in, the refund off
    assert current["customer_revenue"] == 110.0
    assert current["returning_revenue"] == 40.0  # customer 1's sale less her refund
    previous = got["previous"]
    assert (previous["sales"], previous["buyers"], previous["new_customers"]) == (1, 1, 1)
    assert (previous["revenue"], previous["returning_revenue"]) == (100.0, 0.0)


def test_when_customers_come(tables):
    cells = [(r["weekday"], r["hour"], r["visits"]) for r in _records(tables.weekday_hour)]
    # 5 March 2024 was a Tuesday (1); the refund is not a visit
    assert cells == [(1, 10, 1), (2, 11, 1), (3, 12, 1), (5, 14, 1), (5, 15, 1)]
    days = [(r["day"], r["visits"], r["revenue"]) for r in _records(tables.day_of_month)]
    assert days == [(5, 1, 50.0), (6, 1, 30.0), (7, 1, 20.0), (8, 0, -10.0), (9, 2, 40.0)]


def test_how_they_pay(tables):
    payments = {r["method"]: (r["sales"], r["revenue"]) for r in _records(tables.payments)}
    assert payments == {
        "cash": (2, 55.0),  # sale 3 and the cash part of sale 6
        "debit_card": (1, 15.0),
        "e_wallet": (1, 20.0),
        "qris": (1, 40.0),  # the refund comes off the method of its sale
    }
    by_segment = {
        (r["segment"], r["method"]): (r["sales"], r["revenue"])
        for r in _records(tables.payments_by_segment)
    }
    assert by_segment == {
        ("champions", "qris"): (1, 40.0),
        ("new", "cash"): (2, 55.0),
        ("new", "debit_card"): (1, 15.0),
    }
    revenue = {r["segment"]: r["revenue"] for r in _records(tables.segment_revenue)}
    assert revenue == {"champions": 40.0, "new": 70.0}


def test_first_products_and_who_came_back(tables):
    rows = {
        r["product"]: (r["customers"], r["returned"]) for r in _records(tables.first_product_repeat)
    }
    # first sales: customer 1 kopi + roti (back in March), 2 teh (back on 9 March), 3 kopi
    # (back on 10 March: the caller cuts the ledger at the observation end, not the spans)
    assert rows == {"kopi": (2, 2), "roti": (1, 1), "teh": (1, 1)}


def test_summaries_before_a_date_are_the_engines_summary_of_the_sales_by_then(engine):
    sales = _ledger()
    sales = sales[sales["is_sale"] & sales["customer_id"].notna()].rename(
        columns={"ts": "occurred_at", "amount": "total"}
    )
    sales["customer_id"] = sales["customer_id"].astype("int64")
    table = pa.Table.from_pandas(
        sales[["customer_id", "transaction_id", "occurred_at", "total"]], preserve_index=False
    )
    at = datetime(2024, 3, 9, 14, 30)
    got = summaries_before(table, at, engine=engine)
    kept = sales[sales["occurred_at"] <= at]
    expected = summarize(kept, observation_end=at)
    assert sorted(got.index) == [1, 2, 3]
    for column in ("frequency", "recency", "T", "monetary_value", "orders"):
        assert got[column].tolist() == expected.loc[got.index, column].tolist(), column
    # customer 2's sale at 15:00 that day is after ``at``: one purchase day, no gap
    assert got.loc[2, "frequency"] == 0 and pd.isna(got.loc[2, "median_gap_days"])
    assert got.loc[1, "median_gap_days"] == 55.0  # 10 January to 5 March
