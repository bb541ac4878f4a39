"""The Gamma-Gamma model of average spend (Fader, Hardie & Lee 2005, "RFM and CLV")."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from ._base import BaseFitter, maximise_likelihood
from ._validation import (
    ERR_GG_SPEND_CONSTANT,
    ERR_LENGTH_MISMATCH,
    ERR_MONETARY_NOT_POSITIVE,
    ERR_TOO_FEW_REPEAT_BUYERS,
    ERR_WEIGHTS_NOT_POSITIVE,
    FloatArray,
    as_1d_float,
    check_frequency,
    compress_rows,
)


def _row_log_likelihood(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of the average spend ``m`` over ``x`` transactions (constants included)."""
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def _row_gradient(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Derivatives of the row log-likelihoods w.r.t. ``p, q, gamma`` (3 x rows)."""
    p, q, gamma = params
    px = p * x
    log_gm = np.log(gamma + m * x)
    common = digamma(px + q)
    d_p = x * (common - digamma(px) + np.log(m) + np.log(x) - log_gm)
    d_q = common - digamma(q) + np.log(gamma) - log_gm
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    return np.vstack([d_p, d_q, d_gamma])


class GammaGamma(BaseFitter):
    """Gamma-Gamma model of the average transaction value of repeat customers.

    Each transaction value is ``Gamma(p, nu)``; ``nu ~ Gamma(q, gamma)`` across customers;
    spend is assumed independent of the purchase process.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on ``log p`` and ``log q`` (added to the mean negative log-likelihood per
        customer). The money scale ``gamma`` is not penalised.
    max_iter : int, default 1000
        Iteration limit of each optimiser run.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "gamma"}``; ``gamma`` is in the caller's money unit.
    log_likelihood_ : float
        Total (weighted) log-likelihood of the average spends of the repeat customers,
        constants included (a log density in the caller's money unit).
    standard_errors_, converged_, at_boundary_
        As for :class:`BetaGeo`.
    n_customers_ : float
        Number (total weight) of repeat customers fitted.
    """

    _param_names = ("p", "q", "gamma")
    _shape_params = ("p", "q")

    @staticmethod
    def _inputs(
        frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        x = as_1d_float(frequency, "frequency")
        m = as_1d_float(monetary_value, "monetary_value")
        w = np.ones_like(x) if weights is None else as_1d_float(weights, "weights")
        if not len(x) == len(m) == len(w):
            raise ValueError(ERR_LENGTH_MISMATCH.format(lengths=[len(x), len(m), len(w)]))
        check_frequency(x)
        return x, m, w

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> GammaGamma:
        """Fit the model by maximum likelihood on the customers with ``frequency > 0``.

        Parameters
        ----------
        frequency : array-like
            Number of repeat purchase periods (whole numbers); rows with 0 are ignored.
        monetary_value : array-like
            Average value of the repeat purchases (positive where frequency > 0).
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For invalid input, fewer than 2 repeat customers, or identical spend for all.
        """
        self._check_settings()
        x, m, w = self._inputs(frequency, monetary_value, weights)
        repeat = x > 0
        x, m, w = x[repeat], m[repeat], w[repeat]
        if np.any(w <= 0):
            raise ValueError(ERR_WEIGHTS_NOT_POSITIVE)
        if w.sum() < 2:
            raise ValueError(ERR_TOO_FEW_REPEAT_BUYERS.format(n=int(repeat.sum())))
        if np.any(m <= 0):
            raise ValueError(ERR_MONETARY_NOT_POSITIVE)
        (x, m), w, _ = compress_rows(x, m, weights=w)
        if len(x) < 2:
            raise ValueError(ERR_GG_SPEND_CONSTANT)
        total = float(w.sum())
        scale = float(np.dot(w, m) / total)  # fit in units of the average spend
        m_scaled = m / scale

        def objective(theta: FloatArray) -> float:
            ll = _row_log_likelihood(np.exp(theta), x, m_scaled)
            return -float(np.dot(w, ll)) / total + self._penalty(theta)

        def gradient(theta: FloatArray) -> FloatArray:
            params = np.exp(theta)
            grad = -(_row_gradient(params, x, m_scaled) @ w) * params / total
            grad[:2] += 2.0 * self.penalizer * theta[:2]
            return grad

        starts = [np.log([2.0, 3.0, 1.0]), np.log([1.0, 2.0, 1.0]), np.log([5.0, 5.0, 3.0])]
        opt = maximise_likelihood(
            objective, total, starts, max_iter=self.max_iter, gradient=gradient
        )
        p, q, gamma = np.exp(opt.log_params)
        natural = {"p": float(p), "q": float(q), "gamma": float(gamma * scale)}
        self._record(opt, natural)
        caller = np.array([natural["p"], natural["q"], natural["gamma"]])
        self.log_likelihood_ = float(np.dot(w, _row_log_likelihood(caller, x, m)))
        self.n_customers_ = total
        return self

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Conditional expected average transaction value of each customer.

        ``E[Z | x, m] = p * (gamma + x * m) / (p * x + q - 1)``: a weighted average of the
        population mean ``p * gamma / (q - 1)`` and the customer's own average ``m``. For
        customers with ``frequency == 0`` it is the population mean. NaN where the mean does
        not exist (``p * x + q <= 1``).

        Parameters
        ----------
        frequency, monetary_value : array-like
            The customers' repeat frequency and average repeat spend (0 when frequency is 0).

        Returns
        -------
        numpy.ndarray
            Expected spend per transaction, in the caller's money unit.
        """
        self._check_fitted()
        x, m, _ = self._inputs(frequency, monetary_value)
        p, q, gamma = self.params_["p"], self.params_["q"], self.params_["gamma"]
        denom = p * x + q - 1.0
        ok = denom > 0
        return np.where(ok, p * (gamma + x * m) / np.where(ok, denom, 1.0), np.nan)
