"""Minimum evidence: habits, "the usual" and the next visit only where the history supports them.

A customer with one visit has a weekday, an hour and an order, but not a *habit*. Each claim
the dashboard makes about a customer's habits needs, by these rules (:class:`EvidenceRules`):

==================  ==========================================================================
claim               shown when
==================  ==========================================================================
usual day           at least ``min_visits`` (4) purchase days and the most common weekday holds
                    at least ``min_weekday_share`` (35 %) of the visits (chance: 14 %)
usual hour          at least ``min_visits`` purchase days and the most common hour holds at
                    least ``min_hour_share`` (35 %)
time of month       at least ``min_visits`` purchase days and one third of the month holds at
                    least ``min_time_of_month_share`` (60 %) of the visits (chance: 33 %)
the usual order     at least ``min_usual_orders`` (3) orders with items; an item is part of it
                    when it was in at least ``min_usual_times`` (2) of them and in at least
                    ``min_usual_share`` (30 %). Items bought equally often share one rank (no
                    alphabetical tie-break).
next visit          at least ``min_visits`` purchase days, a stage of new, active or loyal (a
                    customer at risk or lapsed is overdue: no date is promised), and the date
                    within ``max_next_visit_days`` (120) of the observation end
==================  ==========================================================================

Otherwise the claim is left empty and its reason is kept (``"few_visits"``, ``"no_pattern"``,
``"overdue"``, ``"far"``); the dashboard says "belum cukup data".

The next visit is the last purchase day plus the customer's expected gap (the one lifecycle
stages are measured in, :func:`~langganan.analytics.lifecycle.expected_gap_days`), and the
observation end when that day has already passed; stage and next visit therefore never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["REASONS", "EvidenceRules", "apply_evidence", "usual_with_evidence"]

#: "ok" and the reasons a claim is not shown
REASONS = ("ok", "few_visits", "no_pattern", "overdue", "far")
_OK, _FEW, _NO_PATTERN, _OVERDUE, _FAR = range(len(REASONS))


@dataclass(frozen=True)
class EvidenceRules:
    min_visits: int = 4
    min_weekday_share: float = 0.35
    min_hour_share: float = 0.35
    min_time_of_month_share: float = 0.6
    min_usual_orders: int = 3
    min_usual_times: int = 2
    min_usual_share: float = 0.3
    max_next_visit_days: float = 120.0


def usual_with_evidence(usual: pd.DataFrame, rules: EvidenceRules | None = None) -> pd.DataFrame:
    """The usual-order rows (``customer_id, rank, item, times, share, n_transactions``) that
    meet the evidence rules, re-ranked densely by ``times`` (equal counts share a rank)."""
    rules = rules or EvidenceRules()
    if usual.empty:
        return usual
    n = (
        usual["n_transactions"]
        if "n_transactions" in usual.columns
        else usual["times"] / usual["share"].where(usual["share"] > 0)
    )
    keep = (
        (n >= rules.min_usual_orders)
        & (usual["times"] >= rules.min_usual_times)
        & (usual["share"] >= rules.min_usual_share)
    )
    kept = usual.loc[keep]
    if kept.empty:
        return kept.copy()
    # in (customer, rank) order each customer's counts do not increase; a new dense rank starts
    # where the count drops (vectorised: a million customers' rows are grouped in one pass)
    order = np.lexsort((kept["rank"].to_numpy(), kept["customer_id"].to_numpy()))
    kept = kept.iloc[order].reset_index(drop=True)
    customer = kept["customer_id"].to_numpy()
    times = kept["times"].to_numpy()
    first = np.r_[True, customer[1:] != customer[:-1]]
    drops = np.r_[False, times[1:] != times[:-1]] & ~first
    steps = np.cumsum(drops)
    start = np.maximum.accumulate(np.where(first, np.arange(len(kept)), 0))
    kept["rank"] = (steps - steps[start] + 1).astype("int64")
    return kept


def apply_evidence(
    customers: pd.DataFrame,
    usual_kept: pd.DataFrame,
    end: pd.Timestamp,
    rules: EvidenceRules | None = None,
) -> pd.DataFrame:
    """Blank the habit columns of ``customers`` that lack evidence; add the next visit.

    ``customers`` needs ``periods`` (purchase days), ``typical_weekday``, ``weekday_share``,
    ``typical_hour``, ``hour_share``, ``time_of_month``, ``time_of_month_share``,
    ``last_purchase``, ``expected_gap_days`` and ``stage``. Returns a copy with those habit
    columns blanked where unsupported, ``next_visit_in_days`` (days after ``end``; NaN when none)
    and the categorical columns ``evidence_habits``, ``evidence_usual`` and
    ``evidence_next_visit``: ``"ok"`` or the reason. ``customers`` is changed in place (a
    million customers' frame is not copied) and returned.
    """
    rules = rules or EvidenceRules()
    out = customers
    visits = out["periods"].to_numpy(dtype=float)
    few = visits < rules.min_visits

    def keep(column: str, share: str, minimum: float) -> np.ndarray:
        ok = ~few & (out[share].to_numpy(dtype=float, na_value=0.0) >= minimum)
        out[column] = out[column].where(ok)
        return ok

    weekday_ok = keep("typical_weekday", "weekday_share", rules.min_weekday_share)
    hour_ok = keep("typical_hour", "hour_share", rules.min_hour_share)
    month_ok = keep("time_of_month", "time_of_month_share", rules.min_time_of_month_share)
    # reasons as codes into REASONS (categoricals from codes: no million-string arrays)
    habits = np.where(few, _FEW, np.where(weekday_ok | hour_ok | month_ok, _OK, _NO_PATTERN))

    has_usual = out.index.isin(usual_kept["customer_id"]) if len(usual_kept) else False
    orders = out["orders"].to_numpy(dtype=float)
    usual_state = np.where(
        has_usual, _OK, np.where(orders < rules.min_usual_orders, _FEW, _NO_PATTERN)
    )

    last_day = pd.to_datetime(out["last_purchase"]).dt.normalize()
    end_day = pd.Timestamp(end).normalize()
    since = ((end_day - last_day) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    wait = out["expected_gap_days"].to_numpy(dtype=float) - since
    wait = np.ceil(np.maximum(wait, 0.0))
    overdue = out["stage"].isin(["at_risk", "lapsed"]).to_numpy()
    far = wait > rules.max_next_visit_days
    next_state = np.where(few, _FEW, np.where(overdue, _OVERDUE, np.where(far, _FAR, _OK)))
    out["next_visit_in_days"] = np.where(next_state == _OK, wait, np.nan)
    for column, codes in (
        ("evidence_habits", habits),
        ("evidence_usual", usual_state),
        ("evidence_next_visit", next_state),
    ):
        out[column] = pd.Categorical.from_codes(codes.astype(np.int8), categories=REASONS)
    return out
