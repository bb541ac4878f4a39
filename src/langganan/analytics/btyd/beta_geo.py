"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way")."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln

from ._quadrature import beta_mixed_repeat_count, beta_mixed_repeat_counts
from ._rfm import RFMData, RFMModel
from ._validation import FloatArray, compress_rows, distinct_values, validate_horizon


class BetaGeo(RFMModel):
    """Beta-geometric / negative binomial distribution (BG/NBD) purchase model.

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each purchase they drop out with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the logarithms of the shape parameters ``r, a, b`` (added to the mean
        negative log-likelihood per customer); it pulls them towards 1 and keeps fits on
        degenerate data away from the boundary. The scale ``alpha`` is not penalised, so the
        fit stays equivariant in the time unit.
    max_iter : int, default 1000
        Iteration limit of each optimiser run.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}``; ``alpha`` is in the caller's time unit.
    log_likelihood_ : float
        Total (weighted) log-likelihood at the estimate, in the caller's time unit, constants
        included: the log joint density of the purchase times, so changing the unit by a
        factor ``c`` adds ``-log(c) * sum(frequency)``. Comparable with the published values.
    standard_errors_ : dict
        From the inverse observed information (numeric Hessian of the negative
        log-likelihood); NaN for boundary parameters or a singular information matrix.
    converged_ : bool
        Whether the optimiser converged.
    at_boundary_ : list of str
        Parameters that the data do not identify and that were fixed at the edge of the
        parameter space (a ``FitWarning`` is emitted).
    n_customers_ : float
        Total weight of the customers fitted.

    Examples
    --------
    >>> m = BetaGeo().fit([2, 1, 0, 0, 5, 3], [30.4, 1.7, 0, 0, 35.0, 20.1], [38.9] * 6)
    ... # doctest: +SKIP
    >>> m.probability_alive([2], [30.4], [38.9])  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")
    _shape_params = ("r", "a", "b")
    _time_params = ("alpha",)

    def _row_log_likelihood(self, params: FloatArray, data: RFMData) -> FloatArray:
        r, alpha, a, b = params
        x, t_x, t_end, ux, inv = data["x"], data["t_x"], data["T"], data["ux"], data["inv"]
        per_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
        head = per_x[inv] + r * np.log(alpha)
        alive = -(r + x) * np.log(alpha + t_end)
        repeat = x > 0
        # Dropped out right after the last purchase: B(a+1, b+x-1) = B(a, b+x) * a / (b+x-1).
        bx1 = np.where(repeat, b + x - 1.0, 1.0)
        dead = np.where(repeat, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
        return head + np.logaddexp(alive, dead)

    def _prepare(self, x: FloatArray, t_x: FloatArray, t_end: FloatArray, w: FloatArray) -> RFMData:
        """Group the likelihood's terms by what they depend on.

        Per row, ``log L = per_x + r log(alpha) - (r + x) log(alpha + T) + softplus(d)`` with
        ``d = log(a) - log(b + x - 1) + (r + x) (log(alpha + T) - log(alpha + t_x))`` for repeat
        buyers (``logaddexp(alive, dead) = alive + softplus(dead - alive)``). The ``per_x``
        terms are summed per distinct frequency, the ``log(alpha + T)`` terms per distinct T,
        and only ``softplus(d)`` is evaluated per repeat-buyer row, with the logarithms looked
        up on the few distinct times.
        """
        data = super()._prepare(x, t_x, t_end, w)
        ux, inv = data["ux"], data["inv"]
        repeat = x > 0
        grid, codes = distinct_values(np.concatenate([t_end, t_x[repeat]]))
        i_end = codes[: len(x)]
        data.update(
            grid=grid,
            w_x=np.bincount(inv, weights=w, minlength=len(ux)),
            w_grid=np.bincount(i_end, weights=w, minlength=len(grid)),
            wx_grid=np.bincount(i_end, weights=w * x, minlength=len(grid)),
            rep_w=w[repeat],
            rep_x=x[repeat],
            rep_ix=inv[repeat],
            rep_end=i_end[repeat],
            rep_tx=codes[len(x) :],
        )
        return data

    def _weighted_ll_and_gradient(
        self, params: FloatArray, data: RFMData
    ) -> tuple[float, FloatArray]:
        r, alpha, a, b = params
        ux, w_x, w_grid, wx_grid = data["ux"], data["w_x"], data["w_grid"], data["wx_grid"]
        rep_w, rep_x, rep_ix = data["rep_w"], data["rep_x"], data["rep_ix"]
        total = w_x.sum()
        log_grid = np.log(alpha + data["grid"])
        inv_grid = 1.0 / (alpha + data["grid"])
        per_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
        bx1 = np.where(ux > 0, b + ux - 1.0, 1.0)
        # repeat buyers: log-odds of "dropped out right after the last purchase"
        span = log_grid[data["rep_end"]] - log_grid[data["rep_tx"]]
        rx = r + rep_x
        d = (np.log(a) - np.log(bx1))[rep_ix] + rx * span
        # softplus(d) = log(1 + e^d) and expit(d) from one exponential, stable for any d
        small = np.exp(-np.abs(d))
        softplus = np.maximum(d, 0.0) + np.log1p(small)
        share = 1.0 / (1.0 + small)
        dropped = np.where(d >= 0.0, share, small * share)
        ll = (
            np.dot(w_x, per_x)
            + r * np.log(alpha) * total
            - np.dot(r * w_grid + wx_grid, log_grid)
            + np.dot(rep_w, softplus)
        )
        wd = rep_w * dropped  # weight x posterior probability of the dropout branch
        wd_x = np.bincount(rep_ix, weights=wd, minlength=len(ux))
        inv_span = inv_grid[data["rep_end"]] - inv_grid[data["rep_tx"]]
        d_r = (
            np.dot(w_x, digamma(r + ux) - digamma(r))
            + np.log(alpha) * total
            - np.dot(w_grid, log_grid)
            + np.dot(wd, span)
        )
        d_alpha = (
            r * total / alpha - np.dot(r * w_grid + wx_grid, inv_grid) + np.dot(wd * rx, inv_span)
        )
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux)
        d_a = np.dot(w_x, psi_ab - psi_abx) + wd.sum() / a
        d_b = np.dot(w_x, digamma(b + ux) - psi_abx - digamma(b) + psi_ab) - np.dot(wd_x, 1.0 / bx1)
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    def _starts(self, x: FloatArray, w: FloatArray) -> list[FloatArray]:
        mean_x = max(float(np.dot(w, x) / w.sum()), 1e-2)
        return [
            np.log([1.0, 1.0 / mean_x, 0.8, 2.5]),
            np.log([0.3, 0.3 / mean_x, 0.5, 5.0]),
            np.log([3.0, 3.0 / mean_x, 2.0, 1.0]),
        ]

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
            ``P(alive | x, t_x, T)`` in [0, 1]; 1 for customers without a repeat purchase.
        """
        r, alpha, a, b = self._param_array()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        repeat = x > 0
        bx1 = np.where(repeat, b + x - 1.0, 1.0)
        log_odds_dead = (
            np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + t_end) - np.log(alpha + t_x))
        )
        return np.where(repeat, expit(-log_odds_dead), 1.0)

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
            ``E[Y(t) | x, t_x, T]`` (Fader, Hardie & Lee 2005, eq. 10).
        """
        r, alpha, a, b = self._param_array()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        horizon = self._horizon(t, len(x))
        alive = self.probability_alive(x, t_x, t_end)
        (ux, ut, uh), _, inv = compress_rows(x, t_end, horizon)
        active = beta_mixed_repeat_count(r + ux, b + ux, np.full_like(ux, a), uh / (alpha + ut))
        return alive * active[inv]

    def expected_purchases_many(
        self, ts: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """:meth:`expected_purchases` for several horizons at once: (customers, horizons).

        The quadrature of each distinct (frequency, T) is shared by all horizons, so this is
        much faster than one call per horizon (used for CLV's monthly sums).
        """
        r, alpha, a, b = self._param_array()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        horizons = validate_horizon(ts).ravel()
        alive = self.probability_alive(x, t_x, t_end)
        (ux, ut), _, inv = compress_rows(x, t_end)
        u = horizons[None, :] / (alpha + ut)[:, None]
        active = beta_mixed_repeat_counts(r + ux, b + ux, np.full_like(ux, a), u)
        return alive[:, None] * active[inv]

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """Expected number of repeat purchases in ``(0, t]`` of a newly acquired customer.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the caller's time unit.

        Returns
        -------
        numpy.ndarray
            ``E[X(t)]`` (Fader, Hardie & Lee 2005, eq. 9), same shape as ``t``.
        """
        r, alpha, a, b = self._param_array()
        horizon = validate_horizon(t)
        return beta_mixed_repeat_count(r, b, a, horizon / alpha)
