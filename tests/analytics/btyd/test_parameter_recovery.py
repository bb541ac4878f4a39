"""Simulated data: the maximum-likelihood estimates recover the true parameters.

Each estimate must lie within 4 standard errors (from the observed information) of the truth,
which also checks that the standard errors are not too small. Seeds are fixed and printed.
"""

from __future__ import annotations

import numpy as np
import pytest

from langganan.analytics.btyd import BetaGeo, GammaGamma, ParetoNBD

from .simulate import simulate_bg_nbd, simulate_gamma_gamma, simulate_pareto_nbd

SEED = 20240611


def _assert_recovered(model, truth):
    for name, value in truth.items():
        est, se = model.params_[name], model.standard_errors_[name]
        assert np.isfinite(se) and 0 < se < value, (name, est, se)
        assert abs(est - value) < 4 * se, (name, est, value, se)


def _calendar(rng: np.random.Generator, n: int) -> np.ndarray:
    # Customers acquired over a year and observed until day 365+: T in whole days.
    return rng.integers(30, 400, n).astype(float)


def test_bg_nbd_recovers_simulated_parameters():
    print("seed", SEED)
    rng = np.random.default_rng(SEED)
    truth = {"r": 0.6, "alpha": 40.0, "a": 0.8, "b": 2.5}
    x, rec, t_end = simulate_bg_nbd(rng, 40_000, *truth.values(), _calendar(rng, 40_000))
    model = BetaGeo().fit(x, rec, t_end)
    assert model.converged_ and model.at_boundary_ == []
    _assert_recovered(model, truth)


def test_pareto_nbd_recovers_simulated_parameters():
    print("seed", SEED + 1)
    rng = np.random.default_rng(SEED + 1)
    truth = {"r": 0.6, "alpha": 40.0, "s": 0.7, "beta": 60.0}
    x, rec, t_end = simulate_pareto_nbd(rng, 20_000, *truth.values(), _calendar(rng, 20_000))
    # Recency in whole days, as the engine produces it, keeps the compressed data small.
    model = ParetoNBD().fit(x, np.floor(rec), t_end)
    assert model.converged_ and model.at_boundary_ == []
    _assert_recovered(model, truth)


def test_gamma_gamma_recovers_simulated_parameters():
    print("seed", SEED + 2)
    rng = np.random.default_rng(SEED + 2)
    truth = {"p": 6.0, "q": 4.0, "gamma": 150_000.0}
    x = rng.poisson(2.0, 30_000).astype(float)
    spend = simulate_gamma_gamma(rng, x, *truth.values())
    model = GammaGamma().fit(x, spend)
    assert model.converged_
    _assert_recovered(model, truth)


@pytest.mark.slow
def test_bg_nbd_standard_errors_match_the_spread_across_seeds():
    truth = {"r": 0.6, "alpha": 40.0, "a": 0.8, "b": 2.5}
    estimates, errors = [], []
    for seed in range(SEED, SEED + 8):
        rng = np.random.default_rng(seed)
        x, rec, t_end = simulate_bg_nbd(rng, 10_000, *truth.values(), _calendar(rng, 10_000))
        model = BetaGeo().fit(x, rec, t_end)
        estimates.append([model.params_[k] for k in truth])
        errors.append([model.standard_errors_[k] for k in truth])
    spread = np.std(estimates, axis=0, ddof=1)
    mean_se = np.mean(errors, axis=0)
    # With 8 seeds the sample standard deviation is within a factor ~2 of the true one.
    assert np.all(spread < 2.5 * mean_se) and np.all(spread > mean_se / 2.5), (spread, mean_se)
