"""cohort_retention() and revenue_by_customer_type() on hand-made data."""

from __future__ import annotations

import pandas as pd
import pytest

from langganan.analytics.cohorts import cohort_retention, revenue_by_customer_type


@pytest.fixture
def transactions() -> pd.DataFrame:
    data = [
        ("a", "2024-01-05", 100),
        ("a", "2024-01-20", 50),  # same month as the first purchase: still "new"
        ("a", "2024-02-03", 70),
        ("a", "2024-04-01", -20),  # a refund
        ("b", "2024-01-31", 10),
        ("c", "2024-02-14", 40),
        ("c", "2024-03-01", 60),
        (None, "2024-02-02", 999),  # walk-in: left out
    ]
    frame = pd.DataFrame(data, columns=["customer_id", "occurred_at", "total"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame


def test_cohort_retention(transactions):
    result = cohort_retention(transactions)
    got = [
        (r.cohort_month.strftime("%Y-%m"), r.months_since, r.cohort_size, r.customers, r.revenue)
        for r in result.itertuples()
    ]
    assert got == [
        ("2024-01", 0, 2, 2, 160.0),
        ("2024-01", 1, 2, 1, 70.0),
        ("2024-01", 3, 2, 1, -20.0),
        ("2024-02", 0, 1, 1, 40.0),
        ("2024-02", 1, 1, 1, 60.0),
    ]
    assert result["retention"].tolist() == [1.0, 0.5, 0.5, 1.0, 1.0]
    assert result["orders"].tolist() == [3, 1, 1, 1, 1]


def test_cohort_retention_stops_at_observation_end(transactions):
    result = cohort_retention(transactions, observation_end="2024-02-29")
    assert result["months_since"].tolist() == [0, 1, 0]


def test_revenue_by_customer_type(transactions):
    result = revenue_by_customer_type(transactions)
    got = [
        (
            r.month.strftime("%Y-%m"),
            r.new_customers,
            r.new_orders,
            r.new_revenue,
            r.returning_customers,
            r.returning_orders,
            r.returning_revenue,
        )
        for r in result.itertuples()
    ]
    assert got == [
        ("2024-01", 2, 3, 160.0, 0, 0, 0.0),
        ("2024-02", 1, 1, 40.0, 1, 1, 70.0),
        ("2024-03", 0, 0, 0.0, 1, 1, 60.0),
        ("2024-04", 0, 0, 0.0, 1, 1, -20.0),
    ]
    assert result["revenue"].tolist() == [160.0, 110.0, 60.0, -20.0]
    assert result["returning_revenue_share"].tolist() == [0.0, 70 / 110, 1.0, 1.0]
