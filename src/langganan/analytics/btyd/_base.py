"""Maximum-likelihood machinery shared by the BTYD models."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize

from ._validation import (
    ERR_BAD_SETTING,
    ERR_NOT_FITTED,
    FitWarning,
    FloatArray,
    NotFittedError,
    single_threaded_blas,
)

Objective = Callable[[FloatArray], float]
Gradient = Callable[[FloatArray], FloatArray]
#: log-parameters -> (mean negative log-likelihood, its gradient), computed together
ValueAndGradient = Callable[[FloatArray], tuple[float, FloatArray]]

#: Log-parameters are kept in [-LOG_BOUND, LOG_BOUND] (after the data are rescaled to a unit
#: time and money scale), i.e. every parameter in [3e-7, 3.3e6].
LOG_BOUND = 15.0
_FLAT_TOL = 1e-8  # mean log-likelihood change below which a parameter is "not identified"
_HESS_STEP = 1e-4
#: Standard error of a log-parameter below which it is clearly identified (within a factor e).
_CLEARLY_IDENTIFIED = 1.0
_BIG = 1e100

MSG_BOUNDARY = (
    "{name}: the maximum-likelihood estimate lies on the edge of the parameter space for {params} "
    "(the data do not identify them, e.g. nobody seems to drop out); they were fixed at the edge, "
    "their standard errors are NaN and predictions use the limiting model"
)
MSG_NOT_CONVERGED = (
    "{name}: the optimiser did not converge ({message}); estimates may be inaccurate"
)


@dataclass(frozen=True)
class Optimum:
    """Result of a maximum-likelihood search in log-parameter space."""

    log_params: FloatArray
    objective: float
    converged: bool
    message: str
    at_boundary: tuple[int, ...]
    standard_errors_log: FloatArray
    #: covariance of the free log-parameters (NaN rows and columns for the others)
    covariance_log: FloatArray | None = None


def _safe(objective: Objective) -> Objective:
    def wrapped(theta: FloatArray) -> float:
        with np.errstate(all="ignore"):
            value = float(objective(theta))
        return value if np.isfinite(value) else _BIG

    return wrapped


def _gradient(f: Objective, theta: FloatArray, free: FloatArray, step: float = 1e-6) -> FloatArray:
    grad = np.zeros_like(theta)
    for i in np.flatnonzero(free):
        e = np.zeros_like(theta)
        e[i] = step
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * step)
    return grad


class _Joint:
    """Objective and gradient from one evaluation of a value-and-gradient function.

    scipy asks for the value and the gradient at the same point one after the other; the
    shared work (the per-row terms) is done once per point.
    """

    def __init__(self, value_and_gradient: ValueAndGradient, free: FloatArray) -> None:
        self._vg = value_and_gradient
        self._free = free
        self._theta: FloatArray | None = None
        self._value = _BIG
        self._grad: FloatArray = np.zeros(len(free))

    def _at(self, theta: FloatArray) -> None:
        if self._theta is not None and np.array_equal(theta, self._theta):
            return
        with np.errstate(all="ignore"):
            value, grad = self._vg(theta)
        value = float(value)
        grad = np.asarray(grad, dtype=np.float64)
        self._theta = np.array(theta, dtype=np.float64)
        self._value = value if np.isfinite(value) else _BIG
        self._grad = np.where(np.isfinite(grad), grad, 0.0) * self._free

    def value(self, theta: FloatArray) -> float:
        self._at(theta)
        return self._value

    def both(self, theta: FloatArray) -> tuple[float, FloatArray]:
        self._at(theta)
        return self._value, self._grad

    def gradient(self, theta: FloatArray) -> FloatArray:
        self._at(theta)
        return self._grad


def _run(
    f: Objective,
    start: FloatArray,
    free: FloatArray,
    max_iter: int,
    value_and_gradient: ValueAndGradient | None,
) -> tuple[FloatArray, float, bool, str]:
    bounds = [(-LOG_BOUND, LOG_BOUND) if fr else (v, v) for v, fr in zip(start, free, strict=True)]
    options = {"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9}
    x0 = np.clip(start, -LOG_BOUND, LOG_BOUND)
    if value_and_gradient is None:

        def jac(th: FloatArray) -> FloatArray:
            return _gradient(f, th, free)

        res = minimize(f, x0, jac=jac, method="L-BFGS-B", bounds=bounds, options=options)
    else:
        joint = _Joint(value_and_gradient, free.astype(np.float64))
        jac = joint.gradient
        res = minimize(joint.both, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    theta = np.asarray(res.x, dtype=np.float64)
    fun = float(res.fun)
    # L-BFGS-B often stops with an "abnormal line search" message at the optimum when the
    # gradient is numeric; accept the point when the projected gradient is small.
    grad = jac(theta)
    interior = free & (np.abs(theta) < LOG_BOUND - 1e-9)
    small_grad = bool(np.all(np.abs(grad[interior]) < 1e-4))
    converged = fun < _BIG and (bool(res.success) or small_grad)
    return theta, fun, converged, str(res.message)


def _hessian_from_gradient(g: Gradient, theta: FloatArray, idx: Sequence[int]) -> FloatArray:
    h = _HESS_STEP
    cols = []
    for i in idx:
        e = np.zeros_like(theta)
        e[i] = h
        cols.append((g(theta + e) - g(theta - e))[list(idx)] / (2 * h))
    hess = np.array(cols)
    return (hess + hess.T) / 2


def _hessian(f: Objective, theta: FloatArray, idx: Sequence[int]) -> FloatArray:
    h = _HESS_STEP
    m = len(idx)
    hess = np.zeros((m, m))
    f0 = f(theta)
    for a, i in enumerate(idx):
        for b in range(a, m):
            j = idx[b]
            if i == j:
                e = np.zeros_like(theta)
                e[i] = 2 * h
                hess[a, a] = (f(theta + e) - 2 * f0 + f(theta - e)) / (4 * h * h)
            else:
                ei = np.zeros_like(theta)
                ej = np.zeros_like(theta)
                ei[i] = h
                ej[j] = h
                val = (
                    f(theta + ei + ej)
                    - f(theta + ei - ej)
                    - f(theta - ei + ej)
                    + f(theta - ei - ej)
                ) / (4 * h * h)
                hess[a, b] = hess[b, a] = val
    return hess


def _flat_directions(f: Objective, theta: FloatArray, f0: float) -> list[int]:
    """Parameters whose move to either bound does not make the fit worse (not identified)."""
    flat = []
    for i in range(len(theta)):
        if abs(theta[i]) >= LOG_BOUND - 0.5:
            flat.append(i)
            continue
        for edge in (-LOG_BOUND, LOG_BOUND):
            moved = theta.copy()
            moved[i] = edge
            if f(moved) <= f0 + _FLAT_TOL:
                flat.append(i)
                break
    return flat


def maximise_likelihood(
    mean_neg_ll: Objective,
    total_weight: float,
    starts: Sequence[FloatArray],
    *,
    max_iter: int,
    value_and_gradient: ValueAndGradient | None = None,
) -> Optimum:
    """Minimise a mean negative log-likelihood over log-parameters, with boundary handling.

    Parameters
    ----------
    mean_neg_ll : callable
        Maps log-parameters to the (penalised) negative log-likelihood per unit weight.
    total_weight : float
        Number of customers, to turn the mean into a total for the observed information.
    starts : sequence of numpy.ndarray
        Starting points; the next is tried when a run fails, the best finite run is kept.
    max_iter : int
        Iteration limit of each L-BFGS-B run.
    value_and_gradient : callable, optional
        Returns ``mean_neg_ll`` and its analytic gradient together; central differences of
        ``mean_neg_ll`` are used without it.

    Returns
    -------
    Optimum
        Estimates, convergence flag, parameters found on the boundary and standard errors of
        the log-parameters (NaN for boundary parameters or a singular information matrix).
    """
    with single_threaded_blas():
        return _maximise(mean_neg_ll, total_weight, starts, max_iter, value_and_gradient)


def _maximise(
    mean_neg_ll: Objective,
    total_weight: float,
    starts: Sequence[FloatArray],
    max_iter: int,
    value_and_gradient: ValueAndGradient | None,
) -> Optimum:
    f = _safe(mean_neg_ll)
    k = len(starts[0])
    all_free = np.ones(k, dtype=bool)
    best: tuple[FloatArray, float, bool, str] | None = None
    for start in starts:
        run = _run(f, np.asarray(start, dtype=np.float64), all_free, max_iter, value_and_gradient)
        if best is None or run[1] < best[1]:
            best = run
        if run[2]:
            break
    assert best is not None
    theta, fun, converged, message = best

    # A converged interior optimum whose log-parameters all have small standard errors is
    # identified: the (costly) search for flat directions towards the bounds can be skipped.
    se, cov = _standard_errors(f, value_and_gradient, theta, list(range(k)), total_weight)
    interior = bool(np.all(np.abs(theta) < LOG_BOUND - 0.5))
    if converged and interior and np.all(se < _CLEARLY_IDENTIFIED):
        return Optimum(theta, fun, converged, message, (), se, cov)

    flat = _flat_directions(f, theta, fun)
    if flat:
        # Send the unidentified parameters to the edge they run to and refit the others.
        for i in flat:
            candidates = [-LOG_BOUND, LOG_BOUND]
            values = []
            for edge in candidates:
                moved = theta.copy()
                moved[i] = edge
                values.append(f(moved))
            theta[i] = candidates[int(np.argmin(values))]
        free = np.ones(k, dtype=bool)
        free[flat] = False
        if free.any():
            theta, fun, converged, message = _run(f, theta, free, max_iter, value_and_gradient)
        else:
            fun = f(theta)
        free_idx = [i for i in range(k) if i not in flat]
        se, cov = _standard_errors(f, value_and_gradient, theta, free_idx, total_weight)
    return Optimum(theta, fun, converged, message, tuple(flat), se, cov)


def _standard_errors(
    f: Objective,
    value_and_gradient: ValueAndGradient | None,
    theta: FloatArray,
    free_idx: list[int],
    total_weight: float,
) -> tuple[FloatArray, FloatArray]:
    """Standard errors and covariance of the free log-parameters from the observed information
    (NaN for the others, or all NaN when the information matrix is not positive definite)."""
    se = np.full(len(theta), np.nan)
    cov = np.full((len(theta), len(theta)), np.nan)
    if not free_idx:
        return se, cov
    if value_and_gradient is None:
        hess = _hessian(lambda th: f(th) * total_weight, theta, free_idx)
    else:
        vg = value_and_gradient
        hess = _hessian_from_gradient(
            lambda th: np.asarray(vg(th)[1]) * total_weight, theta, free_idx
        )
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return se, cov
    inv = np.linalg.inv(chol)
    free_cov = inv.T @ inv
    se[free_idx] = np.sqrt(np.diag(free_cov))
    cov[np.ix_(free_idx, free_idx)] = free_cov
    return se, cov


class BaseFitter:
    """Shared settings, fitted-state checks and reporting of the BTYD fitters."""

    _param_names: tuple[str, ...] = ()
    _shape_params: tuple[str, ...] = ()

    params_: dict[str, float]

    def __init__(
        self,
        penalizer: float = 0.0,
        *,
        prior: Mapping[str, tuple[float, float]] | None = None,
        max_iter: int = 1000,
    ) -> None:
        self.penalizer = penalizer
        self.prior = prior
        self.max_iter = max_iter

    @classmethod
    def from_params(cls, params: Mapping[str, float], **settings: Any) -> Self:
        """A fitted model from stored parameters, without fitting (no data needed).

        For predicting with the parameters of an earlier fit (e.g. ``report(model)["params"]``
        as an insight run keeps them): only ``params_`` is set, so predictions work, while
        what comes from the fit itself (standard errors, covariance, log-likelihood) is absent.

        Parameters
        ----------
        params : mapping
            A value for every parameter of the model (extra keys, e.g. a fixed setting such
            as MBG/CNBD-k's ``k``, are kept as given).
        **settings
            Passed to the constructor.

        Raises
        ------
        ValueError
            When a parameter is missing, not finite or not positive.
        """
        values = {name: float(v) for name, v in params.items() if v is not None}
        bad = [
            p
            for p in cls._param_names
            if not (np.isfinite(values.get(p, np.nan)) and values[p] > 0)
        ]
        if bad:
            raise ValueError(
                ERR_BAD_SETTING.format(
                    name="params", what=f"positive values for {cls._param_names}", value=params
                )
            )
        model = cls(**settings)
        model.params_ = values
        return model

    def _check_settings(self) -> None:
        pen = self.penalizer
        if not isinstance(pen, int | float) or not np.isfinite(pen) or pen < 0:
            raise ValueError(
                ERR_BAD_SETTING.format(name="penalizer", what="a non-negative number", value=pen)
            )
        for name, spec in (self.prior or {}).items():
            ok = (
                name in self._param_names
                and isinstance(spec, tuple | list)
                and len(spec) == 2
                and all(isinstance(v, int | float) and np.isfinite(v) and v > 0 for v in spec)
            )
            if not ok:
                raise ValueError(
                    ERR_BAD_SETTING.format(
                        name=f"prior[{name!r}]",
                        what=f"(median > 0, sd of the log > 0) for one of {self._param_names}",
                        value=spec,
                    )
                )
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ValueError(
                ERR_BAD_SETTING.format(
                    name="max_iter", what="a positive integer", value=self.max_iter
                )
            )

    def _penalty(self, theta: FloatArray) -> float:
        idx = [self._param_names.index(p) for p in self._shape_params]
        return float(self.penalizer * np.sum(theta[idx] ** 2))

    #: parameters measured in 1/time (their log shifts when the time unit is rescaled)
    _time_params: tuple[str, ...] = ()

    def _prior_arrays(self, scale: float = 1.0) -> tuple[FloatArray, FloatArray]:
        """The prior as (means, precisions) of the log-parameters on a time scale ``scale``
        times the caller's; precision 0 for a parameter without a prior.

        A rate parameter ``alpha`` (in the caller's time unit) is ``alpha / scale`` on the
        rescaled time axis the fit uses, so its log-mean shifts by ``-log(scale)``.
        """
        k = len(self._param_names)
        mean = np.zeros(k)
        precision = np.zeros(k)
        for name, (median, sd_log) in (self.prior or {}).items():
            i = self._param_names.index(name)
            shift = np.log(scale) if name in self._time_params else 0.0
            mean[i] = np.log(median) - shift
            precision[i] = 1.0 / sd_log**2
        return mean, precision

    def _prior_terms(
        self, theta: FloatArray, mean: FloatArray, precision: FloatArray, total: float
    ) -> tuple[float, FloatArray]:
        """Negative log prior density per customer (constants dropped) and its gradient."""
        diff = theta - mean
        return (
            float(0.5 * np.dot(precision, diff**2) / total),
            precision * diff / total,
        )

    def sample_params(self, n: int, seed: int | np.random.Generator | None = 0) -> FloatArray:
        """Draws of the parameters from the normal approximation of their posterior.

        The log-parameters are drawn from a normal distribution centred on the estimate with the
        inverse observed information (the prior's included) as covariance: Laplace's
        approximation of the posterior. Parameters without a finite variance (on the boundary)
        stay at their estimate.

        Parameters
        ----------
        n : int
            Number of draws.
        seed : int, numpy.random.Generator or None, default 0

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(params_))``, columns in the order of ``params_``, caller's units.
        """
        self._check_fitted()
        rng = np.random.default_rng(seed)
        centre = np.log([self.params_[p] for p in self._param_names])
        cov = getattr(self, "covariance_log_", None)
        draws = np.tile(centre, (n, 1))
        if cov is None:
            return np.exp(draws)
        free = np.flatnonzero(np.isfinite(np.diag(cov)))
        if len(free):
            sub = cov[np.ix_(free, free)]
            draws[:, free] = rng.multivariate_normal(centre[free], sub, size=n, method="cholesky")
        return np.exp(draws)

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(ERR_NOT_FITTED.format(name=type(self).__name__))

    def _record(self, opt: Optimum, natural: dict[str, float]) -> None:
        """Store the fitted attributes and warn about boundary or convergence problems."""
        name = type(self).__name__
        self.params_ = natural
        self.converged_ = opt.converged
        self.at_boundary_ = [self._param_names[i] for i in opt.at_boundary]
        self.standard_errors_ = {
            p: float(natural[p] * opt.standard_errors_log[i])
            for i, p in enumerate(self._param_names)
        }
        # 95 % intervals (credible intervals when a prior is set) on the log scale
        self.intervals_ = {
            p: (
                float(natural[p] * np.exp(-1.96 * opt.standard_errors_log[i])),
                float(natural[p] * np.exp(1.96 * opt.standard_errors_log[i])),
            )
            for i, p in enumerate(self._param_names)
        }
        self.covariance_log_ = opt.covariance_log
        if self.at_boundary_:
            warnings.warn(
                MSG_BOUNDARY.format(name=name, params=", ".join(self.at_boundary_)),
                FitWarning,
                stacklevel=3,
            )
        if not opt.converged:
            warnings.warn(
                MSG_NOT_CONVERGED.format(name=name, message=opt.message), FitWarning, stacklevel=3
            )

    def __repr__(self) -> str:
        prior = f", prior={self.prior!r}" if self.prior else ""
        return (
            f"{type(self).__name__}(penalizer={self.penalizer!r}{prior}, "
            f"max_iter={self.max_iter!r})"
        )


__all__ = ["BaseFitter", "FitWarning", "LOG_BOUND", "Optimum", "maximise_likelihood"]
