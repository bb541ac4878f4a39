"""The models reproduce the published maximum-likelihood estimates on the CDNOW sample."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, hyp2f1

from langganan.analytics.btyd import BetaGeo, GammaGamma, ParetoNBD


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_bg_nbd_matches_fader_hardie_lee_2005(bgnbd):
    # "Counting your customers the easy way", Marketing Science 24(2), section 5.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert bgnbd.params_[name] == pytest.approx(value, rel=2e-3), name
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert bgnbd.converged_ and bgnbd.at_boundary_ == []


def test_bg_nbd_standard_errors_match_the_lifetimes_documentation(bgnbd):
    # lifetimes' BetaGeoFitter summary on the same data (inverse Hessian).
    documented = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for name, value in documented.items():
        assert bgnbd.standard_errors_[name] == pytest.approx(value, rel=1e-2), name


def test_bg_nbd_conditional_expectation_matches_the_paper(bgnbd):
    # Customer with x = 2, t_x = 30.43, T = 38.86: 1.226 purchases expected in the next 39 weeks.
    published = BetaGeo()
    published.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert published.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(
        1.226, abs=1e-3
    )
    assert bgnbd.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=1e-3)


def test_bg_nbd_expectation_agrees_with_the_hypergeometric_formula(bgnbd, cdnow):
    # Eq. 10 of Fader, Hardie & Lee (2005) via scipy's hyp2f1, which is accurate for CDNOW's
    # light buyers; our quadrature must agree.
    r, alpha, a, b = (bgnbd.params_[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, t_end = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    t = 39.0
    z = t / (alpha + t_end + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + t_end) / (alpha + t_end + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + t_end) / (alpha + t_x)) ** (r + x), 0)
    expected = head * body / (1 + odds)
    np.testing.assert_allclose(bgnbd.expected_purchases(t, x, t_x, t_end), expected, rtol=1e-7)


def test_pareto_nbd_matches_the_published_estimates(pnbd):
    # Fader, Hardie & Lee (2005) "RFM and CLV" / Fader & Hardie's Pareto/NBD notes.
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in published.items():
        assert pnbd.params_[name] == pytest.approx(value, rel=2e-3), name
    assert pnbd.log_likelihood_ == pytest.approx(-9594.98, abs=0.1)
    assert pnbd.converged_ and pnbd.at_boundary_ == []


def _note_log_likelihood(r, alpha, s, beta, x, t_x, t_end):
    """Fader & Hardie (2005) note, eq. 16-17, both cases, evaluated with scipy's hyp2f1."""
    big, a1 = (alpha, r + s + x) if alpha >= beta else (beta, r + s + x)
    second = s + 1 if alpha >= beta else r + x
    diff = abs(alpha - beta)

    def term(tau):
        return hyp2f1(a1, second, a1 + 1, diff / (big + tau)) / (big + tau) ** a1

    a0 = term(t_x) - term(t_end)
    like = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r * beta**s
    like *= 1 / ((alpha + t_end) ** (r + x) * (beta + t_end) ** s) + s / (r + s + x) * a0
    return np.log(like)


@pytest.mark.parametrize("params", [(0.553, 10.578, 0.606, 11.669), (0.553, 12.0, 0.606, 4.0)])
def test_pareto_nbd_likelihood_equals_the_hypergeometric_formulation(cdnow, params):
    x, t_x, t_end = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    model = ParetoNBD()
    ours = model._row_log_likelihood(
        np.array(params), {"x": x, "t_x": t_x, "T": t_end, "ux": x, "inv": np.arange(len(x))}
    )
    np.testing.assert_allclose(ours, _note_log_likelihood(*params, x, t_x, t_end), rtol=1e-9)


def test_gamma_gamma_matches_the_published_estimates(cdnow_spend):
    model = GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    assert model.n_customers_ == 946  # only repeat customers are used
    # Published p = 6.25, q = 3.74, gamma = 15.44 (lifetimes' documentation: 15.45 on this file).
    assert model.params_["p"] == pytest.approx(6.25, rel=2e-3)
    assert model.params_["q"] == pytest.approx(3.74, rel=2e-3)
    assert model.params_["gamma"] == pytest.approx(15.44, rel=2e-3)
    assert model.converged_ and np.isfinite(model.log_likelihood_)
