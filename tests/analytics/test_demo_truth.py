"""The engine against the truth the demo generator used.

The demo's purchase process (:mod:`langganan.demo.btyd`) mixes Poisson buyers (MBG/NBD, k = 1)
and regular ones (MBG/CNBD-3). Each kind on its own is an exact MBG/CNBD-k population, so
:class:`MBGCNBD` must find its ``k`` and recover its parameters from the customers' exact
purchase times (four standard errors). On the mixture, summarised by day as the product does, no
single-``k`` model is exact: there the test is that MBG/CNBD-k's probabilities of being active
match who really was alive, one-time buyers included, and beat BG/NBD's, which cannot let anyone
leave before their second purchase.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.btyd import MBGCNBD, BetaGeo
from langganan.analytics.summary import summarize
from langganan.demo.btyd import PurchaseParams, simulate_purchases

SEED = 20261122
HORIZON = 540
START = pd.Timestamp("2025-05-01")
N = 20_000


def _simulate(params: PurchaseParams):
    print(f"random seed {SEED}")
    return simulate_purchases(N, params, horizon_days=HORIZON, rng=np.random.default_rng(SEED))


@pytest.mark.parametrize("share", [0.0, 1.0], ids=["poisson", "regular"])
def test_mbg_cnbd_finds_k_and_recovers_the_parameters_of_each_kind_of_buyer(share):
    truth = _simulate(replace(PurchaseParams(), regular_share=share))
    first = truth.first
    last = np.array([t[-1] for t in truth.times])
    litt = np.array([np.log(np.diff(t)).sum() for t in truth.times])
    model = MBGCNBD().fit(truth.n_purchases - 1, last - first, truth.horizon - first, litt)
    params = truth.params
    k = params.regular_k if share else 1
    assert model.k_ == k
    # the phase rate k λ of Erlang-k gaps of mean 1 / λ is Gamma(r, α / k)
    true = {"r": params.r, "alpha": params.alpha / k, "a": params.a, "b": params.b}
    for name, value in true.items():
        estimate, se = model.params_[name], model.standard_errors_[name]
        print(f"{name}: true {value:.4g}, estimate {estimate:.4g} ± {se:.2g}")
        assert abs(estimate - value) < 4 * se, name


@pytest.fixture(scope="module")
def demo_mix():
    """The demo's default mixture, summarised by day (as the pipeline does) with ``litt`` from
    the gaps between purchase days; BG/NBD and MBG/CNBD-k (k chosen) fitted on it."""
    truth = _simulate(PurchaseParams())
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
    visits = pd.DataFrame({"c": customers, "day": np.floor(days)}).drop_duplicates()
    step = visits.sort_values(["c", "day"]).groupby("c")["day"].diff()
    litt = np.log(step[step > 0]).groupby(visits["c"]).sum()
    litt = litt.reindex(summary.index, fill_value=0.0).to_numpy()
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    models = {"mbg_cnbd": MBGCNBD().fit(f, r, T, litt), "bg_nbd": BetaGeo().fit(f, r, T)}
    p_alive = {name: np.asarray(m.probability_alive(f, r, T)) for name, m in models.items()}
    alive = truth.alive_at_end[summary.index.to_numpy()]
    return truth, summary, models, p_alive, alive


def test_probability_alive_matches_who_was_really_alive(demo_mix):
    _truth, summary, _models, p_alive, alive = demo_mix
    p = p_alive["mbg_cnbd"]
    one_time = summary["frequency"].to_numpy() == 0
    print(f"alive {alive.mean():.3f}, mean P(alive) {p.mean():.3f}")
    print(f"one-time buyers alive {alive[one_time].mean():.3f}, P {p[one_time].mean():.3f}")
    assert abs(p.mean() - alive.mean()) < 0.05
    assert abs(p[one_time].mean() - alive[one_time].mean()) < 0.06
    # calibrated across the range: in each decile of predictions the share alive is close
    deciles = pd.qcut(p, 10, labels=False, duplicates="drop")
    by_bin = pd.DataFrame({"p": p, "alive": alive, "bin": deciles}).groupby("bin").mean()
    assert (by_bin["p"] - by_bin["alive"]).abs().max() < 0.12


def test_mbg_cnbd_knows_who_left_better_than_bg_nbd(demo_mix):
    _truth, summary, _models, p_alive, alive = demo_mix
    one_time = summary["frequency"].to_numpy() == 0
    # BG/NBD: nobody leaves before their second purchase, whatever the truth says
    assert np.allclose(p_alive["bg_nbd"][one_time], 1.0)
    assert alive[one_time].mean() < 0.7
    for rows in (slice(None), one_time):
        brier = {name: float(np.mean((p[rows] - alive[rows]) ** 2)) for name, p in p_alive.items()}
        print("Brier", brier)
        assert brier["mbg_cnbd"] < 0.8 * brier["bg_nbd"]


def test_expected_rates_rank_customers_like_their_true_rates(demo_mix):
    truth, summary, models, _p_alive, alive = demo_mix
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    expected = models["mbg_cnbd"].expected_purchases(30, f, r, T)
    true_rate = truth.lam[summary.index.to_numpy()] * alive
    correlation = pd.Series(np.asarray(expected)).corr(pd.Series(true_rate), method="spearman")
    assert correlation > 0.6
