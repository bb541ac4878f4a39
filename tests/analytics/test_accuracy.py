"""The calibration/holdout test of the purchase models (langganan.analytics.accuracy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.accuracy import (
    HOLDOUT_MAX_DAYS,
    HOLDOUT_MIN_DAYS,
    HoldoutData,
    holdout_data,
    holdout_days,
    holdout_report,
)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (0, None),
        (30, None),
        (41, None),  # a third is 13 days: too short to hold back
        (41.9, None),
        (42, HOLDOUT_MIN_DAYS),
        (45, 15),
        (181, 60),  # six months: two months held back
        (269, 89),
        (270, HOLDOUT_MAX_DAYS),
        (548, HOLDOUT_MAX_DAYS),  # 18 months: capped at 90 days
    ],
)
def test_holdout_days_is_a_third_of_the_history_within_limits(history, expected):
    assert holdout_days(history) == expected


def _example() -> tuple[np.ndarray, HoldoutData]:
    """Six customers; the last three pooled in the chart's "7+" row; one prediction failed."""
    data = HoldoutData(
        days=30,
        frequency=np.array([0.0, 1.0, 2.0, 8.0, 10.0, 7.0]),
        recency=np.array([0.0, 5.0, 9.0, 40.0, 50.0, 30.0]),
        T=np.array([20.0, 30.0, 40.0, 60.0, 60.0, 45.0]),
        litt=np.zeros(6),
        actual=np.array([0.0, 2.0, 1.0, 3.0, 0.0, 5.0]),
    )
    predicted = np.array([0.2, 1.5, 0.9, 2.0, 1.0, np.nan])  # NaN counts as 0
    return predicted, data


def test_holdout_report_on_a_hand_made_example():
    predicted, data = _example()
    report = holdout_report(predicted, data)
    assert report["customers"] == 6
    assert len(data) == 6
    assert report["days"] == 30
    # |0.2-0| + |1.5-2| + |0.9-1| + |2-3| + |1-0| + |0-5| = 7.8 over 6 customers
    assert report["mae"] == pytest.approx(1.3)
    assert report["total_predicted"] == pytest.approx(5.6)
    assert report["total_actual"] == 11.0
    assert report["total_error"] == pytest.approx(-0.4909)  # (5.6 - 11) / 11, 4 decimals
    # expected back (>= 1): customers 2, 4 and 5 (1.0 counts); of them 2 and 4 came
    assert report["expected_back"] == 3
    assert report["came_back"] == 2
    assert report["came_back_share"] == pytest.approx(0.6667)
    # came without being expected: customer 3 (0.9) and customer 6 (failed prediction)
    assert report["not_expected_came"] == 2


def test_holdout_report_chart_rows_by_calibration_frequency():
    predicted, data = _example()
    chart = holdout_report(predicted, data)["chart"]
    assert [row["frequency"] for row in chart] == [0, 1, 2, "7+"]  # empty rows are left out
    assert [row["customers"] for row in chart] == [1, 1, 1, 3]
    assert [row["predicted"] for row in chart] == pytest.approx([0.2, 1.5, 0.9, 1.0])
    assert [row["actual"] for row in chart] == pytest.approx([0.0, 2.0, 1.0, 2.6667])
    # frequency 7 exactly is pooled with the larger ones
    seven = HoldoutData(30, np.array([6.0, 7.0]), np.ones(2), np.ones(2), np.zeros(2), np.ones(2))
    rows = holdout_report(np.ones(2), seven)["chart"]
    assert [row["frequency"] for row in rows] == [6, "7+"]


def test_holdout_report_without_purchases_or_expected_returns():
    data = HoldoutData(
        14, np.array([1.0, 3.0]), np.ones(2), np.full(2, 9.0), np.zeros(2), np.zeros(2)
    )
    report = holdout_report(np.array([0.5, 0.25]), data)
    assert report["total_actual"] == 0.0
    assert report["total_error"] is None
    assert report["expected_back"] == 0
    assert report["came_back"] == 0
    assert report["came_back_share"] is None
    assert report["mae"] == pytest.approx(0.375)


def _summary(**columns) -> pd.DataFrame:
    base = {
        "cal_periods": [3, 1, 2, 0],
        "cal_recency": [10.0, 0.0, 0.0, np.nan],
        "cal_T": [20.0, 15.0, 0.0, -5.0],
        "cal_litt": [1.5, 0.0, 0.0, 0.0],
        "holdout_periods": [2, 0, 1, 4],
    }
    base.update(columns)
    return pd.DataFrame(base, index=pd.Index(["a", "b", "c", "d"], name="customer_id"))


def test_holdout_data_keeps_customers_known_before_the_split():
    data = holdout_data(_summary(), 30)
    assert data is not None
    assert data.days == 30
    # c's first purchase is on the calibration end (T 0), d's after it: both left out
    assert len(data) == 2
    np.testing.assert_array_equal(data.frequency, [2.0, 0.0])
    np.testing.assert_array_equal(data.recency, [10.0, 0.0])
    np.testing.assert_array_equal(data.T, [20.0, 15.0])
    np.testing.assert_array_equal(data.litt, [1.5, 0.0])
    np.testing.assert_array_equal(data.actual, [2.0, 0.0])


def test_holdout_data_recency_nan_becomes_zero():
    data = holdout_data(_summary(cal_recency=[10.0, np.nan, np.nan, np.nan]), 30)
    assert data is not None
    np.testing.assert_array_equal(data.recency, [10.0, 0.0])


def test_holdout_data_none_without_a_split():
    assert holdout_data(_summary(), None) is None
    assert holdout_data(_summary().drop(columns=["cal_T"]), 30) is None
    assert holdout_data(_summary(cal_T=[np.nan, np.nan, 0.0, np.nan]), 30) is None


def test_holdout_data_none_without_repeat_buyers_in_calibration():
    # c repeated, but only on its first day before the split (T 0): not known, not counted
    assert holdout_data(_summary(cal_periods=[1, 1, 2, 0]), 30) is None
