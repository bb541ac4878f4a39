"""Lifecycle stages measured against each customer's own rhythm and probability alive.

Stages (codes, then the Indonesian labels in :mod:`langganan.analytics.labels`): ``new`` (baru),
``active`` (aktif), ``loyal`` (setia), ``at_risk`` (berisiko), ``lapsed`` (tidur).

Definition
----------
A fixed "no purchase for 60 days" rule calls a weekly regular who vanished a month ago active
and a monthly buyer who is a week late lapsed. Here silence is measured in the customer's own
unit, their expected gap between purchase days.

* ``days_since_last = (T - recency) * unit_days`` (the BTYD summary convention).
* **Expected gap** ``g``. The population gap ``G`` is the median over customers of their median
  gap (customers with at least two purchase days), or ``LifecycleRules.population_gap_days`` when
  set, or ``fallback_gap_days`` when no customer has two purchase days. A customer with ``n``
  gaps (``n = frequency``, the repeat purchase days) and median gap ``m`` gets the
  empirical-Bayes style compromise, on the log scale (gaps are skewed; ratios matter)::

      log g = (n log m + k log G) / (n + k),     k = gap_prior_weight

  so one gap counts for little and twenty gaps for nearly everything. One-time buyers get
  ``g = G``. ``g`` is at least ``min_gap_days``.
* **Thresholds**: ``risk_after = max(risk_multiple * g, risk_floor_days)`` and
  ``lapse_after = max(lapse_multiple * g, lapse_floor_days)``, both capped at
  ``lapse_max_days`` (silence beyond it is always lapsed). The floors keep a daily coffee buyer
  from being "at risk" after a long weekend.

Rules, checked in order (first match wins):

==  ===========  ===========================================================================
#   stage        condition
==  ===========  ===========================================================================
1   ``new``      first purchase at most ``new_window_days`` ago (``T * unit_days``) and at
                 most ``new_max_orders`` orders — the acquisition window protects a newcomer
                 from the silence rules (they get a welcome, not a win-back)
2   ``lapsed``   ``p_alive < p_lapsed``, or ``days_since_last > lapse_after`` unless the
                 model still gives ``p_alive >= p_silent_alive`` (then rule 3 applies: a long
                 silence the model finds normal for this customer is a risk, not a loss)
3   ``at_risk``  ``p_alive < p_risk`` or ``days_since_last > risk_after``
4   ``loyal``    at least ``loyal_min_repeats`` repeat purchase days and a regular rhythm:
                 mean gap (``recency * unit_days / frequency``) at most ``loyal_max_spread``
                 times the median gap (no long breaks)
5   ``active``   everyone else
==  ===========  ===========================================================================

A missing ``p_alive`` (or ``p_alive=None``) leaves only the silence rules. With a probability,
the stage and the probability never contradict each other: a lapsed customer has
``p_alive < p_silent_alive`` (50 %), an active or loyal one ``p_alive >= p_risk`` (60 %), one at
risk ``p_alive >= p_lapsed`` (30 %) (checked by :mod:`langganan.analytics.consistency`).

With the defaults and without a probability, a weekly regular (g about 7) silent for 30 days is
lapsed (30 > 3 x 7), a fortnightly one is at risk, and a monthly buyer silent for 30 days is
still active (loyal, with a long regular history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "STAGE_ORDER",
    "LifecycleRules",
    "expected_gap_days",
    "lifecycle_stage",
    "stage_arrays",
]

#: Stage codes in the order of the categorical output.
STAGE_ORDER: tuple[str, ...] = ("new", "active", "loyal", "at_risk", "lapsed")

_NEW, _ACTIVE, _LOYAL, _AT_RISK, _LAPSED = range(5)


@dataclass(frozen=True)
class LifecycleRules:
    """Parameters of :func:`lifecycle_stage` (days unless said otherwise).

    Parameters
    ----------
    new_window_days : float, default 30
        A first purchase at most this long ago makes a customer ``new`` ...
    new_max_orders : int, default 3
        ... as long as they have at most this many orders.
    gap_prior_weight : float, default 2
        Strength ``k`` of the pull of a customer's median gap toward the population gap, in
        gaps; 0 uses the customer's own median as is.
    population_gap_days : float, optional
        The population gap ``G``; by default the median of the customers' median gaps.
    fallback_gap_days : float, default 30
        ``G`` when no customer has two purchase days.
    min_gap_days : float, default 1
        Floor on the expected gap.
    risk_multiple, lapse_multiple : float, default 1.5 and 3
        Silence, in expected gaps, after which a customer is at risk / lapsed.
    risk_floor_days, lapse_floor_days : float, default 7 and 14
        Minimum silence for at risk / lapsed, whatever the gap.
    lapse_max_days : float or None, default 365
        Silence after which everyone is lapsed; None for no cap.
    p_risk, p_lapsed : float, default 0.6 and 0.3
        Probability alive below which a customer is at risk / lapsed.
    p_silent_alive : float, default 0.5
        A customer silent for longer than ``lapse_after`` is lapsed only when the probability
        alive is below this (else at risk).
    loyal_min_repeats : int, default 4
        Repeat purchase days (``frequency``) needed to be loyal.
    loyal_max_spread : float, default 2
        Largest mean gap / median gap ratio that still counts as a regular rhythm.
    """

    new_window_days: float = 30.0
    new_max_orders: int = 3
    gap_prior_weight: float = 2.0
    population_gap_days: float | None = None
    fallback_gap_days: float = 30.0
    min_gap_days: float = 1.0
    risk_multiple: float = 1.5
    lapse_multiple: float = 3.0
    risk_floor_days: float = 7.0
    lapse_floor_days: float = 14.0
    lapse_max_days: float | None = 365.0
    p_risk: float = 0.6
    p_lapsed: float = 0.3
    p_silent_alive: float = 0.5
    loyal_min_repeats: int = 4
    loyal_max_spread: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_lapsed <= self.p_silent_alive <= self.p_risk <= 1.0:
            raise ValueError("need 0 <= p_lapsed <= p_silent_alive <= p_risk <= 1")
        if not 0.0 < self.risk_multiple <= self.lapse_multiple:
            raise ValueError("need 0 < risk_multiple <= lapse_multiple")
        if not 0.0 <= self.risk_floor_days <= self.lapse_floor_days:
            raise ValueError("need 0 <= risk_floor_days <= lapse_floor_days")
        if self.gap_prior_weight < 0 or self.min_gap_days <= 0 or self.fallback_gap_days <= 0:
            raise ValueError("gap_prior_weight must be >= 0, min and fallback gaps > 0")
        if self.population_gap_days is not None and self.population_gap_days <= 0:
            raise ValueError("population_gap_days must be positive")


def expected_gap_days(
    median_gap_days: np.ndarray | pd.Series,
    n_gaps: np.ndarray | pd.Series,
    rules: LifecycleRules | None = None,
) -> tuple[np.ndarray, float]:
    """Each customer's expected days between purchase days, shrunk toward the population gap.

    Parameters
    ----------
    median_gap_days : array-like of float
        Each customer's median gap between purchase days; NaN with fewer than two purchase days.
    n_gaps : array-like of float
        Number of gaps behind each median (the summary's ``frequency`` with daily periods).
    rules : LifecycleRules, optional
        Shrinkage and floor parameters.

    Returns
    -------
    gap : numpy.ndarray of float
        Expected gap per customer (see the module docstring).
    population_gap : float
        The population gap ``G`` used.
    """
    rules = rules or LifecycleRules()
    m = np.asarray(median_gap_days, dtype=float)
    n = np.nan_to_num(np.asarray(n_gaps, dtype=float), nan=0.0).clip(min=0.0)
    own = np.isfinite(m) & (m > 0)
    if rules.population_gap_days is not None:
        pop = float(rules.population_gap_days)
    elif own.any():
        pop = float(np.median(m[own]))
    else:
        pop = float(rules.fallback_gap_days)
    pop = max(pop, rules.min_gap_days)
    k = rules.gap_prior_weight
    weight = np.where(own, n, 0.0)
    log_own = np.log(np.where(own, m, pop))
    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = np.exp((weight * log_own + k * np.log(pop)) / (weight + k))
    gap = np.where(own, shrunk if k > 0 else m, pop)
    return np.maximum(gap, rules.min_gap_days), pop


def lifecycle_stage(
    summary: pd.DataFrame,
    p_alive: np.ndarray | pd.Series | None,
    median_gap_days: np.ndarray | pd.Series | None,
    rules: LifecycleRules | None = None,
    *,
    unit_days: float = 1.0,
    details: bool = False,
) -> pd.Series | pd.DataFrame:
    """Assign each customer a lifecycle stage relative to their own rhythm.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` and ``orders`` (when
        ``orders`` is absent, ``frequency + 1`` is used).
    p_alive : array-like of float or None
        Probability each customer is still alive, aligned with ``summary`` (a Series is aligned
        on the index). None, or NaN for a customer, skips the probability rules.
    median_gap_days : array-like of float or None
        Each customer's median days between purchase days (NaN with fewer than two), aligned
        like ``p_alive``. None treats everyone as having no rhythm of their own.
    rules : LifecycleRules, optional
        Thresholds; the defaults are documented on :class:`LifecycleRules`.
    unit_days : float, default 1
        Length of the summary's time unit in days (7 for a summary in weeks).
    details : bool, default False
        Also return the numbers behind the stage, for the dashboard.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        A categorical Series named ``stage`` (categories :data:`STAGE_ORDER`) indexed like
        ``summary``; with ``details=True`` a DataFrame with columns ``stage``,
        ``days_since_last``, ``expected_gap_days``, ``overdue_ratio`` (days since last /
        expected gap), ``days_overdue`` (days beyond the expected gap, at least 0),
        ``risk_after_days`` and ``lapse_after_days`` (the silence thresholds), and
        ``attrs["population_gap_days"]``, the population gap ``G`` used (kept with a run, so
        one customer can later be staged alone against the same ``G``). The stage is missing
        where ``T`` or ``recency`` is missing.
    """
    rules = rules or LifecycleRules()
    frequency = _column(summary, "frequency")
    orders = _column(summary, "orders") if "orders" in summary.columns else frequency + 1
    parts = stage_arrays(
        frequency,
        _column(summary, "recency"),
        _column(summary, "T"),
        orders,
        _aligned(p_alive, summary.index, "p_alive"),
        _aligned(median_gap_days, summary.index, "median_gap_days"),
        rules,
        unit_days=unit_days,
    )
    stage = pd.Series(
        pd.Categorical.from_codes(parts["code"], categories=list(STAGE_ORDER)),
        index=summary.index,
        name="stage",
    )
    if not details:
        return stage
    days_since, gap = parts["days_since_last"], parts["expected_gap_days"]
    frame = pd.DataFrame(
        {
            "stage": stage,
            "days_since_last": days_since,
            "expected_gap_days": gap,
            "overdue_ratio": days_since / gap,
            "days_overdue": np.maximum(days_since - gap, 0.0),
            "risk_after_days": parts["risk_after_days"],
            "lapse_after_days": parts["lapse_after_days"],
        },
        index=summary.index,
    )
    frame.attrs["population_gap_days"] = float(parts["population_gap_days"])
    return frame


def stage_arrays(
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    orders: np.ndarray,
    p_alive: np.ndarray,
    median_gap_days: np.ndarray,
    rules: LifecycleRules | None = None,
    *,
    unit_days: float = 1.0,
) -> dict[str, np.ndarray]:
    """The arithmetic of :func:`lifecycle_stage` on plain float arrays of equal length.

    For callers that stage a handful of customers at a time (a sale updating its customer's
    insight), where building a DataFrame would cost more than the rules themselves. NaN in
    ``p_alive`` skips the probability rules, NaN in ``median_gap_days`` means no rhythm of
    one's own.

    Returns
    -------
    dict
        ``code`` (int8 index into :data:`STAGE_ORDER`, -1 where ``T`` or ``recency`` is
        missing), ``days_since_last``, ``expected_gap_days``, ``risk_after_days``,
        ``lapse_after_days`` (arrays) and ``population_gap_days`` (the ``G`` used, a float).
    """
    rules = rules or LifecycleRules()
    if unit_days <= 0:
        raise ValueError("unit_days must be positive")
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    alive = np.asarray(p_alive, dtype=float)
    median_gap = np.asarray(median_gap_days, dtype=float)
    tenure = T * unit_days
    days_since = (T - recency) * unit_days
    gap, population_gap = expected_gap_days(median_gap, frequency, rules)
    risk_after = np.maximum(rules.risk_multiple * gap, rules.risk_floor_days)
    lapse_after = np.maximum(rules.lapse_multiple * gap, rules.lapse_floor_days)
    if rules.lapse_max_days is not None:
        lapse_after = np.minimum(lapse_after, rules.lapse_max_days)
        risk_after = np.minimum(risk_after, lapse_after)

    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (recency * unit_days / frequency) / median_gap
    is_new = (tenure <= rules.new_window_days) & (np.asarray(orders) <= rules.new_max_orders)
    is_lapsed = (alive < rules.p_lapsed) | (
        (days_since > lapse_after) & ~(alive >= rules.p_silent_alive)
    )
    is_at_risk = (alive < rules.p_risk) | (days_since > risk_after)
    is_loyal = (frequency >= rules.loyal_min_repeats) & (spread <= rules.loyal_max_spread)

    code = np.select(
        [is_new, is_lapsed, is_at_risk, is_loyal], [_NEW, _LAPSED, _AT_RISK, _LOYAL], _ACTIVE
    ).astype(np.int8)
    code[np.isnan(days_since)] = -1  # unknown without recency and T
    return {
        "code": code,
        "days_since_last": days_since,
        "expected_gap_days": gap,
        "risk_after_days": risk_after,
        "lapse_after_days": lapse_after,
        "population_gap_days": population_gap,
    }


def _column(summary: pd.DataFrame, name: str) -> np.ndarray:
    if name not in summary.columns:
        raise KeyError(f"summary has no column {name!r} (columns: {list(summary.columns)})")
    return pd.to_numeric(summary[name], errors="raise").to_numpy(dtype=float, na_value=np.nan)


def _aligned(values: np.ndarray | pd.Series | None, index: pd.Index, name: str) -> np.ndarray:
    if values is None:
        return np.full(len(index), np.nan)
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            missing = ~index.isin(values.index)
            if missing.any():
                raise ValueError(f"{name} has no value for {int(missing.sum())} customers")
            values = values.reindex(index)
        return values.to_numpy(dtype=float, na_value=np.nan)
    array = np.asarray(values, dtype=float)
    if array.shape != (len(index),):
        raise ValueError(f"{name} has shape {array.shape}, expected ({len(index)},)")
    return array
