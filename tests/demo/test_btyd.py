"""BG/NBD draws: parameter recovery and the closed-form expectation of Fader, Hardie & Lee (2005).

Tolerances are four standard errors of the quantity tested, computed from the sample size,
so a correct generator fails them with probability below 1e-4. Seeds are fixed.
"""

import math
from datetime import date

import numpy as np

from langganan.demo import seasons
from langganan.demo.btyd import BGNBDParams, simulate_bgnbd

SEED = 11


def test_a_cafe_has_a_few_visits_per_median_customer_and_some_weekly_regulars(histories):
    n = histories.n_purchases
    assert 2 <= np.median(n) <= 5
    tenure_weeks = (histories.horizon - histories.first) / 7
    weekly = (n >= 10) & ((n - 1) / np.maximum(tenure_weeks, 1) >= 0.8)
    assert 0.005 < weekly.mean() < 0.05


def test_lambda_and_p_recover_the_gamma_and_beta_means(histories):
    params = histories.params
    n = len(histories.lam)
    lam_se = math.sqrt(params.r) / params.alpha / math.sqrt(n)
    a, b = params.a, params.b
    p_se = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)) / n)
    assert abs(histories.lam.mean() - params.lambda_mean) < 4 * lam_se
    assert abs(histories.p.mean() - params.p_mean) < 4 * p_se


def test_repeat_purchases_match_the_bgnbd_expectation_without_seasons():
    """FHL (2005) eq. 9: E[X(t)] = (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]."""
    from scipy import special

    params = BGNBDParams(r=0.7, alpha=18.0, a=1.6, b=4.5)  # the formula needs a > 1
    h = simulate_bgnbd(20_000, params, horizon_days=548, rng=np.random.default_rng(SEED))
    t = h.horizon - h.first
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    expected = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    repeats = h.n_purchases - 1
    se = repeats.std() / math.sqrt(len(repeats))
    assert abs(repeats.mean() - expected.mean()) < 4 * se


def test_seasonal_modulation_keeps_the_mean_number_of_purchases(histories):
    seasonal = simulate_bgnbd(
        20_000,
        BGNBDParams(),
        horizon_days=548,
        rng=np.random.default_rng(SEED),
        intensity=seasons.sales_calendar(date(2024, 1, 1), 548).multiplier,
    )
    plain, modulated = histories.n_purchases, seasonal.n_purchases
    se = math.sqrt(plain.var() / len(plain) + modulated.var() / len(modulated))
    assert abs(plain.mean() - modulated.mean()) < 4 * se
