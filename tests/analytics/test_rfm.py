"""Tests for RFM scores, segments and their labels."""

from __future__ import annotations

import importlib.util
import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langganan.analytics import rfm
from langganan.analytics.labels import (
    SEGMENT_ACTIONS,
    SEGMENT_DESCRIPTIONS,
    SEGMENT_LABELS,
    STAGE_LABELS,
    describe,
    label,
    rhythm_sentence,
    suggest_action,
)
from langganan.analytics.lifecycle import STAGE_ORDER
from langganan.analytics.rfm import (
    SEGMENT_ORDER,
    SEGMENT_RULES,
    quantile_scores,
    rfm_scores,
    rfm_segment,
)

SEED = 20240607


def make_summary(n: int, seed: int = SEED) -> pd.DataFrame:
    print(f"random seed {seed}")
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 365, n).astype(float)
    orders = rng.geometric(0.4, n)
    frequency = np.minimum(orders - 1, T).astype(float)
    recency = np.where(frequency > 0, np.floor(T * rng.uniform(0, 1, n)), 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "orders": orders,
            "total_spend": rng.integers(1, 50, n) * 5000.0,
            "monetary_value": rng.integers(0, 20, n) * 5000.0,
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer"),
    )


def summary_of(days_since: list[float], orders: list[int], spend: list[float]) -> pd.DataFrame:
    n = len(days_since)
    return pd.DataFrame(
        {
            "recency": np.zeros(n),
            "T": np.asarray(days_since, dtype=float),
            "orders": orders,
            "total_spend": spend,
        }
    )


# --- scores --------------------------------------------------------------------------------


def old_mid_rank_scores(values: np.ndarray, bins: int = 5) -> np.ndarray:
    """The scaled mid-rank scores used before (score 1 + floor(bins * u)), for comparison."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    twice_mid = 2 * np.cumsum(counts) - counts + 1
    span = twice_mid[-1] - twice_mid[0]
    return np.minimum(1 + (bins * (twice_mid - twice_mid[0])) // span, bins)[inverse]


def sizes(scores: np.ndarray, bins: int = 5) -> list[int]:
    return np.bincount(scores, minlength=bins + 1)[1:].tolist()


def squared_deviation(scores: np.ndarray, bins: int) -> float:
    """Sum over the scores of (customers with that score - n / bins)^2."""
    counts = np.bincount(scores[scores > 0], minlength=bins + 1)[1:]
    return float(((counts - counts.sum() / bins) ** 2).sum())


def best_by_brute_force(values: np.ndarray, bins: int) -> np.ndarray:
    """Every placement of bins - 1 cuts between tie groups; the documented order picks one."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.concatenate([[0], np.cumsum(counts)])
    n = int(below[-1])

    def rank(cuts: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
        edges = [0, *(int(below[c]) for c in cuts), n]
        squares = sum((b - a) ** 2 for a, b in itertools.pairwise(edges))
        off = sum((bins * int(below[c]) - k * n) ** 2 for k, c in enumerate(cuts, 1))
        return squares, off, cuts

    best = min(itertools.combinations(range(1, len(counts)), bins - 1), key=rank)
    per_group = 1 + np.searchsorted(np.array(best), np.arange(len(counts)), side="right")
    return per_group[inverse]


def test_distinct_values_are_cut_into_equal_quintiles() -> None:
    assert quantile_scores(np.arange(10.0)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    scores = quantile_scores(np.arange(100.0))
    assert sizes(scores) == [20, 20, 20, 20, 20]
    # not a multiple of bins: the cuts are the targets k n / bins rounded (1.4 2.8 4.2 5.6)
    assert quantile_scores(np.arange(7.0)).tolist() == [1, 2, 2, 3, 4, 4, 5]


def test_distinct_values_in_any_order_are_exact_quintiles() -> None:
    rng = np.random.default_rng(SEED)
    values = rng.normal(size=1000)
    scores = quantile_scores(values)
    assert sizes(scores) == [200] * 5
    order = np.argsort(values)
    assert scores[order].tolist() == np.repeat([1, 2, 3, 4, 5], 200).tolist()
    shuffled = rng.permutation(len(values))
    assert quantile_scores(values[shuffled]).tolist() == scores[shuffled].tolist()


def test_bins_sets_the_number_of_score_levels() -> None:
    assert quantile_scores(np.arange(8.0), bins=4).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert quantile_scores(np.arange(9.0), bins=3).tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_equal_values_always_share_a_score() -> None:
    values = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 5, 9], dtype=float)
    scores = quantile_scores(values)
    for value in np.unique(values):
        assert len(set(scores[values == value].tolist())) == 1


def test_lowest_tied_value_scores_one_and_highest_scores_the_top() -> None:
    orders = np.array([1] * 60 + [2] * 15 + [3] * 10 + [5] * 10 + [12] * 5, dtype=float)
    scores = quantile_scores(orders)
    assert set(scores[orders == 1].tolist()) == {1}
    assert set(scores[orders == 12].tolist()) == {5}
    assert np.all(np.diff(scores[np.argsort(orders, kind="stable")]) >= 0)


def test_ties_are_never_split_and_the_rest_is_shared_as_evenly_as_possible() -> None:
    """The worked example of the module docstring: ten one-time buyers take score 1, the other
    ten are cut 3|2|2|3 (3|2|3|2 is as even, its last cut is further from the target)."""
    orders = np.array([1] * 10 + [2] * 3 + [3] * 2 + [4] * 2 + [5, 7, 9], dtype=float)
    scores = quantile_scores(orders)
    assert scores.tolist() == [1] * 10 + [2] * 3 + [3] * 2 + [4] * 2 + [5, 5, 5]
    assert sizes(old_mid_rank_scores(orders)) == [10, 0, 3, 4, 3]  # the old scheme left F = 2 empty


def _cdnow_orders() -> np.ndarray:
    spec = importlib.util.find_spec("lifetimes")  # not imported: it fails with recent pandas
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("lifetimes (a dev dependency) ships the CDNOW files; install the dev extra")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets"
    summary = pd.read_csv(path / "cdnow_customers_summary.csv")
    assert len(summary) == 2357
    return (summary["frequency"] + 1).to_numpy(dtype=float)


def test_cdnow_frequency_one_time_buyers_score_one_and_the_rest_fill_two_to_five() -> None:
    orders = _cdnow_orders()
    scores = quantile_scores(orders)
    # 1,411 one-time buyers (59.9%); then 439 with 2 orders, 214 with 3, 100 + 62 with 4-5 and
    # 131 with 6 or more: the most even cut of the other 946 over four scores
    assert sizes(scores) == [1411, 439, 214, 162, 131]
    shares = np.round(np.bincount(scores, minlength=6)[1:] / len(orders), 3).tolist()
    assert shares == [0.599, 0.186, 0.091, 0.069, 0.056]
    assert {o: set(scores[orders == o].tolist()) for o in (1, 2, 3, 4, 5, 6, 30)} == {
        1: {1},
        2: {2},
        3: {3},
        4: {4},
        5: {4},
        6: {5},
        30: {5},
    }
    # the scaled mid-rank scores used before: F = 2 went to nobody
    assert sizes(old_mid_rank_scores(orders)) == [1411, 0, 439, 214, 293]
    assert squared_deviation(scores, 5) < squared_deviation(old_mid_rank_scores(orders), 5)


tie_heavy_values = st.lists(
    st.one_of(st.integers(0, 12).map(float), st.just(float("nan"))), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=tie_heavy_values, bins=st.integers(2, 7), seed=st.integers(0, 2**32 - 1))
def test_scores_are_order_free_monotone_and_as_even_as_the_ties_allow(
    values: list[float], bins: int, seed: int
) -> None:
    x = np.array(values)
    scores = quantile_scores(x, bins)
    shuffled = np.random.default_rng(seed).permutation(len(x))
    assert quantile_scores(x[shuffled], bins).tolist() == scores[shuffled].tolist()
    valid = ~np.isnan(x)
    assert (scores[~valid] == 0).all()
    v, s = x[valid], scores[valid]
    if not len(v):
        return
    assert ((s >= 1) & (s <= bins)).all()
    order = np.argsort(v, kind="stable")
    assert (np.diff(s[order]) >= 0).all()  # a larger value never scores lower
    assert (np.diff(s[order])[np.diff(v[order]) == 0] == 0).all()  # ties share a score
    distinct = len(np.unique(v))
    if distinct >= bins:
        assert min(sizes(s, bins)) > 0  # no score left empty
        assert s.tolist() == best_by_brute_force(v, bins).tolist()
    if distinct > 1:
        old = squared_deviation(old_mid_rank_scores(v, bins), bins)
        assert squared_deviation(s, bins) <= old + 1e-9 * max(1.0, old)  # float sums


@pytest.mark.parametrize(
    ("values", "bins", "expected"),
    [
        ([1, 2, 3, 4], 5, [1, 2, 4, 5]),
        ([7, 7, 7, 9, 9, 20], 5, [1, 1, 1, 3, 3, 5]),
        ([1, 2, 3], 4, [1, 3, 4]),
        ([1, 1, 2, 2, 3, 3, 4, 4, 5], 5, [1, 1, 2, 2, 3, 3, 4, 4, 5]),
    ],
)
def test_fewer_distinct_values_than_bins_get_distinct_scores_from_one_to_the_top(
    values: list[float], bins: int, expected: list[int]
) -> None:
    assert quantile_scores(np.array(values, dtype=float), bins).tolist() == expected


def test_many_distinct_values_search_a_grid_of_boundaries_close_to_the_best(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above the exact-search limit (lowered here) the cuts stay exact for distinct values and
    within 0.1% of n of the full search's with a large tie group."""
    rng = np.random.default_rng(SEED)
    distinct = rng.permutation(5003).astype(float)
    zeros_and_tail = np.where(rng.random(4000) < 0.6, 0.0, rng.random(4000))
    monkeypatch.setattr(rfm, "_EXACT_LIMIT", 10_000)
    exact = [quantile_scores(v) for v in (distinct, zeros_and_tail)]
    monkeypatch.setattr(rfm, "_EXACT_LIMIT", 10)
    monkeypatch.setattr(rfm, "_GRID", 64)
    assert quantile_scores(distinct).tolist() == exact[0].tolist()
    assert sizes(exact[0]) == [1001, 1000, 1001, 1000, 1001]
    scores = quantile_scores(zeros_and_tail)
    assert set(scores[zeros_and_tail == 0].tolist()) == {1}
    gap = np.abs(np.array(sizes(scores)) - np.array(sizes(exact[1]))).max()
    assert gap <= 0.001 * len(zeros_and_tail)


def test_all_equal_values_get_the_middle_score() -> None:
    assert quantile_scores(np.full(7, 3.0)).tolist() == [3] * 7
    assert quantile_scores(np.full(3, 3.0), bins=4).tolist() == [2] * 3


@pytest.mark.parametrize(
    ("values", "expected"),
    [([5.0], [3]), ([1.0, 2.0], [1, 5]), ([1.0, 2.0, 3.0], [1, 3, 5]), ([], [])],
)
def test_fewer_customers_than_bins_are_spread_from_one_to_the_top(
    values: list[float], expected: list[int]
) -> None:
    assert quantile_scores(np.array(values)).tolist() == expected


def test_missing_values_get_no_score_and_do_not_shift_the_others() -> None:
    scores = quantile_scores(np.array([np.nan, 1.0, 2.0, np.nan, 3.0]))
    assert scores.tolist() == [0, 1, 3, 0, 5]
    assert quantile_scores(np.array([np.nan, np.nan])).tolist() == [0, 0]


def test_bins_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="bins"):
        quantile_scores(np.arange(3.0), bins=1)


def test_recent_frequent_big_spenders_score_five_and_the_opposite_scores_one() -> None:
    summary = summary_of(
        days_since=[1, 10, 20, 30, 40], orders=[9, 7, 5, 3, 1], spend=[900, 700, 500, 300, 100]
    )
    result = rfm_scores(summary)
    assert result["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert result["f_score"].tolist() == [5, 4, 3, 2, 1]
    assert result["m_score"].tolist() == [5, 4, 3, 2, 1]
    assert result["rfm_score"].tolist() == ["555", "444", "333", "222", "111"]
    assert result["segment"].tolist() == [
        "champions",
        "champions",
        "need_attention",
        "hibernating",
        "lost",
    ]


def test_output_has_the_documented_columns_and_keeps_the_index() -> None:
    summary = make_summary(50)
    result = rfm_scores(summary)
    assert list(result.columns) == ["r_score", "f_score", "m_score", "rfm_score", "segment"]
    assert result.index.equals(summary.index)
    assert str(result["r_score"].dtype) == "Int8"
    assert list(result["segment"].cat.categories) == list(SEGMENT_ORDER)


def test_shuffled_rows_get_the_same_scores() -> None:
    summary = make_summary(2_000)
    expected = rfm_scores(summary)
    shuffled = summary.sample(frac=1.0, random_state=SEED)
    result = rfm_scores(shuffled).loc[summary.index]
    pd.testing.assert_frame_equal(result, expected)


def test_rfm_score_concatenates_the_three_scores() -> None:
    result = rfm_scores(make_summary(300))
    expected = (
        result["r_score"].astype(str)
        + result["f_score"].astype(str)
        + result["m_score"].astype(str)
    )
    assert (result["rfm_score"].astype(str) == expected).all()


def test_more_than_nine_bins_joins_scores_with_dashes() -> None:
    summary = summary_of(days_since=list(range(20)), orders=list(range(20)), spend=list(range(20)))
    result = rfm_scores(summary, bins=10)
    assert result["rfm_score"].iloc[0] == "10-1-1"
    assert result["segment"].notna().all()


def test_recency_is_days_since_last_purchase_by_default() -> None:
    summary = pd.DataFrame(
        {"recency": [100.0, 10.0], "T": [110.0, 200.0], "orders": [3, 3], "total_spend": [5, 5]}
    )
    # 10 and 190 days since the last purchase: the first is the more recent
    assert rfm_scores(summary)["r_score"].tolist() == [5, 1]


def test_reference_date_measures_recency_from_last_purchase() -> None:
    summary = pd.DataFrame(
        {
            "last_purchase": pd.to_datetime(["2024-05-30", "2024-01-02", "2024-03-01"]),
            "orders": [1, 1, 1],
            "total_spend": [1, 1, 1],
        }
    )
    result = rfm_scores(summary, reference="2024-06-01")
    assert result["r_score"].tolist() == [5, 1, 3]


def test_reference_date_works_with_timezone_aware_purchases() -> None:
    last = pd.to_datetime(["2024-05-30", "2024-01-02"]).tz_localize("Asia/Jakarta")
    summary = pd.DataFrame({"last_purchase": last, "orders": [1, 2], "total_spend": [1, 2]})
    assert rfm_scores(summary, reference="2024-06-01")["r_score"].tolist() == [5, 1]


def test_columns_are_configurable() -> None:
    summary = make_summary(200)
    summary["days_quiet"] = summary["T"] - summary["recency"]
    by_default = rfm_scores(summary)
    configured = rfm_scores(
        summary, recency_col="days_quiet", frequency_col="frequency", monetary_col="monetary_value"
    )
    assert configured["r_score"].equals(by_default["r_score"])
    expected_m = quantile_scores(summary["monetary_value"].to_numpy())
    assert configured["m_score"].to_numpy().tolist() == expected_m.tolist()


def test_a_missing_column_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="total_spend"):
        rfm_scores(make_summary(5).drop(columns="total_spend"))


def test_missing_values_give_missing_scores_and_segment() -> None:
    summary = summary_of(days_since=[1, 2, 3], orders=[1, 2, 3], spend=[1.0, np.nan, 3.0])
    result = rfm_scores(summary)
    assert result["m_score"].isna().tolist() == [False, True, False]
    assert result["segment"].isna().tolist() == [False, True, False]
    assert result["rfm_score"].isna().tolist() == [False, True, False]


def test_decimal_money_and_nullable_integers_are_accepted() -> None:
    summary = summary_of(days_since=[1, 2, 3], orders=[1, 2, 3], spend=[0, 0, 0])
    summary["orders"] = pd.array([1, 2, None], dtype="Int64")
    summary["total_spend"] = [Decimal("15000.50"), Decimal("20000"), Decimal("5000")]
    result = rfm_scores(summary)
    assert result["m_score"].tolist() == [3, 5, 1]
    assert result["f_score"].isna().tolist() == [False, False, True]


def test_an_empty_summary_gives_an_empty_result() -> None:
    result = rfm_scores(make_summary(0))
    assert result.empty
    assert list(result.columns) == ["r_score", "f_score", "m_score", "rfm_score", "segment"]


# --- segments ------------------------------------------------------------------------------

# rows R = 5..1, columns FM = 1, 1.5, ..., 5 (the map in the rfm module docstring)
EXPECTED_MAP = """
new new pot pot loy loy cha cha cha
pro pro pot pot loy loy cha cha cha
abo abo nee nee nee loy loy loy loy
hib hib hib hib atr atr atr atr atr
los los hib hib atr atr can can can
"""
ABBREVIATIONS = {
    "cha": "champions",
    "loy": "loyal",
    "pot": "potential_loyalist",
    "new": "new",
    "pro": "promising",
    "nee": "need_attention",
    "abo": "about_to_sleep",
    "can": "cant_lose_them",
    "atr": "at_risk",
    "los": "lost",
    "hib": "hibernating",
}


def test_every_one_of_the_125_score_combinations_maps_to_the_documented_segment() -> None:
    grid = [row.split() for row in EXPECTED_MAP.strip().splitlines()]
    r, f, m = (a.ravel() for a in np.indices((5, 5, 5)) + 1)
    segments = rfm_segment(r, f, m)
    assert len(segments) == 125
    for rr, ff, mm, segment in zip(r, f, m, segments, strict=True):
        column = int(ff + mm) - 2  # FM = (F + M) / 2 -> 1, 1.5, ..., 5
        assert segment == ABBREVIATIONS[grid[5 - rr][column]], (rr, ff, mm)


def test_segment_rules_and_order_name_the_same_eleven_segments() -> None:
    assert sorted(rule[0] for rule in SEGMENT_RULES) == sorted(SEGMENT_ORDER)
    assert SEGMENT_RULES[-1][1:] == (-np.inf, np.inf, -np.inf, np.inf)  # the catch-all


def test_average_customers_need_attention_and_slightly_better_ones_are_loyal() -> None:
    assert rfm_segment([3, 3, 3], [3, 3, 4], [3, 4, 3]).tolist() == [
        "need_attention",
        "loyal",
        "loyal",
    ]


def test_every_segment_is_reachable() -> None:
    r, f, m = (a.ravel() for a in np.indices((5, 5, 5)) + 1)
    assert set(rfm_segment(r, f, m)) == set(SEGMENT_ORDER)
    assert len(SEGMENT_ORDER) == 11


@pytest.mark.parametrize("bins", [2, 3, 4, 6, 7, 9, 10])
def test_every_score_combination_has_a_segment_for_any_bins(bins: int) -> None:
    r, f, m = (a.ravel() for a in np.indices((bins,) * 3) + 1)
    segments = rfm_segment(r, f, m, bins=bins)
    assert all(s in SEGMENT_ORDER for s in segments)
    assert rfm_segment([bins], [bins], [bins], bins=bins)[0] == "champions"
    assert rfm_segment([1], [1], [1], bins=bins)[0] == "lost"


def test_scores_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="r_score"):
        rfm_segment([6], [1], [1])


# --- labels --------------------------------------------------------------------------------


def test_every_segment_has_labels_descriptions_and_actions_in_both_languages() -> None:
    for table in (SEGMENT_LABELS, SEGMENT_DESCRIPTIONS, SEGMENT_ACTIONS):
        assert set(table) == set(SEGMENT_ORDER)
        for texts in table.values():
            assert set(texts) == {"id", "en"}
            assert all(text.strip() for text in texts.values())


def test_labels_are_indonesian_by_default_and_english_on_request() -> None:
    assert label("champions") == "Juara"
    assert label("cant_lose_them") == "Jangan Sampai Hilang"
    assert label("cant_lose_them", "en") == "Can't Lose Them"
    assert label("lapsed") == "Tidur"
    assert label("lapsed", "en") == "Lapsed"


def test_shared_codes_have_the_same_label_as_segment_and_stage() -> None:
    for code in set(SEGMENT_LABELS) & set(STAGE_LABELS):
        assert SEGMENT_LABELS[code] == STAGE_LABELS[code]


def test_descriptions_and_actions_can_be_asked_for_the_stage_meaning() -> None:
    assert describe("new", "en", kind="stage") == "First purchase was recent."
    assert describe("new", "en") != describe("new", "en", kind="stage")
    assert suggest_action("lapsed").startswith("Kampanye win-back")


def test_unknown_codes_and_languages_are_refused() -> None:
    with pytest.raises(KeyError, match="unknown"):
        label("vip")
    with pytest.raises(ValueError, match="language"):
        label("champions", "jv")
    with pytest.raises(ValueError, match="kind"):
        label("champions", kind="tier")


def test_rhythm_sentence_tells_usual_gap_and_silence() -> None:
    assert rhythm_sentence(7, 30) == "Biasanya datang tiap 7 hari, sudah 30 hari tidak datang."
    assert rhythm_sentence(7.2, 1, "en") == "Usually comes every 7 days, not seen for 1 day."
    assert rhythm_sentence(1, 0) == "Biasanya datang setiap hari, terakhir datang hari ini."
    assert rhythm_sentence(float("nan"), 3) == ""


def test_stage_labels_are_indonesian_by_default() -> None:
    assert [label(code, kind="stage") for code in STAGE_ORDER] == [
        "Baru",
        "Aktif",
        "Setia",
        "Berisiko",
        "Tidur",
    ]
