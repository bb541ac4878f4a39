"""purchase_rhythm() and usual_order() on hand-made data with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.habits import RHYTHM_COLUMNS, TIME_OF_MONTH, purchase_rhythm, usual_order


def test_rhythm_of_known_customers(tiny_transactions):
    result = purchase_rhythm(tiny_transactions)
    assert list(result.columns) == list(RHYTHM_COLUMNS)
    a, b, c = (result.loc[k] for k in "abc")
    # a: Mon 1 Jan 08:00 and 19:30, Thu 4 Jan 12:00, Mon 15 Jan 09:00.
    assert (a.typical_weekday, a.weekday_share) == (0, 0.75)
    assert (a.typical_hour, a.hour_share) == (8, 0.25)  # four hours once each: the smallest
    assert (a.time_of_month, a.time_of_month_share, a.payday_share) == ("start", 0.75, 0.75)
    assert (a.median_gap_days, a.mean_gap_days) == (7, 7)  # gaps 3 and 11 days
    assert a.gap_cv == pytest.approx(np.std([3, 11], ddof=1) / 7)
    assert (a.n_purchase_days, a.n_transactions) == (3, 4)
    assert a.last_purchase == pd.Timestamp("2024-01-15 09:00")
    # b: one purchase, Wed 10 Jan 10:00.
    assert (b.typical_weekday, b.typical_hour, b.time_of_month, b.payday_share) == (
        2,
        10,
        "start",
        0,
    )
    assert math.isnan(b.median_gap_days) and math.isnan(b.mean_gap_days) and math.isnan(b.gap_cv)
    # c: Tue 2 Jan, Tue 9 Jan, Thu 1 Feb, all at 07:00.
    assert (c.typical_weekday, c.weekday_share) == (1, pytest.approx(2 / 3))
    assert (c.typical_hour, c.hour_share) == (7, 1.0)
    assert c.payday_share == pytest.approx(2 / 3)
    assert (c.median_gap_days, c.mean_gap_days) == (15, 15)
    assert c.gap_cv == pytest.approx(np.std([7, 23], ddof=1) / 15)


def test_modes_break_ties_by_the_smallest_value():
    data = pd.DataFrame(
        {
            "customer_id": [1, 1],
            # Sunday 7 Jan 23:00 (end of month part: no), Monday 22 Jan 05:00
            "occurred_at": pd.to_datetime(["2024-01-07 23:00", "2024-01-22 05:00"]),
        }
    )
    row = purchase_rhythm(data).loc[1]
    assert (row.typical_weekday, row.typical_hour, row.time_of_month) == (0, 5, "start")
    assert row.weekday_share == row.hour_share == row.time_of_month_share == 0.5


def test_gap_cv_needs_three_purchase_days_and_weekdays_work_before_1970():
    data = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "occurred_at": pd.to_datetime(["1969-12-31 12:00", "1970-01-02 12:00"]),
        }
    )
    row = purchase_rhythm(data).loc[1]
    assert row.typical_weekday == 2  # 31 Dec 1969 was a Wednesday
    assert row.median_gap_days == 2 and math.isnan(row.gap_cv)


def test_middle_and_end_of_month():
    data = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "occurred_at": pd.to_datetime(["2024-03-12", "2024-03-20", "2024-04-28", "2024-03-31"]),
        }
    )
    result = purchase_rhythm(data)
    assert result.loc[1, "time_of_month"] == "middle"
    assert result.loc[2, "time_of_month"] == "end"
    assert result.loc[1, "payday_share"] == pytest.approx(1 / 3)
    assert set(TIME_OF_MONTH) == {"start", "middle", "end"}


@pytest.fixture
def lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["x"] * 7 + ["y"] * 2 + [None],
            "transaction_id": [1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
            "product": ["kopi", "roti", "kopi", "kopi", "teh", "teh", "roti", "es", "kopi", "x"],
            "qty": [1, 2, 1, 2, 1, 1, 1, 1, 1, 1],
        }
    )


def test_usual_order_ranks_items_by_transactions_containing_them(lines):
    result = usual_order(lines, quantity="qty", top=2)
    assert list(result.columns) == [
        "customer_id",
        "rank",
        "item",
        "times",
        "share",
        "n_transactions",
        "usual_quantity",
    ]
    records = result[["customer_id", "rank", "item", "times", "share"]].to_records(index=False)
    assert [tuple(r) for r in records] == [
        ("x", 1, "kopi", 2, 2 / 3),  # twice in transaction 1: counted once
        ("x", 2, "roti", 2, 2 / 3),  # tie with teh: broken by name
        ("y", 1, "es", 1, 1.0),
        ("y", 2, "kopi", 1, 1.0),
    ]
    assert result["usual_quantity"].tolist() == [2.0, 1.5, 1.0, 1.0]


def test_usual_order_without_quantity_and_custom_names(lines):
    renamed = lines.rename(columns={"customer_id": "pelanggan", "product": "menu"})
    result = usual_order(renamed, customer="pelanggan", item="menu", top=1)
    assert list(result.columns) == ["pelanggan", "rank", "item", "times", "share", "n_transactions"]
    assert result["item"].tolist() == ["kopi", "es"]


def test_usual_order_refuses_a_bad_top(lines):
    with pytest.raises(ValueError, match="top"):
        usual_order(lines, top=0)
