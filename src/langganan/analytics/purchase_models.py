"""The pipeline's model step: fit the purchase models with priors, test them on the merchant's own
holdout, choose one, and predict with intervals.

Candidates
----------
* ``mbg_cnbd`` — MBG/CNBD-k (Platzer & Reutterer 2016): regular buyers (Erlang-k gaps, ``k``
  chosen by likelihood; ``k = 1`` is MBG/NBD), dropout possible after every purchase including
  the first.
* ``pareto_nbd`` — Pareto/NBD (when ``fit_pareto``): dropout at any time.
* ``bg_nbd`` — BG/NBD: always fitted and tested, as the baseline, but never chosen to speak to
  the merchant: it cannot let a customer leave before their second purchase, so every one-time
  buyer gets a probability of being active of 100 % however long ago they came.

Each is fitted by penalised likelihood with a prior (:mod:`.btyd.priors`), on the calibration
part first; the candidate with the smallest mean absolute error on the holdout
(:mod:`.accuracy`) is chosen and refitted on the whole history. Without a holdout (a short
history) MBG/CNBD-k is used. For a merchant with more than ``fit_sample`` customers the models
are fitted, and the holdout test scored, on a random sample of that many (fixed seed): the
estimates' standard errors are then those of the sample, and still small.

Intervals
---------
The probability of being active and the 12-month CLV get an 80 % interval from
``interval_draws`` draws of the parameters from their posterior (Laplace's approximation,
:meth:`~.btyd._base.BaseFitter.sample_params`; the spend model's likewise): the 10th and 90th
percentiles over the draws. It covers the uncertainty of the model's parameters (large for a
small shop, small for a large one), not the chance in one customer's behaviour. Above
``interval_max_customers`` (20,000) customers the intervals are not computed (the run's report
says ``"too_many"``): each draw costs a full prediction, and with that many customers the
parameters are estimated so closely that the interval would hug the estimate.

CLV
---
Expected discounted purchases over the horizon times the expected spend per visit: the
Gamma-Gamma estimate where it can be fitted on the repeat buyers with a positive average repeat
spend (a repeat buyer whose repeat visits were all paid in full with points, or refunded, gets
the population mean), else the mean spend per visit of all customers. CLV is blank only when no
purchase model can be fitted (nobody has come back yet: reason ``"no_repeat_buyers"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .accuracy import HoldoutData, holdout_report
from .btyd import BetaGeo, GammaGamma, ParetoNBD
from .btyd.clv import DAYS_PER_MONTH, discounted_purchases
from .btyd.mbg_cnbd import MBGCNBD
from .btyd.priors import Prior, default_prior

__all__ = ["CANDIDATES", "ModelOutcome", "fit_and_predict"]

CANDIDATES = ("mbg_cnbd", "pareto_nbd")
BASELINE = "bg_nbd"
_INTERVAL = (10.0, 90.0)


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _make(name: str, prior: Prior | None, k: int | None = None):
    if name == "bg_nbd":
        return BetaGeo(prior=prior)
    if name == "pareto_nbd":
        return ParetoNBD(prior=prior)
    return MBGCNBD(k=k, prior=prior)


def _fit(
    name: str, prior: Prior | None, f, r, T, litt, k: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """Fit one model; a failure is reported, not raised; warnings are kept in the report.
    ``k`` fixes MBG/CNBD-k's regularity (None: chosen by likelihood)."""
    model = _make(name, prior, k)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if name == "mbg_cnbd":
                model.fit(f, r, T, litt)
            else:
                model.fit(f, r, T)
        except ValueError as exc:
            return None, {"error": str(exc)}
    return model, report(model, caught)


def report(model: Any, caught: list) -> dict[str, Any]:
    """A fitted model as JSON-safe numbers."""
    return {
        "params": {k: _number(v) for k, v in model.params_.items()},
        "standard_errors": {
            k: _number(v) for k, v in getattr(model, "standard_errors_", {}).items()
        },
        "intervals": {
            k: [_number(lo), _number(hi)]
            for k, (lo, hi) in getattr(model, "intervals_", {}).items()
        },
        "prior": {k: list(v) for k, v in (getattr(model, "prior", None) or {}).items()},
        "log_likelihood": _number(getattr(model, "log_likelihood_", np.nan)),
        "at_boundary": list(getattr(model, "at_boundary_", [])),
        "converged": bool(getattr(model, "converged_", True)),
        "warnings": sorted({str(w.message) for w in caught}),
    }


@dataclass
class ModelOutcome:
    """Per-customer predictions (arrays aligned with the summary) and the merchant's report."""

    p_alive: np.ndarray
    p_alive_low: np.ndarray
    p_alive_high: np.ndarray
    expected_30: np.ndarray
    expected_90: np.ndarray
    clv: np.ndarray
    clv_low: np.ndarray
    clv_high: np.ndarray
    clv_note: np.ndarray
    reports: dict[str, Any]


def _sample(n: int, size: int, seed: int) -> np.ndarray | None:
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _predict_purchases(model: Any, horizons: np.ndarray, f, r, T) -> np.ndarray:
    many = getattr(model, "expected_purchases_many", None)
    if many is not None:
        return many(horizons, f, r, T)
    return np.column_stack([model.expected_purchases(h, f, r, T) for h in horizons])


def _with_params(model: Any, values: np.ndarray) -> Any:
    """A shallow copy of a fitted model with other values of its (free) parameters."""
    clone = object.__new__(type(model))
    clone.__dict__.update(model.__dict__)
    params = dict(model.params_)
    # draws come in the order of params_ (which may hold fixed settings such as k) or of the
    # free parameters
    names = list(params) if len(values) == len(params) else list(model._param_names)
    for name, value in zip(names, values, strict=True):
        params[name] = float(value)
    clone.params_ = params
    return clone


def fit_and_predict(
    *,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    litt: np.ndarray,
    monetary_value: np.ndarray,
    total_spend: np.ndarray,
    orders: np.ndarray,
    holdout: HoldoutData | None,
    priors: dict[str, Prior] | None,
    fit_pareto: bool,
    horizon_months: int,
    monthly_discount_rate: float,
    margin: float,
    fit_sample: int,
    interval_draws: int,
    interval_max_customers: int,
    seed: int,
) -> ModelOutcome:
    """Run the model step (see the module docstring) on the summary columns (days)."""
    n = len(frequency)
    nan = np.full(n, np.nan)
    reports: dict[str, Any] = {}
    names = [c for c in CANDIDATES if fit_pareto or c != "pareto_nbd"]
    priors = priors or {}

    def prior_of(name: str) -> Prior:
        return priors.get(name) or default_prior(name)

    # 1. the holdout test
    accuracy: dict[str, Any] = {}
    if holdout is not None:
        pick = _sample(len(holdout), fit_sample, seed)
        scored = holdout if pick is None else holdout.take(pick)
        for name in [*names, BASELINE]:
            model, fitted = _fit(
                name,
                prior_of(name),
                scored.frequency,
                scored.recency,
                scored.T,
                scored.litt,
            )
            if model is None:
                accuracy[name] = {"error": fitted.get("error")}
                continue
            predicted = model.expected_purchases(
                float(scored.days), scored.frequency, scored.recency, scored.T
            )
            accuracy[name] = holdout_report(predicted, scored)
            accuracy[name]["params"] = fitted["params"]
    tested = [c for c in names if "mae" in accuracy.get(c, {})]
    # the regularity k found on the calibration part is kept for the whole history (one fit
    # instead of a search: k describes the customers' rhythm, which the split does not change)
    k_found = None
    if "mae" in accuracy.get("mbg_cnbd", {}):
        k_found = int(accuracy["mbg_cnbd"]["params"]["k"])
    chosen = min(tested, key=lambda c: accuracy[c]["mae"]) if tested else names[0]

    # 2. the full fits: the chosen model and the baseline
    observed = T > 0
    pick = _sample(int(observed.sum()), fit_sample, seed)
    idx = np.flatnonzero(observed) if pick is None else np.flatnonzero(observed)[pick]
    final = None
    for name in dict.fromkeys([chosen, BASELINE, *names]):
        model, reports[name] = _fit(
            name, prior_of(name), frequency[idx], recency[idx], T[idx], litt[idx], k=k_found
        )
        if name == chosen:
            final = model
        if final is None and model is not None and name != BASELINE:
            chosen, final = name, model  # the first choice could not be fitted on everything
        if final is not None and name == BASELINE:
            break
    reports["choice"] = {
        "model": chosen if final is not None else None,
        "criterion": "holdout_mae" if tested else "default",
        "holdout": accuracy,
        "sampled": None if pick is None else len(idx),
    }

    # 3. spend
    repeat = (frequency > 0) & (monetary_value > 0)
    gg, reports["gamma_gamma"] = _fit_spend(frequency[repeat], monetary_value[repeat])
    per_visit = float(total_spend.sum() / orders.sum()) if orders.sum() > 0 else np.nan
    if gg is not None:
        spend = gg.expected_spend(frequency, np.where(repeat, monetary_value, 0.0))
        spend = np.where(np.isfinite(spend), spend, per_visit)
    else:
        spend = np.full(n, per_visit)
    reports["spend"] = {
        "model": "gamma_gamma" if gg is not None else "mean_per_visit",
        # the fallback spend per visit (kept so one customer's CLV can be recomputed alone)
        "mean_per_visit": _number(per_visit),
    }

    if final is None:
        note = np.full(n, "no_repeat_buyers", dtype=object)
        return ModelOutcome(nan, nan, nan, nan, nan, nan, nan, nan, note, reports)

    # 4. predictions
    t_end = np.maximum(T, 0.5)  # a first purchase today counts as half a day observed
    months = np.arange(1, horizon_months + 1) * DAYS_PER_MONTH
    horizons = np.r_[30.0, 90.0, months]
    cumulative = _predict_purchases(final, horizons, frequency, recency, t_end)
    p_alive = final.probability_alive(frequency, recency, t_end)
    discounted = discounted_purchases(cumulative[:, 2:], monthly_discount_rate)
    clv = discounted * spend * margin
    note = np.where(np.isfinite(clv), "", "no_spend").astype(object)

    # 5. intervals from posterior draws
    p_low = p_high = clv_low = clv_high = nan
    if interval_draws > 0 and n <= interval_max_customers:
        draws = final.sample_params(interval_draws, seed)
        gg_draws = gg.sample_params(interval_draws, seed + 1) if gg is not None else None
        p_runs = np.empty((interval_draws, n))
        clv_runs = np.empty((interval_draws, n))
        for i in range(interval_draws):
            model_i = _with_params(final, draws[i])
            p_runs[i] = model_i.probability_alive(frequency, recency, t_end)
            cum_i = _predict_purchases(model_i, months, frequency, recency, t_end)
            spend_i = spend
            if gg_draws is not None:
                spend_i = _with_params(gg, gg_draws[i]).expected_spend(
                    frequency, np.where(repeat, monetary_value, 0.0)
                )
                spend_i = np.where(np.isfinite(spend_i), spend_i, spend)
            clv_runs[i] = discounted_purchases(cum_i, monthly_discount_rate) * spend_i * margin
        # a draw that gives no finite value counts as the estimate (np.percentile is vectorised,
        # np.nanpercentile loops per customer)
        p_runs = np.where(np.isfinite(p_runs), p_runs, p_alive)
        clv_runs = np.where(np.isfinite(clv_runs), clv_runs, clv)
        p_low, p_high = np.percentile(p_runs, _INTERVAL, axis=0)
        clv_low, clv_high = np.percentile(clv_runs, _INTERVAL, axis=0)
        # the estimate itself always lies inside its interval
        p_low, p_high = np.minimum(p_low, p_alive), np.maximum(p_high, p_alive)
        clv_low, clv_high = np.minimum(clv_low, clv), np.maximum(clv_high, clv)
    elif interval_draws > 0:
        reports["intervals"] = {"skipped": "too_many", "customers": n}
    return ModelOutcome(
        p_alive=p_alive,
        p_alive_low=p_low,
        p_alive_high=p_high,
        expected_30=cumulative[:, 0],
        expected_90=cumulative[:, 1],
        clv=clv,
        clv_low=clv_low,
        clv_high=clv_high,
        clv_note=note,
        reports=reports,
    )


def _fit_spend(frequency: np.ndarray, monetary_value: np.ndarray):
    model = GammaGamma()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(frequency, monetary_value)
        except ValueError as exc:
            return None, {"error": str(exc)}
    return model, report(model, caught)
