"""The engine recovers the truth the demo generator used: BG/NBD parameters from the summary
the SQL computes, and probabilities alive that match who really was alive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.btyd import BetaGeo
from langganan.analytics.summary import summarize
from langganan.demo.btyd import BGNBDParams, simulate_bgnbd

SEED = 20261122
HORIZON = 540
START = pd.Timestamp("2025-05-01")


@pytest.fixture(scope="module")
def world():
    print(f"random seed {SEED}")
    truth = simulate_bgnbd(
        20_000, BGNBDParams(), horizon_days=HORIZON, rng=np.random.default_rng(SEED)
    )
    customers = np.repeat(np.arange(len(truth.times)), truth.n_purchases)
    days = np.concatenate(truth.times)
    transactions = pd.DataFrame(
        {
            "customer_id": customers,
            "occurred_at": START + pd.to_timedelta(days, unit="D"),
            "total": 25_000.0,
        }
    )
    end = START + pd.Timedelta(days=HORIZON - 1)
    summary = summarize(transactions, observation_end=end)
    summary = summary[summary["T"] > 0]  # first bought on the last day: nothing observed yet
    model = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    return truth, summary, model


def test_bg_nbd_recovers_the_generators_parameters(world):
    truth, _, model = world
    true = truth.params
    for name in ("r", "alpha", "a", "b"):
        estimate, se = model.params_[name], model.standard_errors_[name]
        # four standard errors, plus 5% for merging same-day purchases into one period
        assert abs(estimate - getattr(true, name)) < 4 * se + 0.05 * getattr(true, name), name


def test_probability_alive_matches_who_was_really_alive(world):
    truth, summary, model = world
    p_alive = model.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    alive = truth.alive_at_end[summary.index.to_numpy()]
    assert abs(p_alive.mean() - alive.mean()) < 0.02
    # calibrated across the range: in each decile of predictions the share alive is close
    deciles = pd.qcut(p_alive, 10, labels=False, duplicates="drop")
    frame = pd.DataFrame({"p": p_alive, "alive": alive, "bin": deciles})
    by_bin = frame.groupby("bin").mean()
    assert (by_bin["p"] - by_bin["alive"]).abs().max() < 0.08


def test_expected_rates_rank_customers_like_their_true_rates(world):
    truth, summary, model = world
    expected = model.expected_purchases(30, summary["frequency"], summary["recency"], summary["T"])
    true_rate = truth.lam[summary.index.to_numpy()] * truth.alive_at_end[summary.index.to_numpy()]
    correlation = pd.Series(expected).corr(pd.Series(true_rate), method="spearman")
    assert correlation > 0.6
