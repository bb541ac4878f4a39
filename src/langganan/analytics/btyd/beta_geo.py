"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way")."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln

from ._quadrature import beta_mixed_repeat_count
from ._rfm import RFMData, RFMModel
from ._validation import FloatArray, compress_rows, validate_horizon


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

    def _row_gradient(self, params: FloatArray, data: RFMData) -> FloatArray:
        r, alpha, a, b = params
        x, t_x, t_end, ux, inv = data["x"], data["t_x"], data["T"], data["ux"], data["inv"]
        log_at = np.log(alpha + t_end)
        log_ax = np.log(alpha + t_x)
        repeat = x > 0
        bx1 = np.where(repeat, b + x - 1.0, 1.0)
        alive = -(r + x) * log_at
        dead = np.where(repeat, np.log(a) - np.log(bx1) - (r + x) * log_ax, -np.inf)
        w_dead = expit(dead - alive)  # posterior weight of "dropped out after the last purchase"
        w_alive = 1.0 - w_dead
        d_r = (digamma(r + ux) - digamma(r))[inv] + np.log(alpha)
        d_r -= w_alive * log_at + w_dead * log_ax
        d_alpha = r / alpha - (r + x) * (w_alive / (alpha + t_end) + w_dead / (alpha + t_x))
        d_a = (digamma(a + b) - digamma(a + b + ux))[inv] + w_dead / a
        d_b = (digamma(b + ux) - digamma(a + b + ux) - digamma(b) + digamma(a + b))[inv]
        d_b -= w_dead / bx1
        return np.vstack([d_r, d_alpha, d_a, d_b])

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
