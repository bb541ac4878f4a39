"""The demo's purchase process: a mix of Poisson and regular (Erlang-k) MBG/CNBD-k buyers.

Checked against what the process defines (Platzer & Reutterer 2016): the Gamma, Beta and
regular-share draws, dropout right after the first purchase with probability E[p], Erlang-k
gaps of mean 1 / λ and variance 1 / (k λ²), and for Poisson buyers the exact conditional
expectation of the repeat purchases. Tolerances are four standard errors of the quantity
tested, computed from the sample, so a correct generator fails them with probability below
1e-4. Seeds are fixed.
"""

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from langganan.demo import seasons
from langganan.demo.btyd import PurchaseParams, _gap_sums, simulate_purchases

SEED = 11


def _within(values: np.ndarray, expected: float) -> bool:
    return abs(values.mean() - expected) < 4 * values.std() / math.sqrt(len(values))


def test_a_cafe_has_a_few_visits_per_median_customer_and_some_weekly_regulars(histories):
    n = histories.n_purchases
    assert 2 <= np.median(n) <= 5
    tenure_weeks = (histories.horizon - histories.first) / 7
    weekly = (n >= 10) & ((n - 1) / np.maximum(tenure_weeks, 1) >= 0.8)
    assert 0.005 < weekly.mean() < 0.05
    assert 0.2 < (n == 1).mean() < 0.4  # many tried it once
    assert 0.35 < histories.alive_at_end.mean() < 0.6  # and many have left


def test_lambda_p_and_the_regular_share_recover_their_distributions(histories):
    params = histories.params
    n = len(histories.lam)
    lam_se = math.sqrt(params.r) / params.alpha / math.sqrt(n)
    a, b = params.a, params.b
    p_se = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)) / n)
    share = params.regular_share
    assert abs(histories.lam.mean() - params.lambda_mean) < 4 * lam_se
    assert abs(histories.p.mean() - params.p_mean) < 4 * p_se
    assert set(np.unique(histories.k)) == {1, params.regular_k}
    assert abs(histories.regular.mean() - share) < 4 * math.sqrt(share * (1 - share) / n)


def test_one_time_buyers_can_have_left_right_after_their_first_purchase(histories):
    """Dropping out right after the first purchase has probability E[p], the horizon aside."""
    gone_after_one = (histories.n_purchases == 1) & ~histories.alive_at_end
    assert _within(gone_after_one.astype(float), histories.params.p_mean)
    one_time = histories.n_purchases == 1
    assert 0.2 < histories.alive_at_end[one_time].mean() < 0.8  # neither all alive nor all gone
    assert np.array_equal(np.isnan(histories.dropout), histories.alive_at_end)


@pytest.mark.parametrize("k", [1, 3])
def test_gaps_are_erlang_k_with_mean_one_over_lambda(k):
    """λ × gap has mean 1 and variance 1 / k (drawn far from the horizon: none censored)."""
    lam = 0.2
    sums = _gap_sums(np.random.default_rng(SEED), k, k * lam, 1e9, 50_000)
    scaled = np.diff(np.r_[0.0, sums]) * lam
    assert len(scaled) == 50_000
    assert _within(scaled, 1.0)
    assert _within((scaled - 1.0) ** 2, 1.0 / k)


def test_regular_buyers_come_at_a_steadier_rhythm_than_the_others(histories):
    def spread(regular):
        gaps = [
            np.diff(t) * lam
            for t, lam, reg in zip(histories.times, histories.lam, histories.regular, strict=True)
            if reg == regular and len(t) >= 6
        ]
        return np.mean([g.std() / g.mean() for g in gaps])

    assert spread(True) < 0.75 * spread(False)


def test_repeat_purchases_of_poisson_buyers_match_their_conditional_expectation():
    """k = 1 (MBG/NBD): alive after each purchase with 1 - p, dropout at rate λp meanwhile, so
    E[X(t) | λ, p] = (1 - p) (1 - exp(-λ p t)) / p."""
    h = simulate_purchases(
        20_000,
        replace(PurchaseParams(), regular_share=0.0),
        horizon_days=548,
        rng=np.random.default_rng(SEED),
    )
    t = h.horizon - h.first
    expected = (1 - h.p) * -np.expm1(-h.lam * h.p * t) / h.p
    repeats = h.n_purchases - 1.0
    assert _within(repeats - expected, 0.0)


def test_seasonal_modulation_keeps_the_mean_number_of_purchases(histories):
    seasonal = simulate_purchases(
        20_000,
        PurchaseParams(),
        horizon_days=548,
        rng=np.random.default_rng(SEED),
        intensity=seasons.sales_calendar(date(2024, 1, 1), 548).multiplier,
    )
    plain, modulated = histories.n_purchases, seasonal.n_purchases
    se = math.sqrt(plain.var() / len(plain) + modulated.var() / len(modulated))
    assert abs(plain.mean() - modulated.mean()) < 4 * se


def test_the_same_generator_state_gives_the_same_histories():
    def run(seed):
        return simulate_purchases(
            300, PurchaseParams(), horizon_days=200, rng=np.random.default_rng(seed)
        )

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a.times, b.times, strict=True))
    assert np.array_equal(a.k, b.k) and np.array_equal(a.alive_at_end, b.alive_at_end)
    assert not np.array_equal(a.lam, c.lam)


@pytest.mark.parametrize("params", [PurchaseParams(regular_k=0), PurchaseParams(regular_share=1.5)])
def test_bad_settings_are_refused(params):
    with pytest.raises(ValueError):
        simulate_purchases(10, params, horizon_days=30, rng=np.random.default_rng(SEED))
