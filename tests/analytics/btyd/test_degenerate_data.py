"""Degenerate data gives a clear result or a clear error, never a crash, NaN or overflow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from langganan.analytics.btyd import (
    BetaGeo,
    FitWarning,
    GammaGamma,
    ParetoNBD,
    predicted_next_purchase,
)
from langganan.analytics.btyd._validation import (
    ERR_FREQUENCY_NOT_INTEGER,
    ERR_GG_SPEND_CONSTANT,
    ERR_LENGTH_MISMATCH,
    ERR_NEGATIVE,
    ERR_NO_REPEAT_BUYERS,
    ERR_NOT_FINITE,
    ERR_RECENCY_AFTER_T,
    ERR_RECENCY_WITHOUT_REPEAT,
    ERR_TOO_FEW_REPEAT_BUYERS,
)

from .simulate import simulate_gamma_gamma

MODELS = [BetaGeo, ParetoNBD]


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("model_class", MODELS)
def test_no_repeat_buyers_is_a_clear_error(model_class):
    with pytest.raises(ValueError) as info:
        model_class().fit([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0])
    assert str(info.value) == ERR_NO_REPEAT_BUYERS.format(name=model_class.__name__)


@pytest.mark.parametrize("model_class", MODELS)
def test_nobody_dropping_out_gives_boundary_estimates_and_alive_customers(model_class):
    rng = np.random.default_rng(11)
    x = rng.poisson(3, 500) + 1.0
    t_end = rng.uniform(20, 40, 500)
    rec = t_end.copy()  # everybody bought on the last day
    with pytest.warns(FitWarning, match="edge of the parameter space"):
        model = model_class().fit(x, rec, t_end)
    assert model.at_boundary_
    assert all(np.isnan(model.standard_errors_[p]) for p in model.at_boundary_)
    alive = model.probability_alive(x, rec, t_end)
    np.testing.assert_allclose(alive, 1.0, atol=1e-6)
    expected = model.expected_purchases(10.0, x, rec, t_end)
    assert np.all(np.isfinite(expected)) and np.all(expected > 0)


@pytest.mark.parametrize("model_class", MODELS)
def test_one_customer_fits_with_a_warning_and_finite_predictions(model_class):
    with pytest.warns(FitWarning) as record:
        model = model_class().fit([3], [10.0], [20.0])
    assert any("not identified" in str(w.message) for w in record)
    alive = model.probability_alive([3], [10.0], [20.0])
    assert 0.0 <= alive[0] <= 1.0
    assert np.isfinite(model.expected_purchases(10.0, [3], [10.0], [20.0])).all()


@pytest.mark.parametrize("model_class", MODELS)
def test_heavy_buyers_get_finite_predictions(model_class):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.poisson(1.0, 2000), [1000, 1500, 3000]]).astype(float)
    t_end = np.concatenate([rng.uniform(30, 40, 2000), [39.0, 39.0, 39.0]])
    rec = np.where(x > 0, t_end * rng.uniform(0, 1, len(x)), 0.0)
    rec[-3:] = [38.9, 39.0, 38.99]
    model = model_class().fit(x, rec, t_end)
    heavy = (x[-3:], rec[-3:], t_end[-3:])
    alive = model.probability_alive(*heavy)
    assert np.all((alive > 0.9) & (alive <= 1.0))
    expected = model.expected_purchases(39.0, *heavy)
    # About one purchase a day continues, minus the (small) dropout after each purchase.
    assert np.all(np.isfinite(expected)) and np.all(expected > 0.3 * heavy[0])
    # A heavy buyer silent for most of the period is gone, without NaN.
    gone = model.probability_alive([1000], [1.0], [39.0])
    assert 0.0 <= gone[0] < 1e-6
    assert np.isfinite(model.expected_purchases(39.0, [1000], [1.0], [39.0])).all()
    wait = predicted_next_purchase(model, *heavy)
    assert np.all(np.isfinite(wait)) and np.all(wait < 0.1)


def test_heavy_buyer_expectations_are_finite_for_extreme_parameters():
    model = BetaGeo()
    x, rec, t_end = np.array([0, 1, 1000, 5000.0]), np.array([0, 1, 99, 50.0]), np.full(4, 100.0)
    for params in (
        {"r": 0.2, "alpha": 1.0, "a": 3e-7, "b": 3e6},
        {"r": 50, "alpha": 0.1, "a": 20, "b": 0.05},
    ):
        model.params_ = params
        for t in (0.0, 1.0, 1e4):
            value = model.expected_purchases(t, x, rec, t_end)
            assert np.all(np.isfinite(value)) and np.all(value >= 0)


def test_gamma_gamma_needs_two_repeat_customers():
    with pytest.raises(ValueError) as info:
        GammaGamma().fit([0, 3, 0], [0.0, 20.0, 0.0])
    assert str(info.value) == ERR_TOO_FEW_REPEAT_BUYERS.format(n=1)


def test_gamma_gamma_with_identical_spend_is_a_clear_error():
    with pytest.raises(ValueError, match=ERR_GG_SPEND_CONSTANT):
        GammaGamma().fit([2, 2, 2, 0], [10.0, 10.0, 10.0, 0.0])


def test_gamma_gamma_handles_huge_frequencies():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.integers(1, 5, 300), [1000, 5000]]).astype(float)
    m = simulate_gamma_gamma(rng, x, 6.0, 4.0, 15.0)
    model = GammaGamma().fit(x, m)
    assert model.at_boundary_ == []
    spend = model.expected_spend(x, m)
    assert np.all(np.isfinite(spend))
    assert spend[-1] == pytest.approx(m[-1], rel=1e-2)  # a heavy buyer's own average dominates


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1.5], [1.0], [2.0], ERR_FREQUENCY_NOT_INTEGER),
        ([1], [3.0], [2.0], ERR_RECENCY_AFTER_T),
        ([0], [1.0], [2.0], ERR_RECENCY_WITHOUT_REPEAT),
        ([-1], [0.0], [2.0], ERR_NEGATIVE.format(field="frequency")),
        ([1], [np.nan], [2.0], ERR_NOT_FINITE.format(field="recency")),
        ([1, 2], [1.0], [2.0], ERR_LENGTH_MISMATCH.format(lengths=[2, 1, 1, 2])),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(frequency, recency, T, message):
    with pytest.raises(ValueError) as info:
        BetaGeo().fit(frequency, recency, T)
    assert str(info.value) == message
