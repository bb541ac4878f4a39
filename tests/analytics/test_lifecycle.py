"""Tests for lifecycle stages measured against each customer's own rhythm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.labels import STAGE_ACTIONS, STAGE_DESCRIPTIONS, STAGE_LABELS, label
from langganan.analytics.lifecycle import (
    STAGE_ORDER,
    LifecycleRules,
    expected_gap_days,
    lifecycle_stage,
)

SEED = 20240607
NO_SHRINK = LifecycleRules(gap_prior_weight=0)


def customer(
    *, gap: float, repeats: int, silent: float, tenure: float | None = None, orders: int = 0
) -> dict[str, float]:
    """A customer who came every ``gap`` days ``repeats`` times and has been silent since."""
    recency = gap * repeats
    return {
        "frequency": float(repeats),
        "recency": recency,
        "T": tenure if tenure is not None else recency + silent,
        "orders": orders or repeats + 1,
    }


def stages(rows: list[dict[str, float]], p_alive=None, gaps=None, **kwargs) -> list[str]:
    summary = pd.DataFrame(rows)
    if gaps is None:
        gaps = [row["recency"] / row["frequency"] if row["frequency"] else np.nan for row in rows]
    return lifecycle_stage(summary, p_alive, np.asarray(gaps, dtype=float), **kwargs).tolist()


def test_the_same_silence_means_different_stages_for_different_rhythms() -> None:
    weekly = customer(gap=7, repeats=20, silent=30)
    fortnightly = customer(gap=14, repeats=10, silent=30)
    monthly = customer(gap=30, repeats=8, silent=30)
    # a regular-buyer model gives the weekly regular silent for a month a low probability
    assert stages([weekly, fortnightly, monthly], p_alive=[0.45, 0.9, 0.9]) == [
        "lapsed",
        "at_risk",
        "loyal",
    ]
    assert stages([weekly, fortnightly, monthly]) == ["lapsed", "at_risk", "loyal"]


def test_a_long_silence_the_model_still_finds_normal_is_a_risk_not_a_loss() -> None:
    weekly = customer(gap=7, repeats=20, silent=30)
    assert stages([weekly], p_alive=[0.9]) == ["at_risk"]
    assert stages([weekly], p_alive=[0.49]) == ["lapsed"]
    assert stages([weekly], p_alive=[0.29]) == ["lapsed"]


def test_a_monthly_buyer_with_few_repeats_silent_for_a_month_is_active() -> None:
    assert stages([customer(gap=30, repeats=2, silent=30)]) == ["active"]


def test_a_recent_first_purchase_is_new() -> None:
    assert stages([customer(gap=0, repeats=0, silent=10)]) == ["new"]
    assert stages([customer(gap=5, repeats=2, silent=3)]) == ["new"]


def test_the_new_window_protects_a_newcomer_from_the_silence_rules() -> None:
    one_visit_28_days_ago = customer(gap=0, repeats=0, silent=28)
    rules = LifecycleRules(population_gap_days=7)
    assert stages([one_visit_28_days_ago], rules=rules) == ["new"]


def test_many_orders_in_the_first_weeks_is_not_new() -> None:
    busy = customer(gap=2, repeats=9, silent=1)
    assert stages([busy]) == ["loyal"]


def test_a_one_time_buyer_past_the_window_is_measured_against_the_population_gap() -> None:
    regulars = [customer(gap=20, repeats=10, silent=1) for _ in range(3)]
    once = [customer(gap=0, repeats=0, silent=s) for s in (35, 70, 25)]
    result = stages([*regulars, *once])
    assert result[3:] == ["at_risk", "lapsed", "new"]  # gap 20: risk after 30, lapse after 60


def test_a_low_probability_alive_is_lapsed_even_when_recent() -> None:
    rows = [customer(gap=7, repeats=10, silent=3)] * 3
    assert stages(rows, p_alive=[0.1, 0.5, 0.9]) == ["lapsed", "at_risk", "loyal"]


def test_without_probability_alive_only_silence_counts() -> None:
    rows = [customer(gap=7, repeats=10, silent=3), customer(gap=7, repeats=10, silent=12)]
    assert stages(rows, p_alive=None) == ["loyal", "at_risk"]
    assert stages(rows, p_alive=[np.nan, np.nan]) == ["loyal", "at_risk"]


def test_floors_keep_a_daily_buyer_active_after_a_long_weekend() -> None:
    daily = [customer(gap=1, repeats=60, silent=s) for s in (4, 10, 20)]
    assert stages(daily) == ["loyal", "at_risk", "lapsed"]


def test_silence_beyond_the_cap_is_lapsed_whatever_the_rhythm() -> None:
    yearly = customer(gap=300, repeats=5, silent=400)
    assert stages([yearly]) == ["lapsed"]
    assert stages([yearly], rules=LifecycleRules(lapse_max_days=None)) == ["loyal"]


def test_a_regular_with_a_long_break_in_the_past_is_active_not_loyal() -> None:
    steady = customer(gap=7, repeats=10, silent=2)
    broken = customer(gap=7, repeats=10, silent=2)
    broken["recency"] = 7 * 10 + 120  # a four-month break somewhere in the history
    broken["T"] = broken["recency"] + 2
    assert stages([steady, broken], gaps=[7, 7]) == ["loyal", "active"]


def test_few_repeats_are_not_loyal() -> None:
    assert stages([customer(gap=7, repeats=3, silent=2)]) == ["active"]


def test_boundaries_are_strict_more_than_the_threshold() -> None:
    rules = LifecycleRules(population_gap_days=10, gap_prior_weight=0, risk_floor_days=0)
    rows = [customer(gap=10, repeats=2, silent=s, tenure=100) for s in (15, 15.5, 30, 30.5)]
    for row, silent in zip(rows, (15, 15.5, 30, 30.5), strict=True):
        row["recency"] = row["T"] - silent
        row["frequency"] = 2
    assert stages(rows, gaps=[10] * 4, rules=rules) == ["active", "at_risk", "at_risk", "lapsed"]


def test_details_explain_the_stage_for_the_dashboard() -> None:
    summary = pd.DataFrame([customer(gap=7, repeats=20, silent=30)], index=["budi"])
    result = lifecycle_stage(summary, [0.4], [7.0], NO_SHRINK, details=True)
    assert list(result.columns) == [
        "stage",
        "days_since_last",
        "expected_gap_days",
        "overdue_ratio",
        "days_overdue",
        "risk_after_days",
        "lapse_after_days",
    ]
    row = result.loc["budi"]
    assert row["stage"] == "lapsed"
    assert row["days_since_last"] == 30
    assert row["expected_gap_days"] == pytest.approx(7)
    assert row["overdue_ratio"] == pytest.approx(30 / 7)
    assert row["days_overdue"] == pytest.approx(23)
    assert row["risk_after_days"] == pytest.approx(10.5)
    assert row["lapse_after_days"] == pytest.approx(21)


def test_output_is_a_categorical_series_indexed_like_the_summary() -> None:
    summary = pd.DataFrame([customer(gap=7, repeats=5, silent=1)] * 2, index=["a", "b"])
    result = lifecycle_stage(summary, None, [7.0, 7.0])
    assert result.name == "stage"
    assert result.index.equals(summary.index)
    assert list(result.cat.categories) == list(STAGE_ORDER)


def test_a_series_of_probabilities_is_aligned_on_the_customer_index() -> None:
    summary = pd.DataFrame([customer(gap=7, repeats=10, silent=2)] * 2, index=["a", "b"])
    p_alive = pd.Series([0.9, 0.1], index=["b", "a"])
    assert lifecycle_stage(summary, p_alive, [7.0, 7.0]).tolist() == ["lapsed", "loyal"]


def test_misaligned_inputs_are_refused() -> None:
    summary = pd.DataFrame([customer(gap=7, repeats=10, silent=2)] * 2, index=["a", "b"])
    with pytest.raises(ValueError, match="p_alive"):
        lifecycle_stage(summary, [0.5], [7.0, 7.0])
    with pytest.raises(ValueError, match="median_gap_days"):
        lifecycle_stage(summary, None, pd.Series([7.0], index=["a"]))


def test_a_summary_in_weeks_is_converted_with_unit_days() -> None:
    in_days = customer(gap=7, repeats=20, silent=30)
    in_weeks = {key: value / 7 for key, value in in_days.items() if key in ("recency", "T")}
    in_weeks.update(frequency=20.0, orders=21)
    by_days = lifecycle_stage(pd.DataFrame([in_days]), None, [7.0], details=True)
    by_weeks = lifecycle_stage(pd.DataFrame([in_weeks]), None, [7.0], unit_days=7, details=True)
    pd.testing.assert_frame_equal(by_days, by_weeks)


def test_missing_recency_gives_a_missing_stage() -> None:
    row = customer(gap=7, repeats=10, silent=2)
    row["T"] = np.nan
    assert pd.isna(stages([row])[0])


def test_orders_default_to_purchase_days_when_absent() -> None:
    summary = pd.DataFrame([customer(gap=0, repeats=0, silent=5)]).drop(columns="orders")
    assert lifecycle_stage(summary, None, None).tolist() == ["new"]


def test_an_empty_summary_gives_an_empty_result() -> None:
    summary = pd.DataFrame(columns=["frequency", "recency", "T", "orders"], dtype=float)
    assert lifecycle_stage(summary, None, None).empty


# --- expected gap --------------------------------------------------------------------------


def test_one_gap_is_pulled_toward_the_population_and_many_gaps_barely() -> None:
    rules = LifecycleRules(population_gap_days=30, gap_prior_weight=2)
    gap, population = expected_gap_days([3.0, 3.0], [1, 98], rules)
    assert population == 30
    assert gap[0] == pytest.approx(np.exp((np.log(3) + 2 * np.log(30)) / 3))
    assert gap[1] == pytest.approx(np.exp((98 * np.log(3) + 2 * np.log(30)) / 100))
    assert 3 < gap[1] < 3.5 < 10 < gap[0] < 30


def test_without_shrinkage_the_own_median_is_used() -> None:
    gap, _ = expected_gap_days([3.0, 12.0], [1, 2], NO_SHRINK)
    assert gap.tolist() == [3.0, 12.0]


def test_the_population_gap_is_the_median_of_customers_with_two_purchase_days() -> None:
    gap, population = expected_gap_days([2.0, 10.0, 40.0, np.nan], [1, 1, 1, 0], NO_SHRINK)
    assert population == 10
    assert gap[3] == 10


def test_with_no_repeat_customers_the_fallback_gap_is_used() -> None:
    gap, population = expected_gap_days([np.nan, np.nan], [0, 0], LifecycleRules())
    assert population == 30
    assert gap.tolist() == [30, 30]


def test_the_expected_gap_has_a_floor() -> None:
    gap, _ = expected_gap_days([0.2], [10], LifecycleRules(gap_prior_weight=0, min_gap_days=1))
    assert gap.tolist() == [1.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"p_lapsed": 0.7, "p_risk": 0.6},
        {"risk_multiple": 4, "lapse_multiple": 3},
        {"risk_floor_days": 20, "lapse_floor_days": 10},
        {"gap_prior_weight": -1},
        {"population_gap_days": 0},
    ],
)
def test_inconsistent_rules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LifecycleRules(**kwargs)


def test_every_stage_has_labels_descriptions_and_actions() -> None:
    for table in (STAGE_LABELS, STAGE_DESCRIPTIONS, STAGE_ACTIONS):
        assert set(table) == set(STAGE_ORDER)
    assert [label(code, kind="stage") for code in STAGE_ORDER] == [
        "Baru",
        "Aktif",
        "Setia",
        "Berisiko",
        "Tidur",
    ]
