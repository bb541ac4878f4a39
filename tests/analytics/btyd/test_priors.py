"""Priors for small shops: published values kept, finite estimates, honest intervals."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from langganan.analytics.btyd import BetaGeo, FitWarning
from langganan.analytics.btyd.priors import POOLED_MIN_SD, default_prior, pooled_prior

from .simulate import simulate_bg_nbd

SEED = 20261204
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005
TRUTH = {"r": 0.8, "alpha": 20.0, "a": 0.8, "b": 4.0}  # days


def test_cdnow_published_values_hold_with_the_default_prior(cdnow):
    fitted = BetaGeo(prior=default_prior("bg_nbd")).fit(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    for name, value in PUBLISHED.items():
        # to the published precision (3 decimals), and within 0.5 % of it
        assert fitted.params_[name] == pytest.approx(value, rel=0.005), name


def _regulars(seed: int, n: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` regulars over six months, nobody has left: daily buyers at about 3 visits a week."""
    rng = np.random.default_rng(seed)
    t_end = rng.uniform(120, 180, n)
    rate = rng.gamma(6.0, 0.4 / 6.0, n)
    x = np.empty(n)
    recency = np.empty(n)
    for i in range(n):
        times = np.cumsum(rng.exponential(1 / rate[i], 400))
        days = np.unique(np.floor(times[times < t_end[i]]))
        x[i] = max(len(days) - 1, 0)
        recency[i] = days[-1] - days[0] if len(days) else 0.0
    return x, recency, t_end


def test_eighty_regulars_who_never_left_get_finite_estimates_not_the_boundary():
    x, recency, t_end = _regulars(SEED)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = BetaGeo().fit(x, recency, t_end)
    assert mle.at_boundary_, "plain maximum likelihood runs to the edge on such data"
    assert any(issubclass(w.category, FitWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        fitted = BetaGeo(prior=default_prior("bg_nbd")).fit(x, recency, t_end)
    assert fitted.at_boundary_ == [] and fitted.converged_
    assert 1e-4 < fitted.params_["a"] < 1e4 and 1e-4 < fitted.params_["b"] < 1e4
    low, high = fitted.intervals_["b"]
    assert low < fitted.params_["b"] < high and high / low > 10  # honestly uncertain
    assert np.all(fitted.probability_alive(x, recency, t_end) > 0.9)  # nobody left: all active


@pytest.mark.parametrize(
    ("n", "seed"), [(80, SEED), (300, SEED + 1), (20_000, SEED + 2)], ids=["80", "300", "20000"]
)
def test_parameters_are_recovered_with_the_default_prior(n, seed):
    rng = np.random.default_rng(seed)
    t_end = rng.uniform(180, 540, n)
    x, recency, t_end = simulate_bg_nbd(rng, n, *TRUTH.values(), t_end)
    fitted = BetaGeo(prior=default_prior("bg_nbd")).fit(x, recency, t_end)
    print(f"n={n} seed={seed} {fitted.params_}")
    assert fitted.at_boundary_ == []
    for name, value in TRUTH.items():
        # within three posterior standard deviations on the log scale (four parameters at once)
        se_log = fitted.standard_errors_[name] / fitted.params_[name]
        assert abs(np.log(value / fitted.params_[name])) <= 3 * se_log, (name, value, se_log)
    if n == 20_000:
        for name, value in TRUTH.items():
            assert fitted.params_[name] == pytest.approx(value, rel=0.15), name


def test_posterior_draws_centre_on_the_estimate(cdnow):
    fitted = BetaGeo(prior=default_prior("bg_nbd")).fit(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    draws = fitted.sample_params(4000, seed=1)
    centre = np.exp(np.log(draws).mean(axis=0))
    for i, name in enumerate(("r", "alpha", "a", "b")):
        assert centre[i] == pytest.approx(fitted.params_[name], rel=0.02)
        assert np.log(draws[:, i]).std() == pytest.approx(
            fitted.standard_errors_[name] / fitted.params_[name], rel=0.1
        )


def test_a_pooled_prior_is_the_comparable_merchants_geometric_mean_and_spread():
    fits = [
        ({"r": 0.5, "alpha": 10.0, "a": 1.0, "b": 4.0}, 400),
        ({"r": 2.0, "alpha": 30.0, "a": 1.0, "b": 16.0}, 400),
    ]
    prior = pooled_prior("bg_nbd", fits)
    assert set(prior) == {"r", "a", "b"}
    assert prior["r"][0] == pytest.approx(1.0) and prior["b"][0] == pytest.approx(8.0)
    assert prior["r"][1] == pytest.approx(np.sqrt(2) * np.log(2))  # sample sd of ±log 2
    assert prior["a"][1] == POOLED_MIN_SD  # identical merchants still differ a little


def test_too_few_comparable_merchants_give_no_pooled_prior():
    one = [({"r": 0.5, "alpha": 10.0, "a": 1.0, "b": 4.0}, 400)]
    small = one + [({"r": 0.5, "alpha": 10.0, "a": 1.0, "b": 4.0}, 50)]
    assert pooled_prior("bg_nbd", one) is None
    assert pooled_prior("bg_nbd", small) is None
