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
    distinct_values,
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


def _grouped_ll_and_gradient(
    params: FloatArray, ux: FloatArray, stats: dict[str, FloatArray]
) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood of the rows and its derivatives w.r.t. ``p, q, gamma``.

    Only ``log(gamma + m x)`` depends on each row's spend; every other term is a sum per
    distinct frequency (``w_x``: weights, ``wlogm_x``: weighted ``log m``) precomputed once.
    """
    p, q, gamma = params
    w_x, wlogm_x, w, spend, x = (
        stats["w_x"],
        stats["wlogm_x"],
        stats["w"],
        stats["spend"],
        stats["x"],
    )
    total = w_x.sum()
    pu = p * ux
    log_ux = np.log(ux)
    log_gs = np.log(gamma + spend)
    wx = w * x
    w_log_gs = np.dot(w, log_gs)
    wx_log_gs = np.dot(wx, log_gs)
    ll = (
        np.dot(w_x, gammaln(pu + q) - gammaln(pu) - gammaln(q) + pu * log_ux)
        + q * np.log(gamma) * total
        + np.dot(pu - 1.0, wlogm_x)
        - p * wx_log_gs
        - q * w_log_gs
    )
    common = digamma(pu + q)
    d_p = np.dot(w_x * ux, common - digamma(pu) + log_ux) + np.dot(ux, wlogm_x) - wx_log_gs
    d_q = np.dot(w_x, common - digamma(q)) + np.log(gamma) * total - w_log_gs
    d_gamma = q * total / gamma - np.dot(w, (p * x + q) / (gamma + spend))
    return float(ll), np.array([d_p, d_q, d_gamma])


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
        ux, inv = distinct_values(x)
        stats = {
            "w": w,
            "x": x,
            "spend": m_scaled * x,
            "w_x": np.bincount(inv, weights=w, minlength=len(ux)),
            "wlogm_x": np.bincount(inv, weights=w * np.log(m_scaled), minlength=len(ux)),
        }

        def value_and_gradient(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = _grouped_ll_and_gradient(params, ux, stats)
            grad = -grad * params / total
            grad[:2] += 2.0 * self.penalizer * theta[:2]
            return -ll / total + self._penalty(theta), grad

        def objective(theta: FloatArray) -> float:
            return value_and_gradient(theta)[0]

        starts = [np.log([2.0, 3.0, 1.0]), np.log([1.0, 2.0, 1.0]), np.log([5.0, 5.0, 3.0])]
        opt = maximise_likelihood(
            objective, total, starts, max_iter=self.max_iter, value_and_gradient=value_and_gradient
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
