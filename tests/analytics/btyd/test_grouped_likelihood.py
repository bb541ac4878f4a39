"""The fits' grouped likelihoods and gradients against the plain per-row formulas.

The optimisers work on likelihoods whose terms are summed per distinct frequency and per
distinct time (only the terms that need a row's own values are evaluated per row); these
tests check that the grouping changes nothing: the totals equal the weighted per-row sums,
and the analytic gradients equal central differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from langganan.analytics.btyd import BetaGeo
from langganan.analytics.btyd.gamma_gamma import _grouped_ll_and_gradient, _row_log_likelihood

RNG = np.random.default_rng(7)


def _histories(n: int = 400) -> tuple[np.ndarray, ...]:
    x = RNG.poisson(3.0, n).astype(float)
    x[:5] = [0, 0, 1000, 250, 1]  # heavy buyers and one-off buyers
    t_end = RNG.uniform(5.0, 60.0, n).round(1)
    t_x = np.where(x > 0, np.minimum(t_end, RNG.uniform(0.0, 60.0, n).round(1)), 0.0)
    w = RNG.integers(1, 4, n).astype(float)
    return x, t_x, t_end, w


def _central(f, params: np.ndarray, step: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = step * params[i]
        grad[i] = (f(params + e) - f(params - e)) / (2 * e[i])
    return grad


@pytest.mark.parametrize("params", [[0.24, 4.41, 0.79, 2.43], [3.0, 0.5, 0.1, 40.0]])
def test_bg_nbd_grouped_likelihood_equals_the_row_sum(params):
    model = BetaGeo()
    x, t_x, t_end, w = _histories()
    data = model._prepare(x, t_x, t_end, w)
    params = np.array(params)
    total, grad = model._weighted_ll_and_gradient(params, data)
    assert total == pytest.approx(float(np.dot(w, model._row_log_likelihood(params, data))))

    def ll(p):
        return model._weighted_ll_and_gradient(p, data)[0]

    np.testing.assert_allclose(grad, _central(ll, params), rtol=1e-5)


@pytest.mark.parametrize("params", [[6.25, 3.74, 15.44], [0.5, 20.0, 2.0]])
def test_gamma_gamma_grouped_likelihood_equals_the_row_sum(params):
    x = RNG.integers(1, 30, 300).astype(float)
    m = RNG.gamma(4.0, 10.0, 300)
    w = RNG.integers(1, 4, 300).astype(float)
    ux, inv = np.unique(x, return_inverse=True)
    stats = {
        "w": w,
        "x": x,
        "spend": m * x,
        "w_x": np.bincount(inv, weights=w),
        "wlogm_x": np.bincount(inv, weights=w * np.log(m)),
    }
    params = np.array(params)
    total, grad = _grouped_ll_and_gradient(params, ux, stats)
    assert total == pytest.approx(float(np.dot(w, _row_log_likelihood(params, x, m))))

    def ll(p):
        return _grouped_ll_and_gradient(p, ux, stats)[0]

    np.testing.assert_allclose(grad, _central(ll, params), rtol=1e-5)


# the second set has b + x tiny for one-off buyers: those rows take the many-node rule
@pytest.mark.parametrize("params", [(0.24, 4.41, 0.79, 2.43), (0.3, 2.0, 5.0, 0.05)])
def test_expected_purchases_for_many_horizons_equal_one_call_per_horizon(params):
    model = BetaGeo()
    model.params_ = dict(zip(("r", "alpha", "a", "b"), params, strict=True))
    x, t_x, t_end, _ = _histories(200)
    horizons = np.array([1.0, 4.3, 30.0, 91.0, 365.0])
    many = model.expected_purchases_many(horizons, x, t_x, t_end)
    single = np.column_stack([model.expected_purchases(h, x, t_x, t_end) for h in horizons])
    np.testing.assert_allclose(many, single, rtol=1e-12)
    assert np.all(np.isfinite(many)) and np.all(np.diff(many, axis=1) >= 0)
