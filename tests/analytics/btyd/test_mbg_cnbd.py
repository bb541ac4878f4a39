"""MBG/CNBD-k (Platzer & Reutterer 2016): reference values, closed forms, recovery, predictions.

Seeds are fixed and printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln, hyp2f1

from langganan.analytics.btyd import MBGCNBD, NotFittedError
from langganan.analytics.btyd._quadrature import beta_mixed_repeat_counts
from langganan.analytics.btyd.mbg_cnbd import _renewal_sums, row_log_likelihood

SEED = 20240612

# MBG/NBD (= MBG/CNBD-1) on the CDNOW sample (2,357 customers, 39 weeks), as BTYDplus estimates
# it: lifetimes' test_params_out_is_close_to_BTYDplus ("See https://github.com/mplatzer/BTYDplus"),
# published to 3 decimals.
BTYDPLUS_CDNOW_MBGNBD = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


def simulate_mbg_cnbd(
    rng: np.random.Generator,
    n: int,
    k: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    t_end: np.ndarray,
    t_star: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency, T, litt and the holdout count in ``(T, T + t_star]`` of ``n``
    customers drawn from MBG/CNBD-k (as BTYDplus's ``mbgcnbd.GenerateData``)."""
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # repeat purchases before the dropout; the customer may drop right after the first purchase
    repeats = rng.geometric(np.clip(p, 1e-12, 1.0)) - 1
    end = t_end + t_star
    x = np.zeros(n)
    rec = np.zeros(n)
    litt = np.zeros(n)
    x_star = np.zeros(n)
    clock = np.zeros(n)
    made = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(repeats > 0)
    while idx.size:
        gap = rng.gamma(k, 1.0 / lam[idx])
        clock[idx] += gap
        cal = clock[idx] <= t_end[idx]
        hold = ~cal & (clock[idx] <= end[idx])
        ci = idx[cal]
        x[ci] += 1
        rec[ci] = clock[ci]
        litt[ci] += np.log(gap[cal])
        x_star[idx[hold]] += 1
        made[idx] += 1
        idx = idx[(made[idx] < repeats[idx]) & (clock[idx] <= end[idx])]
    return x, rec, t_end.astype(float), litt, x_star


def _lifetimes_file(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (CDNOW sample data) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / name


@pytest.fixture(scope="module")
def cdnow_cbs() -> pd.DataFrame:
    """BTYDplus's CDNOW calibration summary: the 2,357-customer sample (BTYD's cdnowElog),
    transactions of a day merged, calibration up to 1997-09-30 (39 weeks), time in weeks,
    with litt (BTYDplus ``elog2cbs(elog, T.cal = "1997-09-30")``)."""
    elog = pd.read_csv(
        _lifetimes_file("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["cust", "sample_id", "date", "cds", "sales"],
        dtype={"date": str},
    )
    elog["date"] = pd.to_datetime(elog["date"], format="%Y%m%d")
    assert elog["cust"].nunique() == 2357
    end = pd.Timestamp("1997-09-30")
    days = elog[["cust", "date"]].drop_duplicates()
    days = days[days["date"] <= end].sort_values(["cust", "date"])
    first = days.groupby("cust")["date"].transform("min")
    gaps = days.groupby("cust")["date"].diff().dt.days / 7.0
    days = days.assign(t=(days["date"] - first).dt.days / 7.0, log_gap=np.log(gaps))
    cbs = days.groupby("cust").agg(
        x=("t", "size"), t_x=("t", "max"), first=("date", "min"), litt=("log_gap", "sum")
    )
    cbs["x"] -= 1
    cbs["T"] = (end - cbs["first"]).dt.days / 7.0
    return cbs


@pytest.fixture(scope="module")
def cdnow_mbgnbd(cdnow) -> MBGCNBD:
    x = cdnow["frequency"].to_numpy(float)
    return MBGCNBD(k=1).fit(x, cdnow["recency"], cdnow["T"], np.zeros_like(x))


# -- reference values ---------------------------------------------------------------------------
def test_k1_reproduces_btydplus_mbg_nbd_estimates_on_cdnow(cdnow_mbgnbd):
    for name, value in BTYDPLUS_CDNOW_MBGNBD.items():
        assert cdnow_mbgnbd.params_[name] == pytest.approx(value, abs=1.5e-3), name
    assert cdnow_mbgnbd.params_["k"] == 1.0 and cdnow_mbgnbd.k_ == 1
    assert cdnow_mbgnbd.converged_ and cdnow_mbgnbd.at_boundary_ == []


def test_cdnow_elog_summary_matches_the_published_summary(cdnow_cbs, cdnow):
    # Same customers, frequencies and (to the 2 decimals of the csv) recency and T.
    assert len(cdnow_cbs) == len(cdnow) == 2357
    np.testing.assert_array_equal(np.sort(cdnow_cbs["x"]), np.sort(cdnow["frequency"]))
    np.testing.assert_allclose(np.sort(cdnow_cbs["t_x"]), np.sort(cdnow["recency"]), atol=5e-3)
    np.testing.assert_allclose(np.sort(cdnow_cbs["T"]), np.sort(cdnow["T"]), atol=5e-3)


def test_k_search_finds_no_regularity_in_cdnow(cdnow_cbs):
    # BTYDplus demo("cdnow"): mbgcnbd.EstimateParameters(cbs) gives "k=1 -> no regularity
    # detected for CDNow", with the MBG/NBD estimates.
    model = MBGCNBD().fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"], cdnow_cbs["litt"])
    assert model.k_ == 1
    lls = model.log_likelihood_by_k_
    assert list(lls) == [1, 2, 3]  # stopped after two consecutive worse k
    assert lls[1] > lls[2] > lls[3]
    for name, value in BTYDPLUS_CDNOW_MBGNBD.items():
        assert model.params_[name] == pytest.approx(value, abs=2e-3), name


def _mbg_nbd_log_likelihood(r, alpha, a, b, x, t_x, t_end):
    """MBG/NBD likelihood of Batislam, Denizel & Filiztekin (2007), written directly."""
    a1 = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    a2 = np.exp(gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1))
    a3 = (alpha + t_end) ** -(r + x)
    a4 = a / (b + x) * (alpha + t_x) ** -(r + x)
    return np.log(a1 * a2 * (a3 + a4))


@pytest.mark.parametrize("params", [(0.525, 6.183, 0.891, 1.614), (2.0, 0.7, 3.0, 0.4)])
def test_k1_log_likelihood_equals_the_mbg_nbd_closed_form(cdnow, params):
    x, t_x, t_end = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    ours = row_log_likelihood(1, np.array(params), x, t_x, t_end, np.zeros_like(x))
    np.testing.assert_allclose(ours, _mbg_nbd_log_likelihood(*params, x, t_x, t_end), rtol=1e-11)


def test_fitted_log_likelihood_is_the_total_of_the_closed_form(cdnow_mbgnbd, cdnow):
    x, t_x, t_end = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    p = cdnow_mbgnbd.params_
    direct = _mbg_nbd_log_likelihood(p["r"], p["alpha"], p["a"], p["b"], x, t_x, t_end).sum()
    assert cdnow_mbgnbd.log_likelihood_ == pytest.approx(direct, rel=1e-12)


def test_log_likelihood_adds_the_erlang_density_terms():
    # k = 3 for one customer, integrating lambda numerically: an independent check of the
    # likelihood (Erlang-3 densities of the gaps, survival or dropout after the last one).
    from scipy.integrate import quad
    from scipy.stats import gamma as gamma_dist

    r, alpha, a, b, k = 1.7, 4.0, 0.8, 2.5, 3
    gaps = np.array([3.0, 5.5, 2.0])
    t_x, t_end = gaps.sum(), gaps.sum() + 4.2
    x = len(gaps)
    p_alive = np.exp(betaln(a, b + x + 1) - betaln(a, b))
    p_dead = np.exp(betaln(a + 1, b + x) - betaln(a, b))

    def integrand(lam: float) -> float:
        dens = np.prod(gamma_dist.pdf(gaps, k, scale=1 / lam))
        surv = gamma_dist.sf(t_end - t_x, k, scale=1 / lam)
        return gamma_dist.pdf(lam, r, scale=1 / alpha) * dens * (p_alive * surv + p_dead)

    direct = np.log(quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0])
    ours = row_log_likelihood(
        k,
        np.array([r, alpha, a, b]),
        np.array([x], float),
        np.array([t_x]),
        np.array([t_end]),
        np.array([np.log(gaps).sum()]),
    )
    assert ours[0] == pytest.approx(direct, rel=1e-9)


def test_one_time_buyer_probability_alive_is_the_mbg_nbd_formula(cdnow_mbgnbd):
    p = cdnow_mbgnbd.params_
    t_end = np.array([1.0, 10.0, 38.86])
    zeros = np.zeros_like(t_end)
    expected = 1 / (1 + p["a"] / p["b"] * ((p["alpha"] + t_end) / p["alpha"]) ** p["r"])
    ours = cdnow_mbgnbd.probability_alive(zeros, zeros, t_end)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert np.all(ours < 1)
    # repeat buyers: 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x))**(r + x))
    x, t_x, t = np.array([2.0, 7.0]), np.array([30.43, 20.0]), np.array([38.86, 38.86])
    odds = p["a"] / (p["b"] + x) * ((p["alpha"] + t) / (p["alpha"] + t_x)) ** (p["r"] + x)
    np.testing.assert_allclose(cdnow_mbgnbd.probability_alive(x, t_x, t), 1 / (1 + odds))


def test_k1_expectations_agree_with_the_hypergeometric_formulas(cdnow_mbgnbd, cdnow):
    # Batislam et al. (2007) / BTYDplus mbgcnbd.ConditionalExpectedTransactions for k = 1 (exact
    # there), evaluated with scipy's hyp2f1, which is accurate for CDNOW's light buyers.
    p = cdnow_mbgnbd.params_
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    x, t_x, t_end = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    t = 39.0
    z = t / (alpha + t_end + t)
    body = 1 - ((alpha + t_end) / (alpha + t_end + t)) ** (r + x) * hyp2f1(
        r + x, b + x + 1, a + b + x, z
    )
    expected = (a + b + x) / (a - 1) * body * cdnow_mbgnbd.probability_alive(x, t_x, t_end)
    np.testing.assert_allclose(cdnow_mbgnbd.expected_purchases(t, x, t_x, t_end), expected, 1e-7)
    ts = np.array([1.0, 10.0, 39.0, 78.0])
    uncond = (
        b / (a - 1) * (1 - (alpha / (alpha + ts)) ** r * hyp2f1(r, b + 1, a + b, ts / (alpha + ts)))
    )
    np.testing.assert_allclose(cdnow_mbgnbd.expected_purchases_unconditional(ts), uncond, 1e-7)


def test_renewal_series_at_k1_equals_the_quadrature():
    # The negative-binomial series used for k > 1 reduces at k = 1 to the beta-mixed
    # expectation the BG/NBD quadrature computes: two independent evaluations.
    r, alpha, a, b = 0.8, 5.0, 0.9, 2.0
    x = np.array([0.0, 1.0, 4.0, 30.0, 200.0])
    t_end = np.array([10.0, 20.0, 39.0, 39.0, 52.0])
    t = np.array([[1.0, 39.0, 300.0]] * len(x))
    series = _renewal_sums(1, r + x, alpha + t_end, b + x + 1, a, np.ones((len(x), 1)), t)
    quad = beta_mixed_repeat_counts(
        r + x, b + x + 1, np.full_like(x, a), t / (alpha + t_end)[:, None]
    )
    np.testing.assert_allclose(series, quad, rtol=1e-7)


# -- simulated data -----------------------------------------------------------------------------
TRUTH = {"r": 3.0, "alpha": 30.0, "a": 0.8, "b": 4.0}  # days: mean gap k / lambda ~ 30 days


def _calendar(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(60, 400, n).astype(float)


def test_recovers_k_and_parameters_from_20000_customers():
    print("seed", SEED)
    rng = np.random.default_rng(SEED)
    x, rec, t_end, litt, _ = simulate_mbg_cnbd(
        rng, 20_000, 3, *TRUTH.values(), _calendar(rng, 20_000)
    )
    model = MBGCNBD().fit(x, rec, t_end, litt)
    assert model.k_ == 3 and model.params_["k"] == 3.0
    assert model.converged_ and model.at_boundary_ == []
    for name, value in TRUTH.items():
        est, se = model.params_[name], model.standard_errors_[name]
        assert np.isfinite(se) and 0 < se < value, (name, est, se)
        assert abs(est - value) < 4 * se, (name, est, value, se)


def test_recovers_k_and_covers_the_truth_from_300_customers():
    print("seed", SEED + 1)
    rng = np.random.default_rng(SEED + 1)
    x, rec, t_end, litt, _ = simulate_mbg_cnbd(rng, 300, 3, *TRUTH.values(), _calendar(rng, 300))
    model = MBGCNBD().fit(x, rec, t_end, litt)
    assert model.k_ == 3
    for name, value in TRUTH.items():
        lo, hi = model.intervals_[name]
        assert lo < value < hi, (name, lo, value, hi)


def test_conditional_expectation_is_unbiased_for_regular_buyers():
    # True parameters, k = 3: the predicted holdout purchases of 20,000 simulated customers add up
    # to the simulated ones (z-test on the per-customer residuals), overall and by frequency.
    print("seed", SEED + 2)
    rng = np.random.default_rng(SEED + 2)
    t_star = 60.0
    x, rec, t_end, litt, x_star = simulate_mbg_cnbd(
        rng, 20_000, 3, *TRUTH.values(), _calendar(rng, 20_000), t_star
    )
    model = MBGCNBD(k=3)
    model.params_ = {"k": 3.0, **TRUTH}
    model.k_ = 3
    predicted = model.expected_purchases(t_star, x, rec, t_end)
    assert np.all(np.isfinite(predicted)) and np.all(predicted >= 0)
    for group in (x >= 0, x == 0, (x > 0) & (x < 4), x >= 4):
        resid = x_star[group] - predicted[group]
        z = resid.sum() / np.sqrt(np.sum(resid**2))
        assert abs(z) < 4, (z, x_star[group].sum(), predicted[group].sum())
    # every customer, one-time buyers included, may have dropped out
    alive = model.probability_alive(x, rec, t_end)
    assert np.all((alive > 0) & (alive < 1))


def test_unconditional_expectation_matches_simulated_calibration_counts():
    print("seed", SEED + 3)
    rng = np.random.default_rng(SEED + 3)
    t_end = np.full(20_000, 200.0)
    x, *_ = simulate_mbg_cnbd(rng, 20_000, 3, *TRUTH.values(), t_end)
    model = MBGCNBD(k=3)
    model.params_ = {"k": 3.0, **TRUTH}
    model.k_ = 3
    expected = model.expected_purchases_unconditional(200.0)
    z = (x.mean() - expected) / (x.std() / np.sqrt(len(x)))
    assert abs(z) < 4, (x.mean(), expected)
    assert model.expected_purchases_unconditional(0.0) == 0.0


# -- behaviour ----------------------------------------------------------------------------------
def _model(k: int, mean_gap: float = 30.0) -> MBGCNBD:
    # same mean intertransaction time k / E[lambda] for every k
    model = MBGCNBD(k=k)
    model.params_ = {"k": float(k), "r": 4.0, "alpha": 4.0 * mean_gap / k, "a": 0.8, "b": 4.0}
    model.k_ = k
    return model


def test_regular_buyer_silence_lowers_probability_alive_faster():
    silence = np.array([10.0, 30.0, 60.0, 90.0, 120.0])
    x = np.full(len(silence), 6.0)
    t_x = np.full(len(silence), 180.0)
    poisson = _model(1).probability_alive(x, t_x, t_x + silence)
    regular = _model(6).probability_alive(x, t_x, t_x + silence)
    assert np.all(np.diff(poisson) < 0) and np.all(np.diff(regular) < 0)
    # a month's silence is normal for a monthly buyer; three months are not
    assert regular[0] > poisson[0]
    assert regular[-1] < 0.5 * poisson[-1]
    assert regular[3] / regular[1] < 0.5 * poisson[3] / poisson[1]


def test_predictions_are_finite_non_negative_and_consistent():
    model = _model(4)
    rng = np.random.default_rng(SEED + 4)
    x = rng.integers(0, 60, 500).astype(float)
    t_end = rng.integers(30, 400, 500).astype(float)
    t_x = np.where(x > 0, np.floor(t_end * rng.uniform(0.2, 1.0, 500)), 0.0)
    ts = np.array([0.0, 30.0, 90.0, 365.0, 1000.0])
    many = model.expected_purchases_many(ts, x, t_x, t_end)
    assert many.shape == (500, 5)
    assert np.all(np.isfinite(many)) and np.all(many >= 0)
    assert np.all(many[:, 0] == 0) and np.all(np.diff(many, axis=1) >= -1e-12)
    for j, t in enumerate(ts):
        np.testing.assert_allclose(model.expected_purchases(t, x, t_x, t_end), many[:, j], 1e-12)
    # at most the purchases of a customer who never drops out (rate lambda / k)
    r, alpha = model.params_["r"], model.params_["alpha"]
    bound = ts[-1] * (r + 4 * x + 3) / (alpha + t_end) / 4 + 1
    assert np.all(many[:, -1] <= bound)


def test_predictions_before_fit_raise():
    model = MBGCNBD()
    with pytest.raises(NotFittedError):
        model.probability_alive([1], [2.0], [3.0])
    with pytest.raises(NotFittedError):
        model.expected_purchases(10, [1], [2.0], [3.0])
    with pytest.raises(NotFittedError):
        model.expected_purchases_many([10, 20], [1], [2.0], [3.0])
    with pytest.raises(NotFittedError):
        model.sample_params(3)


def test_settings_and_inputs_are_checked():
    with pytest.raises(ValueError, match="k must be"):
        MBGCNBD(k=0).fit([1], [1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="k_max must be"):
        MBGCNBD(k_max=0).fit([1], [1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="litt must be 0"):
        MBGCNBD().fit([0, 1], [0.0, 1.0], [2.0, 2.0], [0.5, 0.0])
    with pytest.raises(ValueError, match="same time unit"):  # litt in days, recency in weeks
        MBGCNBD().fit([2, 1], [2.0, 1.0], [3.0, 3.0], [np.log(7.0) * 2, 0.0])
    assert "k=None" in repr(MBGCNBD())


def test_sample_params_prior_and_weights():
    print("seed", SEED + 5)
    rng = np.random.default_rng(SEED + 5)
    x, rec, t_end, litt, _ = simulate_mbg_cnbd(rng, 2000, 2, *TRUTH.values(), _calendar(rng, 2000))
    model = MBGCNBD(k=2).fit(x, rec, t_end, litt)
    draws = model.sample_params(400, seed=1)
    assert draws.shape == (400, 5) and np.all(draws[:, 0] == 2.0)
    assert list(model.params_) == ["k", "r", "alpha", "a", "b"]
    np.testing.assert_allclose(
        np.median(draws[:, 1:], axis=0), list(model.params_.values())[1:], rtol=0.1
    )
    assert model.covariance_log_.shape == (4, 4)
    # a tight prior on r pins it; the time-unit rescaling leaves alpha's prior in days
    pinned = MBGCNBD(k=2, prior={"r": (1.0, 0.01), "alpha": (10.0, 0.01)}).fit(x, rec, t_end, litt)
    assert pinned.params_["r"] == pytest.approx(1.0, rel=0.05)
    assert pinned.params_["alpha"] == pytest.approx(10.0, rel=0.05)
    # weights are the same as repeated rows
    w = rng.integers(1, 4, len(x)).astype(float)
    weighted = MBGCNBD(k=2).fit(x, rec, t_end, litt, weights=w)
    rep = np.repeat(np.arange(len(x)), w.astype(int))
    repeated = MBGCNBD(k=2).fit(x[rep], rec[rep], t_end[rep], litt[rep])
    for name in TRUTH:
        assert weighted.params_[name] == pytest.approx(repeated.params_[name], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-10)
