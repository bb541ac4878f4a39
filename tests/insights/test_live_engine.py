"""The pieces a live insight update is made of agree with the engine's own (no database)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.btyd import GammaGamma, ParetoNBD
from langganan.analytics.btyd.mbg_cnbd import MBGCNBD
from langganan.analytics.btyd.priors import default_prior
from langganan.analytics.consistency import segment_for_stage, segment_of
from langganan.analytics.habits import purchase_rhythm
from langganan.analytics.lifecycle import STAGE_ORDER
from langganan.analytics.summary import summarize
from langganan.insights.live import _cumulative, summarize_sales

JAKARTA = ZoneInfo("Asia/Jakarta")
SEED = 20261204


def test_segment_of_one_customer_is_the_tables_segment():
    stages, fs, ms = zip(*itertools.product(STAGE_ORDER, range(1, 6), range(1, 6)), strict=True)
    table = segment_for_stage(pd.Series(stages), pd.Series(fs), pd.Series(ms))
    for stage, f, m, expected in zip(stages, fs, ms, table, strict=True):
        assert segment_of(stage, f, m) == expected
    assert segment_of("new", 0, 0) == "new"  # no ranks yet: read as the lowest
    assert segment_of("unknown", 3, 3) is None and segment_of("active", np.nan, 3) is None


def test_the_summary_of_one_customers_sales_is_the_engines():
    print(f"seed {SEED}")
    rng = np.random.default_rng(SEED)
    end_day = date(2026, 11, 30)
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    histories = {}
    for customer in range(60):
        # UTC times around the Jakarta midnight too, several on one day, some after the end
        hours = np.sort(rng.uniform(0, 345 * 24, size=int(rng.integers(1, 30))))
        histories[customer] = [
            (start + timedelta(hours=float(h)), Decimal(int(rng.integers(5, 200)) * 500))
            for h in hours
        ]
    frame = pd.DataFrame(
        [
            (customer, at.astimezone(JAKARTA).replace(tzinfo=None), float(total))
            for customer, sales in histories.items()
            for at, total in sales
        ],
        columns=["customer_id", "occurred_at", "total"],
    )
    theirs = summarize(frame, observation_end=pd.Timestamp(end_day))
    gaps = purchase_rhythm(frame[frame["occurred_at"].dt.date <= end_day])["median_gap_days"]
    for customer, sales in histories.items():
        ours = summarize_sales(sales, JAKARTA, end_day)
        if customer not in theirs.index:
            assert ours is None
            continue
        row = theirs.loc[customer]
        assert (ours.orders, ours.periods, ours.frequency) == (
            row["orders"],
            row["periods"],
            row["frequency"],
        )
        assert (ours.recency, ours.T) == (row["recency"], row["T"])
        assert float(ours.total_spend) == pytest.approx(row["total_spend"])
        assert ours.monetary_value == pytest.approx(row["monetary_value"])
        gap = gaps.loc[customer]
        assert ours.median_gap_days == (None if pd.isna(gap) else pytest.approx(gap))


def test_a_model_from_stored_parameters_predicts_as_the_fitted_one():
    rng = np.random.default_rng(SEED)
    n = 300
    f = rng.integers(0, 12, size=n).astype(float)
    T = rng.uniform(30, 300, size=n)
    r = np.where(f > 0, f + rng.uniform(0, 1, size=n) * (T - f), 0.0)
    # somewhat irregular gaps: below the bound of equal gaps, f * log(r / f)
    with np.errstate(all="ignore"):
        litt = np.where(f > 0, f * np.log(r / np.maximum(f, 1)) - 0.2 * f, 0.0)
    fitted = MBGCNBD(k=2, prior=default_prior("mbg_cnbd")).fit(f, r, T, litt)
    rebuilt = MBGCNBD.from_params(fitted.params_)
    assert rebuilt.k_ == fitted.k_ == 2
    np.testing.assert_array_equal(
        rebuilt.probability_alive(f, r, T), fitted.probability_alive(f, r, T)
    )
    horizons = np.array([30.0, 90.0, 365.0])
    np.testing.assert_array_equal(
        _cumulative(rebuilt, horizons, f, r, T),
        fitted.expected_purchases_many(horizons, f, r, T),
    )
    with pytest.raises(ValueError, match="params"):
        ParetoNBD.from_params({"r": 1.0, "alpha": 2.0})
    with pytest.raises(ValueError, match="k"):
        MBGCNBD.from_params({"r": 1.0, "alpha": 2.0, "a": 1.0, "b": 1.0})


def test_many_horizons_in_one_call_equal_one_call_per_horizon():
    pareto = ParetoNBD.from_params({"r": 0.8, "alpha": 12.0, "s": 0.6, "beta": 40.0})
    f = np.array([0.0, 3.0, 11.0])
    r = np.array([0.0, 40.0, 200.0])
    T = np.array([0.5, 90.0, 210.0])
    horizons = np.array([30.0, 90.0, 30.4375 * 12])
    per_horizon = np.column_stack([pareto.expected_purchases(h, f, r, T) for h in horizons])
    np.testing.assert_allclose(_cumulative(pareto, horizons, f, r, T), per_horizon, rtol=1e-12)
    spend = GammaGamma.from_params({"p": 6.0, "q": 4.0, "gamma": 15.0})
    assert spend.expected_spend([0], [0])[0] == pytest.approx(6 * 15 / 3)
