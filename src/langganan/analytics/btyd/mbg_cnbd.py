"""The MBG/CNBD-k model of regular buyers (Platzer & Reutterer 2016, "Ticking away the moments:
Timing regularity helps to better predict customer activity", Marketing Science 35(5)).

While active, a customer's intertransaction times are Erlang-k with rate ``lambda ~ Gamma(r,
alpha)``; after every purchase, the first one included, the customer drops out for good with
probability ``p ~ Beta(a, b)``. ``k = 1`` is the MBG/NBD of Batislam, Denizel & Filiztekin (2007).
With ``k > 1`` purchases are regular, so a long silence since the last purchase is stronger
evidence of dropout than under the Poisson assumption of BG/NBD and Pareto/NBD.

Notation of the formulas below (per customer): ``x`` repeat purchases, recency ``t_x``, age ``T``,
``litt`` the sum of the logarithms of the ``x`` intertransaction times, ``s = r + k x`` and
``v = (T - t_x) / (alpha + T)``. Integrating ``lambda`` and ``p`` out,

    L = exp((k-1) litt) / ((k-1)!)**x * Gamma(s) / Gamma(r) * alpha**r * B(a, b+x+1) / B(a, b)
        * (alpha + T)**-s * (S2 + S1),
    S2 = sum_{j<k} (s)_j v**j / j!                      (alive: the next purchase is not due yet)
    S1 = a / (b + x) * ((alpha + T) / (alpha + t_x))**s    (dropped out right after purchase x)

so ``P(alive) = S2 / (S1 + S2)``. The ``j``-th term of ``S2`` is the posterior weight of "``j`` of
the ``k`` exponential phases of the next intertransaction time have elapsed by ``T``"; given ``j``,
``lambda ~ Gamma(s + j, alpha + T)`` and ``p ~ Beta(a, b + x + 1)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln

from ._base import Optimum, maximise_likelihood
from ._quadrature import beta_mixed_repeat_count, beta_mixed_repeat_counts
from ._rfm import MSG_TOO_FEW_ROWS, RFMData, RFMModel, prepare_rfm
from ._validation import (
    ERR_BAD_SETTING,
    ERR_LENGTH_MISMATCH,
    ERR_NO_REPEAT_BUYERS,
    ERR_NOT_1D,
    ERR_NOT_FINITE,
    ERR_NOT_NUMERIC,
    FitWarning,
    FloatArray,
    compress_rows,
    distinct_values,
    validate_horizon,
    validate_rfm,
)

ERR_LITT_WITHOUT_REPEAT = "litt must be 0 when frequency is 0 (no intertransaction time)"
ERR_LITT_TOO_LARGE = (
    "litt (sum of the logs of the intertransaction times) exceeds frequency * log(recency / "
    "frequency), which no positive intertransaction times summing to recency can reach; is litt "
    "in the same time unit as recency?"
)

#: Very negative stand-in for log(0) that keeps ``0 * value`` at 0 (no NaN).
_LOG_ZERO = -1e300
#: Elements of one block of the (rows, horizons, counts) arrays of the renewal sums.
_BLOCK = 1 << 21
#: Width of the count window: standard deviations of the future phase count above its mean,
#: plus e-folds of the geometric tail of the negative binomial (mass beyond about 1e-12).
_WINDOW_SD = 10.0
_TAIL_E_FOLDS = 28.0


def _validate_litt(
    litt: ArrayLike, x: FloatArray, t_x: FloatArray, check_bound: bool = True
) -> FloatArray:
    """Check ``litt`` (finite, 0 without repeat purchase and, with ``check_bound``, reachable
    by positive intertransaction times summing to ``t_x``) and return it as a float array."""
    try:
        arr = np.asarray(litt, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(ERR_NOT_NUMERIC.format(field="litt")) from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(ERR_NOT_1D.format(field="litt"))
    if len(arr) != len(x):
        raise ValueError(ERR_LENGTH_MISMATCH.format(lengths=[len(x), len(t_x), len(arr)]))
    if not np.all(np.isfinite(arr)):
        raise ValueError(ERR_NOT_FINITE.format(field="litt"))
    repeat = x > 0
    if np.any(arr[~repeat] != 0):
        raise ValueError(ERR_LITT_WITHOUT_REPEAT)
    if not check_bound:
        return arr
    # Jensen: the mean log of positive gaps is at most the log of their mean, t_x / x.
    with np.errstate(divide="ignore"):
        bound = x[repeat] * np.log(t_x[repeat] / x[repeat])
    if np.any(arr[repeat] > bound + 1e-6 * np.maximum(1.0, np.abs(bound))):
        raise ValueError(ERR_LITT_TOO_LARGE)
    return arr


def _phase_log_terms(k: int, s: FloatArray, log_v: FloatArray) -> FloatArray:
    """``log[(s)_j v**j / j!]`` for ``j = 0..k-1``: (rows, k); ``log_v`` may be ``_LOG_ZERO``."""
    j = np.arange(k, dtype=np.float64)
    coef = gammaln(s[:, None] + j) - gammaln(s)[:, None] - gammaln(j + 1.0)
    return coef + j * log_v[:, None]


def _log_sum_and_weights(terms: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise log-sum-exp of (rows, k) log terms and the normalised weights."""
    top = terms.max(axis=1)
    e = np.exp(terms - top[:, None])
    total = e.sum(axis=1)
    return top + np.log(total), e / total[:, None]


def _alive_moments(
    k: int, s: FloatArray, v: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log S2`` and the posterior means of ``j`` and of ``digamma(s + j) - digamma(s)``.

    The terms ``(s)_j v**j / j!`` are built by their ratios in linear space, one column at a
    time (fast, and exact as ``v <= 1`` keeps them below ``(s + k)**k``); rows whose terms could
    overflow go through log space.
    """
    safe = k * np.log(s + k) < 600.0
    if not np.all(safe):
        log_s2, mean_j, mean_psi = (np.empty_like(s) for _ in range(3))
        risky = ~safe
        j = np.arange(k, dtype=np.float64)
        log_s2[risky], weights = _log_sum_and_weights(
            _phase_log_terms(k, s[risky], np.log(np.maximum(v[risky], 1e-300)))
        )
        mean_j[risky] = weights @ j
        psi = digamma(s[risky][:, None] + j) - digamma(s[risky])[:, None]
        mean_psi[risky] = np.einsum("rk,rk->r", weights, psi)
        if np.any(safe):
            log_s2[safe], mean_j[safe], mean_psi[safe] = _alive_moments(k, s[safe], v[safe])
        return log_s2, mean_j, mean_psi
    term = np.ones_like(s)
    psi = np.zeros_like(s)
    total = np.ones_like(s)
    sum_j = np.zeros_like(s)
    sum_psi = np.zeros_like(s)
    for j in range(1, k):
        term = term * ((s + (j - 1)) * v / j)
        psi = psi + 1.0 / (s + (j - 1))
        total += term
        sum_j += j * term
        sum_psi += psi * term
    return np.log(total), sum_j / total, sum_psi / total


def _log_v(gap: FloatArray, log_age: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.where(gap > 0, np.log(np.where(gap > 0, gap, 1.0)) - log_age, _LOG_ZERO)


def _state(
    k: int, params: FloatArray, x: FloatArray, t_x: FloatArray, t_end: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log S1``, ``log S2`` and the posterior phase weights (rows, k) given alive."""
    r, alpha, a, b = params
    s = r + k * x
    log_age = np.log(alpha + t_end)
    log_s1 = np.log(a) - np.log(b + x) + s * (log_age - np.log(alpha + t_x))
    if k == 1:
        return log_s1, np.zeros_like(x), np.ones((len(x), 1))
    log_s2, weights = _log_sum_and_weights(_phase_log_terms(k, s, _log_v(t_end - t_x, log_age)))
    return log_s1, log_s2, weights


def row_log_likelihood(
    k: int,
    params: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    t_end: FloatArray,
    litt: FloatArray,
) -> FloatArray:
    """Log-likelihood of each customer's purchase times under MBG/CNBD-k (constants included).

    Parameters
    ----------
    k : int
        Erlang order of the intertransaction times.
    params : numpy.ndarray
        ``(r, alpha, a, b)`` in the time unit of the data.
    x, t_x, t_end, litt : numpy.ndarray
        Frequency, recency, T and the sum of the log intertransaction times.

    Returns
    -------
    numpy.ndarray
        One log-likelihood per row (the formula of the module docstring).
    """
    r, alpha, a, b = params
    s = r + k * x
    log_s1, log_s2, _ = _state(k, params, x, t_x, t_end)
    return (
        (k - 1) * litt
        - x * math.lgamma(k)
        + gammaln(s)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x + 1.0)
        - betaln(a, b)
        - s * np.log(alpha + t_end)
        + np.logaddexp(log_s1, log_s2)
    )


def _renewal_sums(
    k: int,
    s: FloatArray,
    age: FloatArray,
    bb: FloatArray,
    a: float,
    phase: FloatArray,
    t: FloatArray,
) -> FloatArray:
    """Expected purchases in ``(T, T + t]`` of a customer alive at ``T`` (Erlang-k, ``k > 1``).

    Given ``j`` elapsed phases, the ``n``-th future purchase is the ``(k n - j)``-th future phase
    completion, and it happens if the customer survived the ``n - 1`` earlier future purchases:
    ``E = sum_j phase_j * sum_{N>=0} P_j(N) * C(floor((N + j) / k))`` where ``N``, the number of
    phase completions in ``t``, is negative binomial ``NB(s + j, (alpha + T) / (alpha + T + t))``
    and ``C(n) = sum_{m<=n} E[(1 - p)**(m-1)]`` under ``p ~ Beta(a, bb)``. The sum over ``N`` is
    cut where the remaining mass is below about 1e-12 (``_WINDOW_SD``, ``_TAIL_E_FOLDS``).

    ``s, age, bb`` are per row (``r + k x``, ``alpha + T``, ``b + x + 1``), ``phase`` is
    (rows, k) and ``t`` (rows, horizons). Returns (rows, horizons).
    """
    rows, horizons = t.shape
    out = np.zeros((rows, horizons))
    u = t / age[:, None]
    u_max = u.max(axis=1) if horizons else np.zeros(rows)
    mean = (s + k - 1.0) * u_max
    # NB tails decay like (u / (1 + u))**N, i.e. e**(-N / (1 + u)) for long horizons
    sd = np.sqrt(mean * (1.0 + u_max))
    width = np.ceil(mean + _WINDOW_SD * sd + _TAIL_E_FOLDS * (1.0 + u_max) + 2 * k).astype(np.int64)
    order = np.argsort(width, kind="stable")
    cells = (width[order] + 1) * max(horizons, 1)  # elements per row, ascending
    start = 0
    while start < rows:
        # rows are sorted by width: a block's widest row is its last
        stop = start + 1
        while stop < rows and (stop - start + 1) * cells[stop] <= _BLOCK:
            stop += 1
        idx = order[start:stop]
        out[idx] = _renewal_block(
            k, s[idx], bb[idx], a, phase[idx], u[idx], int(width[idx[-1]]) + 1
        )
        start = stop
    return out


def _renewal_block(
    k: int, s: FloatArray, bb: FloatArray, a: float, phase: FloatArray, u: FloatArray, n_count: int
) -> FloatArray:
    count = np.arange(n_count, dtype=np.float64)
    n_max = (n_count + k - 2) // k + 1
    # C(n) = sum_{m=1..n} B(a, bb + m - 1) / B(a, bb), C(0) = 0
    m = np.arange(1, n_max, dtype=np.float64)
    log_ratio = np.log(bb[:, None] + m - 1.0) - np.log(a + bb[:, None] + m - 1.0)
    c = np.exp(np.concatenate([np.zeros((len(s), 1)), np.cumsum(log_ratio, axis=1)], axis=1))
    cum = np.concatenate([np.zeros((len(s), 1)), np.cumsum(c, axis=1)], axis=1)
    uu = np.maximum(u, 1e-300)
    log_q = -np.log1p(uu)  # (rows, horizons)
    log_1mq = np.log(uu) + log_q
    total = np.zeros_like(u)
    for j in range(k):
        sj = s + j
        coef = gammaln(sj[:, None] + count) - gammaln(sj)[:, None] - gammaln(count + 1.0)
        surv = np.take_along_axis(
            cum, np.broadcast_to(((count + j) // k).astype(np.int64), coef.shape), axis=1
        )
        log_p = (
            coef[:, None, :]
            + (sj[:, None] * log_q)[:, :, None]
            + log_1mq[:, :, None] * count[None, None, :]
        )
        total += phase[:, j, None] * np.einsum("rhn,rn->rh", np.exp(log_p), surv)
    return np.where(u > 0, total, 0.0)


@dataclass
class _KFit:
    k: int
    opt: Optimum
    natural: dict[str, float]
    log_likelihood: float
    score: float


class MBGCNBD(RFMModel):
    """MBG/CNBD-k purchase model for regular buyers (Platzer & Reutterer 2016).

    While active, a customer's intertransaction times are Erlang-``k`` with rate ``lambda ~
    Gamma(r, alpha)``; after each purchase, the first one included, they drop out with
    probability ``p ~ Beta(a, b)``, so a customer who never came back is not certainly alive
    (unlike BG/NBD). ``k = 1`` is the MBG/NBD model (Batislam, Denizel & Filiztekin 2007). The
    model needs, besides (frequency, recency, T), each customer's ``litt``: the sum of the
    logarithms of their intertransaction times, which identifies ``k``.

    Parameters
    ----------
    k : int or None, default None
        Erlang order. ``None`` fits ``k = 1 .. k_max`` in turn (stopping once the fit got worse
        for two consecutive ``k``) and keeps the ``k`` with the best (penalised)
        log-likelihood, as BTYDplus's ``mbgcnbd.EstimateParameters`` does.
    k_max : int, default 10
        Largest ``k`` tried when ``k`` is None.
    penalizer : float, default 0.0
        L2 penalty on the logarithms of the shape parameters ``r, a, b`` (per customer), as for
        :class:`BetaGeo`; ``alpha`` is not penalised.
    prior : dict, optional
        ``{param: (median, sd_log)}``: a normal prior on the log of ``r``, ``alpha``, ``a`` or
        ``b`` (``alpha`` in the caller's time unit); the fit is then the posterior mode and the
        intervals are credible intervals. ``k`` has no prior.
    max_iter : int, default 1000
        Iteration limit of each optimiser run.

    Attributes
    ----------
    params_ : dict
        ``{"k", "r", "alpha", "a", "b"}`` (``k`` as a float); ``alpha`` in the caller's time unit.
    k_ : int
        The Erlang order used.
    log_likelihood_ : float
        Total log-likelihood at the estimate in the caller's time unit, constants and the
        ``litt`` terms included (the value of BTYDplus's ``mbgcnbd.cbs.LL``).
    log_likelihood_by_k_ : dict
        Log-likelihood of each ``k`` fitted.
    standard_errors_, intervals_ : dict
        For ``r, alpha, a, b`` (``k`` is chosen, not estimated with an error), from the observed
        information given ``k``; NaN for boundary parameters.
    covariance_log_ : numpy.ndarray
        Covariance of ``log(r, alpha, a, b)`` (rescaled time; only ``log alpha`` shifts with the
        unit, by a constant).
    converged_, at_boundary_, n_customers_
        As for :class:`BetaGeo`.

    Notes
    -----
    ``expected_purchases`` is exact for every ``k``. BTYDplus approximates the conditional
    expectation for ``k > 1`` by the MBG/NBD formula with ``alpha`` replaced by ``k * alpha`` and
    rescales the result so that the cohort total matches the unconditional expectation (which
    makes a customer's prediction depend on who else is passed). Here the future purchases are
    summed exactly instead: given the number ``j`` of elapsed Erlang phases (whose posterior is
    the ``S2`` terms), the ``n``-th future purchase is the ``(k n - j)``-th completion of a
    gamma-mixed Poisson phase process, i.e. negative binomial counts (see ``_renewal_sums``).
    """

    _param_names = ("r", "alpha", "a", "b")
    _shape_params = ("r", "a", "b")
    _time_params = ("alpha",)

    k_: int

    def __init__(
        self,
        k: int | None = None,
        k_max: int = 10,
        penalizer: float = 0.0,
        prior: Mapping[str, tuple[float, float]] | None = None,
        max_iter: int = 1000,
    ) -> None:
        super().__init__(penalizer, prior=prior, max_iter=max_iter)
        self.k = k
        self.k_max = k_max

    @classmethod
    def from_params(cls, params: Mapping[str, float], **settings: Any) -> Self:
        """:meth:`BaseFitter.from_params`; ``params`` also holds the order ``k``."""
        k = params.get("k")
        if k is None or not float(k).is_integer() or float(k) < 1:
            raise ValueError(ERR_BAD_SETTING.format(name="k", what="a positive integer", value=k))
        model = super().from_params(params, **{"k": int(k), **settings})
        model.k_ = int(k)
        return model

    def _check_settings(self) -> None:
        super()._check_settings()
        k = self.k
        if k is not None and (not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1):
            raise ValueError(
                ERR_BAD_SETTING.format(name="k", what="None or a positive integer", value=k)
            )
        k_max = self.k_max
        if not isinstance(k_max, int | np.integer) or isinstance(k_max, bool) or k_max < 1:
            raise ValueError(
                ERR_BAD_SETTING.format(name="k_max", what="a positive integer", value=k_max)
            )

    # -- likelihood -------------------------------------------------------------------------
    def _row_log_likelihood(self, params: FloatArray, data: RFMData) -> FloatArray:
        k = int(data.get("k", getattr(self, "k_", self.k or 1)))
        litt = data.get("litt", np.zeros_like(data["x"]))
        return row_log_likelihood(k, params, data["x"], data["t_x"], data["T"], litt)

    def _prepare(self, x: FloatArray, t_x: FloatArray, t_end: FloatArray, w: FloatArray) -> RFMData:
        """Group the terms by what they depend on: per distinct frequency (``Gamma``, ``Beta``
        and digamma terms), per distinct time (``log(alpha + t)``), and only the mixture of the
        alive and dropped-out branches per row."""
        data = prepare_rfm(x, t_x, t_end)
        grid, codes = distinct_values(np.concatenate([t_end, t_x]))
        i_end = codes[: len(x)]
        gap = t_end - t_x
        data.update(
            w=w,
            grid=grid,
            i_end=i_end,
            i_tx=codes[len(x) :],
            w_x=np.bincount(data["inv"], weights=w, minlength=len(data["ux"])),
            w_grid=np.bincount(i_end, weights=w, minlength=len(grid)),
            wx_grid=np.bincount(i_end, weights=w * x, minlength=len(grid)),
            open_rows=np.flatnonzero(gap > 0),
        )
        data["gap"] = gap[data["open_rows"]]
        return data

    def _ll_and_gradient(
        self, k: int, params: FloatArray, data: RFMData
    ) -> tuple[float, FloatArray]:
        """Total weighted log-likelihood (without the parameter-free ``litt`` and ``(k-1)!``
        terms) and its derivatives w.r.t. ``(r, alpha, a, b)``."""
        r, alpha, a, b = params
        ux, inv, w, w_x = data["ux"], data["inv"], data["w"], data["w_x"]
        i_end, i_tx = data["i_end"], data["i_tx"]
        total = w_x.sum()
        log_grid = np.log(alpha + data["grid"])
        inv_grid = 1.0 / (alpha + data["grid"])
        s_x = r + k * ux
        s = s_x[inv]
        span = log_grid[i_end] - log_grid[i_tx]
        log_s1 = (np.log(a) - np.log(b + ux))[inv] + s * span
        log_s2 = np.zeros(len(s))
        mean_j = np.zeros(len(s))
        mean_psi = np.zeros(len(s))
        if k > 1 and len(data["open_rows"]):
            rows = data["open_rows"]
            v = data["gap"] * inv_grid[i_end[rows]]  # in [0, 1]
            log_s2[rows], mean_j[rows], mean_psi[rows] = _alive_moments(k, s[rows], v)
        d = log_s1 - log_s2
        small = np.exp(-np.abs(d))
        softplus = np.maximum(d, 0.0) + np.log1p(small)
        share = 1.0 / (1.0 + small)
        dead = np.where(d >= 0.0, share, small * share)
        alive = 1.0 - dead
        w_dead = w * dead
        w_alive = w * alive
        ll = (
            np.dot(w_x, gammaln(s_x) - gammaln(r) + betaln(a, b + ux + 1.0) - betaln(a, b))
            + r * np.log(alpha) * total
            - np.dot(r * data["w_grid"] + k * data["wx_grid"], log_grid)
            + np.dot(w, log_s2 + softplus)
        )
        d_r = (
            np.dot(w_x, digamma(s_x) - digamma(r))
            + np.log(alpha) * total
            - np.dot(data["w_grid"], log_grid)
            + np.dot(w_dead, span)
            + np.dot(w_alive, mean_psi)
        )
        d_alpha = (
            r * total / alpha
            - np.dot(r * data["w_grid"] + k * data["wx_grid"], inv_grid)
            + np.dot(w_dead * s, inv_grid[i_end] - inv_grid[i_tx])
            - np.dot(w_alive * mean_j, inv_grid[i_end])
        )
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux + 1.0)
        d_a = np.dot(w_x, psi_ab - psi_abx) + w_dead.sum() / a
        wd_x = np.bincount(inv, weights=w_dead, minlength=len(ux))
        d_b = np.dot(w_x, digamma(b + ux + 1.0) - psi_abx - digamma(b) + psi_ab) - np.dot(
            wd_x, 1.0 / (b + ux)
        )
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    def _starts(self, x: FloatArray, w: FloatArray, k: int = 1) -> list[FloatArray]:
        mean_x = max(float(np.dot(w, x) / w.sum()), 1e-2)
        return [
            np.log([1.0, 1.0 / (k * mean_x), 0.8, 2.5]),
            np.log([0.3, 0.3 / (k * mean_x), 0.5, 5.0]),
            np.log([3.0, 3.0 / (k * mean_x), 2.0, 1.0]),
        ]

    # -- fitting ----------------------------------------------------------------------------
    def fit(  # type: ignore[override]
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        litt: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> MBGCNBD:
        """Fit the model by maximum likelihood (posterior mode with a prior).

        Parameters
        ----------
        frequency : array-like
            Number of repeat purchases of each customer (whole numbers).
        recency : array-like
            Time from the first to the last purchase (0 when frequency is 0).
        T : array-like
            Time from the first purchase to the end of observation (positive, >= recency).
        litt : array-like
            Sum of the natural logarithms of the customer's ``frequency`` intertransaction
            times, in the time unit of ``recency`` and ``T`` (0 when frequency is 0). It is
            not used when ``k = 1`` is fixed (zeros are accepted then).
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        self
            The fitted model.

        Raises
        ------
        ValueError
            For invalid input or settings, or when no customer made a repeat purchase.

        Warns
        -----
        FitWarning
            When the optimiser did not converge or parameters ran to the boundary.

        Notes
        -----
        ``litt`` enters the likelihood only through ``(k - 1) * sum(litt)``, which does not
        depend on ``r, alpha, a, b``: the rows are therefore compressed on (frequency, recency,
        T) alone, a coarser merge than on all four columns.
        """
        self._check_settings()
        x, t_x, t_end, w = validate_rfm(frequency, recency, T, weights)
        # with k = 1 fixed litt does not enter the likelihood (callers may pass zeros)
        lt = _validate_litt(litt, x, t_x, check_bound=self.k != 1)
        litt_total = float(np.dot(w, lt))
        (cx, ctx, cend), cw, _ = compress_rows(x, t_x, t_end, weights=w)
        name = type(self).__name__
        if not np.any(cx > 0):
            raise ValueError(ERR_NO_REPEAT_BUYERS.format(name=name))
        if len(cx) < len(self._param_names):
            warnings.warn(
                MSG_TOO_FEW_ROWS.format(name=name, n=len(cx), k=len(self._param_names)),
                FitWarning,
                stacklevel=2,
            )
        total = float(cw.sum())
        # Fit on a time scale where the average T is 1 (see RFMModel.fit).
        scale = float(np.dot(cw, cend) / total)
        data = self._prepare(cx, ctx / scale, cend / scale, cw)
        prior_mean, prior_precision = self._prior_arrays(scale)
        shape_idx = [self._param_names.index(p) for p in self._shape_params]
        candidates = [int(self.k)] if self.k is not None else list(range(1, int(self.k_max) + 1))

        fits: list[_KFit] = []
        for k in candidates:

            def value_and_gradient(theta: FloatArray, k: int = k) -> tuple[float, FloatArray]:
                params = np.exp(theta)
                ll, grad = self._ll_and_gradient(k, params, data)
                grad = -grad * params / total
                grad[shape_idx] += 2.0 * self.penalizer * theta[shape_idx]
                prior, prior_grad = self._prior_terms(theta, prior_mean, prior_precision, total)
                return -ll / total + self._penalty(theta) + prior, grad + prior_grad

            def objective(theta: FloatArray, vg=value_and_gradient) -> float:
                return vg(theta)[0]

            starts = self._starts(cx, cw, k)
            if fits:  # warm start: same mean intertransaction time k / lambda
                prev = fits[-1].opt.log_params.copy()
                prev[1] += np.log((k - 1) / k)
                starts.insert(0, prev)
            opt = maximise_likelihood(
                objective,
                total,
                starts,
                max_iter=self.max_iter,
                value_and_gradient=value_and_gradient,
            )
            values = np.exp(opt.log_params)
            natural = {"k": float(k)}
            for p, value in zip(self._param_names, values, strict=True):
                natural[p] = float(value * scale) if p in self._time_params else float(value)
            caller = np.array([natural[p] for p in self._param_names])
            with np.errstate(all="ignore"):
                row_ll = row_log_likelihood(k, caller, cx, ctx, cend, np.zeros_like(cx))
            ll_total = float(np.dot(cw, row_ll)) + (k - 1) * litt_total
            # the x log((k-1)!) term is in row_ll; the prior and penalty are per customer
            prior, _ = self._prior_terms(opt.log_params, prior_mean, prior_precision, total)
            score = ll_total - total * (self._penalty(opt.log_params) + prior)
            fits.append(_KFit(k, opt, natural, ll_total, score))
            scores = [f.score for f in fits]
            if len(scores) >= 3 and scores[-1] < scores[-2] < scores[-3]:
                break
        best = max(fits, key=lambda f: f.score if np.isfinite(f.score) else -np.inf)
        self._record(best.opt, best.natural)
        self.k_ = best.k
        self.log_likelihood_ = best.log_likelihood
        self.log_likelihood_by_k_ = {f.k: f.log_likelihood for f in fits}
        self.n_customers_ = total
        return self

    # -- predictions ------------------------------------------------------------------------
    def sample_params(self, n: int, seed: int | np.random.Generator | None = 0) -> FloatArray:
        """Draws of the parameters from the normal approximation of their posterior given ``k``.

        Parameters
        ----------
        n : int
            Number of draws.
        seed : int, numpy.random.Generator or None, default 0

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 5)``, columns in the order of ``params_``: ``k`` (constant, the fitted
            order), then ``r, alpha, a, b`` drawn as in :meth:`BaseFitter.sample_params`.
        """
        draws = super().sample_params(n, seed)
        return np.column_stack([np.full(len(draws), float(self.k_)), draws])

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Probability that each customer is still active at the end of observation.

        Parameters
        ----------
        frequency, recency, T : array-like
            The customers' summaries, as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            ``P(alive | x, t_x, T) = S2 / (S1 + S2)``, below 1 also for one-time buyers; for
            ``k = 1`` the MBG/NBD formula ``1 / (1 + a / (b + x) * ((alpha + T) / (alpha +
            t_x))**(r + x))``.
        """
        params = self._param_array()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        log_s1, log_s2, _ = _state(self.k_, params, x, t_x, t_end)
        return expit(log_s2 - log_s1)

    def _expected_rows(
        self, x: FloatArray, t_x: FloatArray, t_end: FloatArray, t: FloatArray
    ) -> FloatArray:
        """``E[Y(t) | x, t_x, T]`` for distinct rows and a (rows, horizons) array of ``t``."""
        r, alpha, a, b = params = self._param_array()
        k = self.k_
        log_s1, log_s2, phase = _state(k, params, x, t_x, t_end)
        alive = expit(log_s2 - log_s1)
        age = alpha + t_end
        if k == 1:
            # E[(1 - (1 + p u)**-(r + x)) / p] under p ~ Beta(a, b + x + 1), u = t / (alpha + T)
            active = beta_mixed_repeat_counts(
                r + x, b + x + 1.0, np.full_like(x, a), t / age[:, None]
            )
        else:
            active = _renewal_sums(k, r + k * x, age, b + x + 1.0, a, phase, t)
        return alive[:, None] * active

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected number of purchases in ``(T, T + t]`` given each customer's history.

        Parameters
        ----------
        t : float or array-like
            Horizon length in the caller's time unit (scalar or one per customer).
        frequency, recency, T : array-like
            The customers' summaries, as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            ``E[Y(t) | x, t_x, T] = P(alive) * E[Y(t) | alive]``, exact for every ``k`` (for
            ``k = 1`` the MBG/NBD expression ``(a + b + x) / (a - 1) * [1 - ((alpha + T) /
            (alpha + T + t))**(r + x) * 2F1(r + x, b + x + 1; a + b + x; t / (alpha + T +
            t))] * P(alive)``, evaluated by quadrature). See the class notes for ``k > 1``.
        """
        self._check_fitted()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        horizon = self._horizon(t, len(x))
        if self.k_ == 1 and len(x) and np.all(horizon == horizon[0]):
            # one horizon for all: shared per (x, T) like expected_purchases_many
            return self.expected_purchases_many([horizon[0]], x, t_x, t_end)[:, 0]
        (ux, utx, uend, uh), _, inv = compress_rows(x, t_x, t_end, horizon)
        return self._expected_rows(ux, utx, uend, uh[:, None])[:, 0][inv]

    def expected_purchases_many(
        self, ts: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """:meth:`expected_purchases` for several horizons at once: (customers, horizons).

        The posterior of each distinct (frequency, recency, T) row and the negative binomial
        terms of its counts are computed once and shared by all horizons.
        """
        self._check_fitted()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        horizons = validate_horizon(ts).ravel()
        if self.k_ == 1:
            # the expectation while active depends on (x, T) only: far fewer distinct rows
            r, alpha, a, b = self._param_array()
            alive = self.probability_alive(x, t_x, t_end)
            (ux, uend), _, inv = compress_rows(x, t_end)
            u = horizons[None, :] / (alpha + uend)[:, None]
            active = beta_mixed_repeat_counts(r + ux, b + ux + 1.0, np.full_like(ux, a), u)
            return alive[:, None] * active[inv]
        (ux, utx, uend), _, inv = compress_rows(x, t_x, t_end)
        t = np.broadcast_to(horizons, (len(ux), len(horizons)))
        return self._expected_rows(ux, utx, uend, np.ascontiguousarray(t))[inv]

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """Expected number of repeat purchases in ``(0, t]`` of a newly acquired customer.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the caller's time unit.

        Returns
        -------
        numpy.ndarray
            ``E[X(t)]``, same shape as ``t``; for ``k = 1`` the MBG/NBD ``b / (a - 1) * [1 -
            (alpha / (alpha + t))**r * 2F1(r, b + 1; a + b; t / (alpha + t))]``.
        """
        r, alpha, a, b = self._param_array()
        k = self.k_
        horizon = validate_horizon(t)
        flat = horizon.ravel()
        survive = b / (a + b)  # the customer did not drop out right after the first purchase
        if k == 1:
            active = beta_mixed_repeat_count(r, b + 1.0, a, flat / alpha)
        else:
            phase = np.zeros((1, k))
            phase[0, 0] = 1.0
            active = _renewal_sums(
                k, np.array([r]), np.array([alpha]), np.array([b + 1.0]), a, phase, flat[None, :]
            )[0]
        return (survive * active).reshape(horizon.shape)

    def __repr__(self) -> str:
        prior = f", prior={self.prior!r}" if self.prior else ""
        return (
            f"{type(self).__name__}(k={self.k!r}, k_max={self.k_max!r}, "
            f"penalizer={self.penalizer!r}{prior}, max_iter={self.max_iter!r})"
        )


__all__ = ["MBGCNBD", "row_log_likelihood"]
