"""Customer lifetime value and predicted time to the next purchase from fitted BTYD models."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    ERR_BAD_SETTING,
    FloatArray,
    compress_rows,
    single_threaded_blas,
    validate_rfm,
)
from .gamma_gamma import GammaGamma

#: Average month length in days (365.25 / 12).
DAYS_PER_MONTH = 30.4375


class PurchaseModel(Protocol):
    """What CLV and next-purchase predictions need from a fitted purchase model."""

    params_: dict[str, float]

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def _setting(ok: bool, name: str, what: str, value: object) -> None:
    if not ok:
        raise ValueError(ERR_BAD_SETTING.format(name=name, what=what, value=value))


def customer_lifetime_value(
    model: PurchaseModel,
    gg_model: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
    unit_days: float = 1.0,
) -> FloatArray:
    """Discounted expected margin of each customer over the coming months.

    ``CLV = sum_{m=1..H} (E[Y(m M)] - E[Y((m-1) M)]) * E[spend] * margin / (1 + d)**m`` where
    ``E[Y(t)]`` is the model's conditional expected number of purchases in ``(T, T + t]``,
    ``M = 30.4375 / unit_days`` is a month in the caller's time unit and ``E[spend]`` is the
    Gamma-Gamma conditional expected transaction value. Each month's purchases are discounted
    at the end of that month.

    Parameters
    ----------
    model : BetaGeo or ParetoNBD
        Fitted purchase model (in the same time unit as ``recency`` and ``T``).
    gg_model : GammaGamma
        Fitted spend model.
    frequency, recency, T : array-like
        The customers' summaries.
    monetary_value : array-like
        Average repeat spend (0 when frequency is 0).
    horizon_months : int, default 12
        Number of months ``H`` summed.
    monthly_discount_rate : float, default 0.01
        Discount rate ``d`` per month.
    margin : float, default 1.0
        Profit margin applied to revenue.
    unit_days : float, default 1.0
        Length of the caller's time unit in days (1 for days, 7 for weeks).

    Returns
    -------
    numpy.ndarray
        Lifetime value per customer, in the money unit of ``monetary_value``.
    """
    _setting(
        isinstance(horizon_months, int | np.integer) and horizon_months >= 1,
        "horizon_months",
        "a positive integer",
        horizon_months,
    )
    _setting(
        np.isfinite(monthly_discount_rate) and monthly_discount_rate > -1,
        "monthly_discount_rate",
        "a number greater than -1",
        monthly_discount_rate,
    )
    _setting(np.isfinite(margin), "margin", "a finite number", margin)
    _setting(np.isfinite(unit_days) and unit_days > 0, "unit_days", "a positive number", unit_days)
    x, t_x, t_end, _ = validate_rfm(frequency, recency, T)
    spend = gg_model.expected_spend(x, monetary_value)
    month = DAYS_PER_MONTH / unit_days
    # customers share (x, t_x, T) rows: discount the purchases once per distinct row
    (ux, ut, uT), _, inverse = compress_rows(x, t_x, t_end)
    months = np.arange(1, horizon_months + 1)
    with single_threaded_blas():
        many = getattr(model, "expected_purchases_many", None)
        if many is not None:  # all months in one pass
            cumulative = many(months * month, ux, ut, uT)
        else:
            cumulative = np.column_stack(
                [model.expected_purchases(m * month, ux, ut, uT) for m in months]
            )
    value = discounted_purchases(cumulative, monthly_discount_rate)
    return value[inverse] * spend * margin


def discounted_purchases(cumulative: FloatArray, monthly_discount_rate: float) -> FloatArray:
    """Discounted expected purchases from the cumulative expectations at the end of months
    ``1..H`` (one column per month): ``sum_m (E[Y(m)] - E[Y(m-1)]) / (1 + d)**m``."""
    cumulative = np.asarray(cumulative, dtype=np.float64)
    months = np.arange(1, cumulative.shape[1] + 1, dtype=np.float64)
    discount = (1.0 + monthly_discount_rate) ** -months
    return np.diff(cumulative, axis=1, prepend=0.0) @ discount


def predicted_next_purchase(
    model: PurchaseModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    quantile: float = 0.5,
    min_probability_alive: float | None = None,
) -> FloatArray:
    """Predicted waiting time from ``T`` until each customer's next purchase, if still active.

    Given the customer is active at ``T`` (and stays active), purchases arrive as a Poisson
    process whose rate has the posterior ``Gamma(r + x, alpha + T)`` under both BG/NBD and
    Pareto/NBD, so the waiting time ``W`` is Lomax distributed with
    ``P(W > w) = ((alpha + T) / (alpha + T + w))**(r + x)``. The function returns its
    ``quantile`` (by default the median):
    ``w_q = (alpha + T) * ((1 - q)**(-1 / (r + x)) - 1)``. It is finite for every customer and
    shorter for more frequent buyers; the chance that the customer has already left is not
    in it (see ``probability_alive``). With ``min_probability_alive`` set, customers whose
    ``P(alive)`` is below it get ``inf`` (not expected to come back).

    Parameters
    ----------
    model : BetaGeo or ParetoNBD
        Fitted purchase model (same time unit as ``recency`` and ``T``).
    frequency, recency, T : array-like
        The customers' summaries.
    quantile : float, default 0.5
        Probability, in (0, 1), that the next purchase comes within the returned time.
    min_probability_alive : float, optional
        Threshold in [0, 1] below which the result is ``inf``.

    Returns
    -------
    numpy.ndarray
        Waiting time after ``T`` in the caller's time unit.
    """
    _setting(0.0 < quantile < 1.0, "quantile", "a number in (0, 1)", quantile)
    if min_probability_alive is not None:
        _setting(
            0.0 <= min_probability_alive <= 1.0,
            "min_probability_alive",
            "a number in [0, 1]",
            min_probability_alive,
        )
    x, t_x, t_end, _ = validate_rfm(frequency, recency, T)
    r, alpha = model.params_["r"], model.params_["alpha"]
    wait = (alpha + t_end) * np.expm1(-np.log1p(-quantile) / (r + x))
    if min_probability_alive is not None:
        alive = model.probability_alive(x, t_x, t_end)
        wait = np.where(alive < min_probability_alive, np.inf, wait)
    return wait
