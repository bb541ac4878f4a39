"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, gammaln

from ._quadrature import log_power_product_integral
from ._rfm import RFMData, RFMModel
from ._validation import FloatArray, validate_horizon


def _log_a0_term(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, t_end: FloatArray
) -> FloatArray:
    """``log[s / (r + s + x) * A0]`` of Fader & Hardie's note, in log space.

    The note writes ``A0`` as a difference of two Gauss hypergeometric functions (cases
    ``alpha >= beta`` and ``alpha < beta``); both cases equal
    ``(r + s + x) * integral_{t_x}^{T} (alpha + u)**-(r+x) * (beta + u)**-(s+1) du``, which is
    evaluated here directly (no cancellation when ``t_x`` is close to ``T``, no overflow for
    heavy buyers). ``-inf`` when ``t_x == T``.
    """
    p = r + x
    q = s + 1.0
    start_a = alpha + t_x
    start_b = beta + t_x
    log_scale = -p * np.log(start_a) - q * np.log(start_b)
    log_int = log_power_product_integral(p, q, start_a, start_b, t_end - t_x)
    return np.log(s) + log_scale + log_int


class ParetoNBD(RFMModel):
    """Pareto/NBD purchase model.

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    the lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the logarithms of the shape parameters ``r, s`` (added to the mean
        negative log-likelihood per customer). The scales ``alpha, beta`` are not penalised.
    max_iter : int, default 1000
        Iteration limit of each optimiser run.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "s", "beta"}``; ``alpha`` and ``beta`` are in the caller's time unit.
    log_likelihood_ : float
        Total (weighted) log-likelihood in the caller's time unit, constants included (see
        :class:`BetaGeo`).
    standard_errors_, converged_, at_boundary_, n_customers_
        As for :class:`BetaGeo`.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _shape_params = ("r", "s")
    _time_params = ("alpha", "beta")

    def _row_log_likelihood(self, params: FloatArray, data: RFMData) -> FloatArray:
        r, alpha, s, beta = params
        x, t_x, t_end, ux, inv = data["x"], data["t_x"], data["T"], data["ux"], data["inv"]
        head = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + t_end) - s * np.log(beta + t_end)
        gone = _log_a0_term(r, alpha, s, beta, x, t_x, t_end)
        return head + np.logaddexp(alive, gone)

    def _starts(self, x: FloatArray, w: FloatArray) -> list[FloatArray]:
        mean_x = max(float(np.dot(w, x) / w.sum()), 1e-2)
        return [
            np.log([1.0, 1.0 / mean_x, 1.0, 1.0]),
            np.log([0.5, 0.5 / mean_x, 0.5, 2.0]),
            np.log([3.0, 3.0 / mean_x, 2.0, 0.5]),
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
            ``P(alive | x, t_x, T)`` in [0, 1] (Fader & Hardie 2005 note, eq. 18).
        """
        r, alpha, s, beta = self._param_array()
        x, t_x, t_end = self._inputs(frequency, recency, T)
        alive = -(r + x) * np.log(alpha + t_end) - s * np.log(beta + t_end)
        gone = _log_a0_term(r, alpha, s, beta, x, t_x, t_end)
        return expit(alive - gone)

    def _active_purchases(
        self, horizon: FloatArray, x: FloatArray, t_end: FloatArray
    ) -> FloatArray:
        """Expected purchases in ``(T, T + t]`` of a customer known to be active at ``T``."""
        r, alpha, s, beta = self._param_array()
        scale_b = beta + t_end
        log_growth = np.log1p(horizon / scale_b)
        c = s - 1.0
        # (beta+T)/(s-1) * [1 - ((beta+T)/(beta+T+t))**(s-1)], continuous at s = 1.
        if abs(c) < 1e-10:
            lifetime = scale_b * log_growth
        else:
            lifetime = scale_b * (-np.expm1(-c * log_growth)) / c
        return (r + x) / (alpha + t_end) * lifetime

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
            ``E[Y(t) | x, t_x, T]`` (Fader & Hardie 2005 note, eq. 22).
        """
        x, t_x, t_end = self._inputs(frequency, recency, T)
        horizon = self._horizon(t, len(x))
        return self.probability_alive(x, t_x, t_end) * self._active_purchases(horizon, x, t_end)

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """Expected number of repeat purchases in ``(0, t]`` of a newly acquired customer.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the caller's time unit.

        Returns
        -------
        numpy.ndarray
            ``E[X(t)] = r*beta / (alpha*(s-1)) * [1 - (beta/(beta+t))**(s-1)]``.
        """
        horizon = validate_horizon(t)
        return self._active_purchases(horizon, np.zeros_like(horizon), np.zeros_like(horizon))
