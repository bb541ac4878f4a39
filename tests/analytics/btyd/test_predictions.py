"""Predictions: fitted-state checks, CLV arithmetic, next purchase and time-unit consistency."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.integrate import IntegrationWarning, quad
from scipy.special import betaln, expit

from langganan.analytics.btyd import (
    DAYS_PER_MONTH,
    BetaGeo,
    GammaGamma,
    NotFittedError,
    ParetoNBD,
    customer_lifetime_value,
    predicted_next_purchase,
)
from langganan.analytics.btyd._quadrature import beta_mixed_repeat_count
from langganan.analytics.btyd._validation import ERR_NOT_FITTED


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def spend(cdnow_spend):
    return GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])


@pytest.mark.parametrize(
    ("model", "call"),
    [
        (BetaGeo(), lambda m: m.probability_alive([1], [1.0], [2.0])),
        (BetaGeo(), lambda m: m.expected_purchases(1.0, [1], [1.0], [2.0])),
        (ParetoNBD(), lambda m: m.expected_purchases_unconditional(1.0)),
        (GammaGamma(), lambda m: m.expected_spend([1], [10.0])),
    ],
)
def test_prediction_before_fit_raises_not_fitted(model, call):
    with pytest.raises(NotFittedError) as info:
        call(model)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    assert str(info.value) == ERR_NOT_FITTED.format(name=type(model).__name__)


def test_init_stores_settings_only_and_fit_keeps_no_training_data(cdnow):
    model = BetaGeo(penalizer=0.1)
    assert vars(model) == {"penalizer": 0.1, "prior": None, "max_iter": 1000}
    model.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    arrays = {k: v for k, v in vars(model).items() if isinstance(v, np.ndarray)}
    # only the parameters' own covariance (4 x 4), nothing the size of the data
    assert list(arrays) == ["covariance_log_"]
    assert arrays["covariance_log_"].shape == (4, 4)


class _ConstantRate:
    """A stand-in purchase model buying `rate` times per time unit for ever."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.params_ = {"r": 1.0, "alpha": 1.0}

    def expected_purchases(self, t, frequency, recency, T):
        return np.full(len(np.atleast_1d(frequency)), self.rate * t)

    def probability_alive(self, frequency, recency, T):
        return np.ones(len(np.atleast_1d(frequency)))


class _ConstantSpend:
    def expected_spend(self, frequency, monetary_value):
        return np.full(len(np.atleast_1d(frequency)), 50_000.0)


@pytest.mark.parametrize("unit_days", [1.0, 7.0])
def test_clv_discounts_each_months_expected_margin(unit_days):
    rate = 0.1 * unit_days  # 0.1 purchases a day, expressed per time unit
    clv = customer_lifetime_value(
        _ConstantRate(rate),
        _ConstantSpend(),
        [1, 2],
        [1.0, 2.0],
        [3.0, 3.0],
        [1.0, 1.0],
        horizon_months=12,
        monthly_discount_rate=0.01,
        margin=0.3,
        unit_days=unit_days,
    )
    by_hand = sum(0.1 * DAYS_PER_MONTH * 50_000 * 0.3 / 1.01**m for m in range(1, 13))
    np.testing.assert_allclose(clv, by_hand, rtol=1e-12)


def test_clv_without_discount_is_expected_purchases_times_spend(bgnbd, spend, cdnow_spend):
    x, t_x, t_end, m = (cdnow_spend[c].to_numpy() for c in ("x", "t_x", "T", "zbar"))
    clv = customer_lifetime_value(
        bgnbd, spend, x, t_x, t_end, m, horizon_months=6, monthly_discount_rate=0.0, unit_days=7
    )
    purchases = bgnbd.expected_purchases(6 * DAYS_PER_MONTH / 7, x, t_x, t_end)
    np.testing.assert_allclose(clv, purchases * spend.expected_spend(x, m), rtol=1e-10)
    assert np.all(clv >= 0)


@pytest.mark.parametrize("fixture", ["bgnbd", "pnbd"])
def test_next_purchase_is_sooner_for_more_frequent_buyers(request, fixture):
    model = request.getfixturevalue(fixture)
    x = np.arange(0, 30.0)
    wait = predicted_next_purchase(model, x, np.where(x > 0, 30.0, 0.0), np.full(30, 38.0))
    assert np.all(np.isfinite(wait)) and np.all(np.diff(wait) < 0)
    # Median of the Lomax waiting time: half of the active customers buy within it.
    r, alpha = model.params_["r"], model.params_["alpha"]
    assert ((alpha + 38.0) / (alpha + 38.0 + wait[5])) ** (r + 5) == pytest.approx(0.5)


def test_next_purchase_is_infinite_for_customers_judged_gone(bgnbd):
    wait = predicted_next_purchase(
        bgnbd, [20, 20], [38.0, 2.0], [38.5, 38.5], min_probability_alive=0.1
    )
    assert np.isfinite(wait[0]) and np.isinf(wait[1])


def test_expected_purchases_grow_with_horizon_and_stay_below_no_dropout(bgnbd, pnbd):
    horizons = np.array([0.0, 1.0, 10.0, 39.0, 200.0])
    for model in (bgnbd, pnbd):
        e = np.array([model.expected_purchases(h, [3], [20.0], [38.0])[0] for h in horizons])
        assert e[0] == 0 and np.all(np.diff(e) > 0)
        u = model.expected_purchases_unconditional(horizons)
        assert u[0] == 0 and np.all(np.diff(u) > 0)


@pytest.mark.parametrize(
    ("n", "bb", "a", "u"),
    [(2.24, 4.4, 0.79, 0.9), (1000.2, 1002.4, 0.79, 2.0), (0.3, 0.05, 5.0, 30.0), (8, 105, 20, 10)],
)
def test_bg_nbd_active_expectation_matches_adaptive_quadrature(n, bb, a, u):
    # E[(1 - (1 + p u)**-n) / p] for p ~ Beta(a, bb), by adaptive quadrature in logit space
    # on panels spreading out from the mode (both tails of the logit density are exponential).
    def integrand(y):
        p = expit(y)
        log_density = a * y - (a + bb) * np.logaddexp(0.0, y) - betaln(a, bb)
        h = -np.expm1(-n * np.log1p(p * u)) / p if p > 1e-300 else n * u
        return h * np.exp(log_density)

    mode = np.log(a / bb)
    offsets = np.logspace(-3, np.log10(2000.0 / min(a, bb)), 120)
    edges = np.concatenate([mode - offsets[::-1], [mode], mode + offsets])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)  # roundoff in negligible panels
        reference = sum(
            quad(integrand, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        )
    assert beta_mixed_repeat_count(n, bb, a, u) == pytest.approx(reference, rel=1e-7)


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD])
def test_weeks_and_days_give_the_same_model(cdnow, model_class):
    x, rec, t_end = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    weeks = model_class().fit(x, rec, t_end)
    days = model_class().fit(x, rec * 7, t_end * 7)
    for name, value in weeks.params_.items():
        factor = 7.0 if name in ("alpha", "beta") else 1.0
        assert days.params_[name] == pytest.approx(value * factor, rel=1e-5), name
    # The log-likelihood is a density of purchase times: it shifts by -sum(x) * log(7).
    assert days.log_likelihood_ == pytest.approx(
        weeks.log_likelihood_ - x.sum() * np.log(7), abs=1e-4
    )
    sample = slice(0, 200)
    np.testing.assert_allclose(
        days.probability_alive(x[sample], rec[sample] * 7, t_end[sample] * 7),
        weeks.probability_alive(x[sample], rec[sample], t_end[sample]),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        days.expected_purchases(39 * 7, x[sample], rec[sample] * 7, t_end[sample] * 7),
        weeks.expected_purchases(39, x[sample], rec[sample], t_end[sample]),
        rtol=1e-5,
    )
