"""How well the purchase models predict each merchant's own customers: a calibration/holdout test.

The merchant's history is split at a *calibration end* before the observation end. Each model is
fitted on the calibration part only (customers whose first purchase falls before the split) and
predicts each customer's repeat purchase days in the holdout; the predictions are compared with
what each customer actually did (Fader, Hardie & Lee 2005, fig. 3 and 4: the classic
calibration-vs-holdout chart, by number of repeat purchases in calibration).

* **Holdout length** (:func:`holdout_days`): a third of the history, at most
  :data:`HOLDOUT_MAX_DAYS` (90); no test when it would be shorter than :data:`HOLDOUT_MIN_DAYS`
  (14) — a month and a half of history is too little to hold any back.
* **Error** (:func:`holdout_report`): the mean absolute error per customer of the predicted
  number of repeat purchase days (``mae``, the criterion the pipeline chooses the model by),
  the total predicted against the total actual, and, in plain numbers for the owner, how many of
  the customers that the model expected to come back at least once (expected >= 1) did come.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "HOLDOUT_MAX_DAYS",
    "HOLDOUT_MIN_DAYS",
    "HoldoutData",
    "holdout_data",
    "holdout_days",
    "holdout_report",
]

HOLDOUT_MAX_DAYS = 90
HOLDOUT_MIN_DAYS = 14
#: calibration frequencies shown one by one in the chart; larger ones are pooled ("7+")
CHART_MAX_FREQUENCY = 7


def holdout_days(history_days: float) -> int | None:
    """Length of the holdout for a history of ``history_days`` days, or None for no test."""
    days = min(HOLDOUT_MAX_DAYS, int(history_days // 3))
    return days if days >= HOLDOUT_MIN_DAYS else None


@dataclass(frozen=True)
class HoldoutData:
    """The calibration summaries and holdout outcome of the customers known before the split."""

    days: int
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    litt: np.ndarray
    actual: np.ndarray

    def __len__(self) -> int:
        return len(self.actual)

    def take(self, rows: np.ndarray) -> HoldoutData:
        """The same test on a subset of the customers (row positions)."""
        return HoldoutData(
            days=self.days,
            frequency=self.frequency[rows],
            recency=self.recency[rows],
            T=self.T[rows],
            litt=self.litt[rows],
            actual=self.actual[rows],
        )


def holdout_data(summary: pd.DataFrame, days: int | None) -> HoldoutData | None:
    """The calibration part of the pipeline's summary (columns ``cal_periods``,
    ``cal_recency``, ``cal_T``, ``cal_litt``, ``holdout_periods``), for customers whose first
    purchase was at least a day before the split; None without a split or without a customer
    who repeated in calibration."""
    if days is None or "cal_T" not in summary.columns:
        return None
    cal_t = summary["cal_T"].to_numpy(dtype=float, na_value=np.nan)
    known = np.isfinite(cal_t) & (cal_t > 0)
    if not known.any():
        return None
    frequency = summary["cal_periods"].to_numpy(dtype=float)[known] - 1.0
    if not (frequency > 0).any():
        return None
    return HoldoutData(
        days=int(days),
        frequency=frequency,
        recency=np.nan_to_num(summary["cal_recency"].to_numpy(dtype=float)[known]),
        T=cal_t[known],
        litt=summary["cal_litt"].to_numpy(dtype=float)[known],
        actual=summary["holdout_periods"].to_numpy(dtype=float)[known],
    )


def holdout_report(predicted: np.ndarray, data: HoldoutData) -> dict:
    """Compare predicted and actual holdout purchase days (JSON-safe numbers).

    Returns
    -------
    dict
        ``customers``, ``days``, ``mae`` (mean absolute error per customer), ``total_predicted``,
        ``total_actual``, ``total_error`` (relative, signed), ``expected_back`` (customers
        predicted to come at least once), ``came_back`` (of them, those who did),
        ``came_back_share`` and ``chart``: one row per calibration frequency 0 … 7+ with the
        customers, mean predicted and mean actual holdout purchase days.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = data.actual
    ok = np.isfinite(predicted)
    predicted = np.where(ok, predicted, 0.0)
    expected_back = predicted >= 1.0
    came = actual > 0
    chart = []
    bucket = np.minimum(data.frequency, CHART_MAX_FREQUENCY).astype(int)
    for f in range(CHART_MAX_FREQUENCY + 1):
        rows = bucket == f
        if not rows.any():
            continue
        chart.append(
            {
                "frequency": f if f < CHART_MAX_FREQUENCY else f"{f}+",
                "customers": int(rows.sum()),
                "predicted": round(float(predicted[rows].mean()), 4),
                "actual": round(float(actual[rows].mean()), 4),
            }
        )
    total_predicted = float(predicted.sum())
    total_actual = float(actual.sum())
    n_expected = int(expected_back.sum())
    n_came = int((expected_back & came).sum())
    return {
        "customers": len(actual),
        "days": data.days,
        "mae": round(float(np.abs(predicted - actual).mean()), 6),
        "total_predicted": round(total_predicted, 2),
        "total_actual": round(total_actual, 2),
        "total_error": round((total_predicted - total_actual) / total_actual, 4)
        if total_actual
        else None,
        "expected_back": n_expected,
        "came_back": n_came,
        "came_back_share": round(n_came / n_expected, 4) if n_expected else None,
        "not_expected_came": int((~expected_back & came).sum()),
        "chart": chart,
    }
