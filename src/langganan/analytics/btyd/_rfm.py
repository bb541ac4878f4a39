"""Common fitting and prediction plumbing of the purchase-count models (BG/NBD, Pareto/NBD)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._base import BaseFitter, maximise_likelihood
from ._validation import (
    ERR_NO_REPEAT_BUYERS,
    FitWarning,
    FloatArray,
    compress_rows,
    distinct_values,
    validate_horizon,
    validate_rfm,
)

RFMData = dict[str, Any]

MSG_TOO_FEW_ROWS = (
    "{name}: only {n} distinct customer histories for {k} parameters; the parameters are not "
    "identified and the estimates are arbitrary (predictions stay finite)"
)


def prepare_rfm(x: FloatArray, t_x: FloatArray, t_end: FloatArray) -> RFMData:
    """Bundle the summary columns with the distinct frequencies (for per-frequency terms)."""
    ux, inv = distinct_values(x)
    return {"x": x, "t_x": t_x, "T": t_end, "ux": ux, "inv": inv}


class RFMModel(BaseFitter):
    """Base class of models fitted to (frequency, recency, T).

    Subclasses define ``_param_names``, ``_time_params`` (rates in 1/time, which scale with the
    time unit), ``_row_log_likelihood`` and ``_starts``.
    """

    # -- to be provided by subclasses -------------------------------------------------------
    def _row_log_likelihood(self, params: FloatArray, data: RFMData) -> FloatArray:
        raise NotImplementedError

    def _starts(self, x: FloatArray, w: FloatArray) -> list[FloatArray]:
        raise NotImplementedError

    def _prepare(self, x: FloatArray, t_x: FloatArray, t_end: FloatArray, w: FloatArray) -> RFMData:
        """Data for the fit; subclasses with an analytic gradient add their precomputations."""
        data = prepare_rfm(x, t_x, t_end)
        data["w"] = w
        return data

    def _weighted_ll_and_gradient(
        self, params: FloatArray, data: RFMData
    ) -> tuple[float, FloatArray]:
        """Total weighted log-likelihood and its derivatives w.r.t. the parameters."""
        raise NotImplementedError

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> RFMModel:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        frequency : array-like
            Number of repeat purchase periods of each customer (whole numbers).
        recency : array-like
            Time from the first to the last purchase (0 when frequency is 0).
        T : array-like
            Time from the first purchase to the end of observation (positive, >= recency).
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        self
            The fitted model, with ``params_``, ``log_likelihood_``, ``standard_errors_``,
            ``converged_`` and ``at_boundary_`` set.

        Raises
        ------
        ValueError
            For invalid input, or when no customer made a repeat purchase.

        Warns
        -----
        FitWarning
            When the optimiser did not converge or parameters ran to the boundary.
        """
        self._check_settings()
        x, t_x, t_end, w = validate_rfm(frequency, recency, T, weights)
        (x, t_x, t_end), w, _ = compress_rows(x, t_x, t_end, weights=w)
        if not np.any(x > 0):
            raise ValueError(ERR_NO_REPEAT_BUYERS.format(name=type(self).__name__))
        if len(x) < len(self._param_names):
            warnings.warn(
                MSG_TOO_FEW_ROWS.format(
                    name=type(self).__name__, n=len(x), k=len(self._param_names)
                ),
                FitWarning,
                stacklevel=2,
            )
        total = float(w.sum())
        # Fit on a time scale where the average T is 1: the optimum is equivariant in the time
        # unit, and this keeps the log-parameter bounds meaningful for days, weeks or years.
        scale = float(np.dot(w, t_end) / total)
        data = self._prepare(x, t_x / scale, t_end / scale, w)
        shape_idx = [self._param_names.index(p) for p in self._shape_params]
        has_gradient = (
            type(self)._weighted_ll_and_gradient is not RFMModel._weighted_ll_and_gradient
        )
        prior_mean, prior_precision = self._prior_arrays(scale)

        def objective(theta: FloatArray) -> float:
            if has_gradient:
                return value_and_gradient(theta)[0]
            ll = self._row_log_likelihood(np.exp(theta), data)
            prior, _ = self._prior_terms(theta, prior_mean, prior_precision, total)
            return -float(np.dot(w, ll)) / total + self._penalty(theta) + prior

        def value_and_gradient(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = self._weighted_ll_and_gradient(params, data)
            grad = -grad * params / total  # chain rule to log-parameters
            grad[shape_idx] += 2.0 * self.penalizer * theta[shape_idx]
            prior, prior_grad = self._prior_terms(theta, prior_mean, prior_precision, total)
            return -ll / total + self._penalty(theta) + prior, grad + prior_grad

        opt = maximise_likelihood(
            objective,
            total,
            self._starts(x, w),
            max_iter=self.max_iter,
            value_and_gradient=value_and_gradient if has_gradient else None,
        )
        values = np.exp(opt.log_params)
        natural = {}
        for name, value in zip(self._param_names, values, strict=True):
            natural[name] = float(value * scale) if name in self._time_params else float(value)
        self._record(opt, natural)
        caller = np.array([natural[p] for p in self._param_names])
        with np.errstate(all="ignore"):
            row_ll = self._row_log_likelihood(caller, prepare_rfm(x, t_x, t_end))
        self.log_likelihood_ = float(np.dot(w, row_ll))
        self.n_customers_ = total
        return self

    # -- helpers for predictions ------------------------------------------------------------
    def _param_array(self) -> FloatArray:
        self._check_fitted()
        return np.array([self.params_[p] for p in self._param_names])

    @staticmethod
    def _inputs(
        frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        x, t_x, t_end, _ = validate_rfm(frequency, recency, T)
        return x, t_x, t_end

    @staticmethod
    def _horizon(t: ArrayLike, n: int) -> FloatArray:
        horizon = validate_horizon(t)
        return np.broadcast_to(horizon, (n,)).astype(np.float64)
