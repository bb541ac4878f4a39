"""Minimum evidence for habits, the usual order and the next visit; one story per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.consistency import ALLOWED_SEGMENTS, contradictions, segment_for_stage
from langganan.analytics.evidence import EvidenceRules, apply_evidence, usual_with_evidence

END = pd.Timestamp("2026-11-30")


def usual_rows(rows: list[tuple[int, int, str, int, int]]) -> pd.DataFrame:
    """(customer, rank, item, times, n_transactions) as the pipeline's usual order."""
    frame = pd.DataFrame(rows, columns=["customer_id", "rank", "item", "times", "n_transactions"])
    frame["share"] = frame["times"] / frame["n_transactions"]
    return frame


def test_the_usual_needs_repeated_items_and_enough_orders():
    usual = usual_rows(
        [
            (1, 1, "Es Teh", 1, 1),  # one visit: no usual
            (2, 1, "Kopi Susu", 5, 10),
            (2, 2, "Roti Bakar", 2, 10),  # only 20 % of the visits
            (3, 1, "Nasi Rames", 2, 2),  # two orders: not enough
        ]
    )
    kept = usual_with_evidence(usual)
    assert kept[["customer_id", "item", "rank"]].values.tolist() == [[2, "Kopi Susu", 1]]


def test_items_bought_equally_often_share_a_rank_whatever_their_names():
    usual = usual_rows(
        [
            (7, 1, "Teh Manis", 4, 8),
            (7, 2, "Kopi Susu", 4, 8),
            (7, 3, "Air Mineral", 3, 8),
            (8, 1, "Bakso", 6, 6),
        ]
    )
    kept = usual_with_evidence(usual)
    ranks = dict(zip(kept["item"], kept["rank"], strict=True))
    assert ranks == {"Teh Manis": 1, "Kopi Susu": 1, "Air Mineral": 2, "Bakso": 1}


def customers(**columns) -> pd.DataFrame:
    base = {
        "periods": [1, 6, 6, 6, 6],
        "orders": [1, 6, 6, 6, 6],
        "typical_weekday": [2.0, 0.0, 4.0, 1.0, 3.0],
        "weekday_share": [1.0, 0.8, 0.2, 0.5, 0.5],
        "typical_hour": [12.0, 12.0, 9.0, 19.0, 8.0],
        "hour_share": [1.0, 0.6, 0.2, 0.5, 0.5],
        "time_of_month": ["start", "end", "middle", "end", "start"],
        "time_of_month_share": [1.0, 0.7, 0.4, 0.4, 0.4],
        "last_purchase": pd.to_datetime(
            ["2026-01-10", "2026-11-28", "2026-11-29", "2026-09-01", "2026-11-29"]
        ),
        "expected_gap_days": [30.0, 7.0, 3.0, 7.0, 200.0],
        "stage": ["lapsed", "loyal", "active", "lapsed", "active"],
    }
    base.update(columns)
    return pd.DataFrame(base, index=pd.Index([10, 11, 12, 13, 14], name="customer_id"))


def test_habits_and_the_next_visit_are_shown_only_with_evidence():
    usual = usual_with_evidence(usual_rows([(11, 1, "Kopi", 5, 6)]))
    out = apply_evidence(customers(), usual, END)
    habits = out["evidence_habits"].astype(str).tolist()
    assert habits == ["few_visits", "ok", "no_pattern", "ok", "ok"]
    assert out["typical_weekday"].isna().tolist() == [True, False, True, False, False]
    assert pd.isna(out["time_of_month"].iloc[0]) and out["time_of_month"].iloc[1] == "end"
    assert out["evidence_usual"].astype(str).tolist() == [
        "few_visits",
        "ok",
        "no_pattern",
        "no_pattern",
        "no_pattern",
    ]
    assert out["evidence_next_visit"].astype(str).tolist() == [
        "few_visits",
        "ok",
        "ok",
        "overdue",
        "far",
    ]
    # the loyal weekly regular who came two days ago is due in five days, the one who comes
    # every three days and came yesterday in two
    assert out["next_visit_in_days"].tolist()[1:3] == [5.0, 2.0]
    assert out["next_visit_in_days"].isna().tolist() == [True, False, False, True, True]


def test_fewer_visits_than_the_rule_asks_are_not_a_habit():
    rules = EvidenceRules(min_visits=7)
    out = apply_evidence(customers(), usual_with_evidence(usual_rows([])), END, rules)
    assert set(out["evidence_habits"].astype(str)) == {"few_visits"}


@pytest.mark.parametrize(
    ("stage", "f", "m", "segment"),
    [
        ("new", 1, 1, "new"),
        ("loyal", 5, 5, "champions"),
        ("active", 3, 3, "loyal"),
        ("active", 1, 1, "promising"),
        ("at_risk", 5, 4, "at_risk"),
        ("at_risk", 2, 2, "need_attention"),
        ("lapsed", 5, 5, "cant_lose_them"),
        ("lapsed", 3, 3, "hibernating"),
        ("lapsed", 1, 1, "lost"),
    ],
)
def test_the_segment_follows_the_stage(stage, f, m, segment):
    result = segment_for_stage(pd.Series([stage]), pd.Series([f]), pd.Series([m]))
    assert result.tolist() == [segment]
    assert segment in ALLOWED_SEGMENTS[stage]


def test_contradictions_are_listed_with_their_reason():
    frame = pd.DataFrame(
        {
            "stage": ["lapsed", "active", "at_risk", "loyal", "lapsed"],
            "p_alive": [0.99, 0.2, 0.1, 0.9, 0.1],
            "segment": ["lost", "champions", "at_risk", "lost", "lost"],
            "next_visit_in_days": [np.nan, np.nan, np.nan, 3.0, 4.0],
        }
    )
    found = contradictions(frame)
    assert sorted(found["reason"].tolist()) == sorted(
        [
            "lapsed but probably active",
            "active but probably gone",
            "at risk but probably gone",
            "segment does not fit the stage",
            "next visit promised to a lapsing customer",
        ]
    )
    assert contradictions(frame.iloc[[3]].assign(segment="champions")).empty


def test_a_visit_already_due_is_due_today_never_in_the_past():
    frame = customers(expected_gap_days=[30.0, 1.0, 1.0, 7.0, 200.0])
    out = apply_evidence(frame, usual_with_evidence(usual_rows([])), END)
    assert out["next_visit_in_days"].iloc[1] == 0.0
