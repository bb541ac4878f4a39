"""Tests for association rules, cross-sell and up-sell."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.rules import (
    RULE_COLUMNS,
    SUGGESTION_COLUMNS,
    ItemsetCounts,
    association_rules,
    cross_sell,
    cross_sell_for_customer,
    cross_sell_many,
    up_sell,
)

SEED = 20240607

# Five baskets at a warteg, counted by hand:
#   items: nasi 4, ayam 3, teh 3, kopi 1
#   pairs: ayam+nasi 3, nasi+teh 3, ayam+teh 2     triples: ayam+nasi+teh 2
TINY_BASKETS = [
    {"nasi", "ayam", "teh"},
    {"nasi", "ayam"},
    {"nasi", "teh"},
    {"kopi"},
    {"nasi", "ayam", "teh"},
]


def count_itemsets(baskets: list[set[str]]) -> ItemsetCounts:
    """Count items, pairs and triples by brute force (distinct baskets containing each)."""
    counters = [Counter(), Counter(), Counter()]
    for basket in baskets:
        for size, counter in enumerate(counters, start=1):
            counter.update(combinations(sorted(basket), size))
    items = pd.DataFrame([(k[0], v) for k, v in counters[0].items()], columns=["item", "count"])
    pairs = pd.DataFrame(
        [(*k, v) for k, v in counters[1].items()], columns=["item_a", "item_b", "count"]
    )
    triples = pd.DataFrame(
        [(*k, v) for k, v in counters[2].items()], columns=["item_a", "item_b", "item_c", "count"]
    )
    return ItemsetCounts(n_baskets=len(baskets), items=items, pairs=pairs, triples=triples)


def rule(rules: pd.DataFrame, antecedent: tuple[str, ...], consequent: str) -> pd.Series:
    match = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(match) == 1, (antecedent, consequent)
    return match.iloc[0]


def brute_force_rules(
    baskets: list[set[str]], min_support: float, min_confidence: float, min_lift: float
) -> dict[tuple[tuple[str, ...], str], tuple[float, float, float, int, float, float]]:
    n = len(baskets)

    def count(itemset: set[str]) -> int:
        return sum(1 for basket in baskets if itemset <= basket)

    universe = sorted(set().union(*baskets))
    expected = {}
    for size in (2, 3):
        for itemset in combinations(universe, size):
            together = count(set(itemset))
            if together == 0 or together / n < min_support:
                continue
            for consequent in itemset:
                antecedent = tuple(item for item in itemset if item != consequent)
                a_count, c_count = count(set(antecedent)), count({consequent})
                confidence = together / a_count
                lift = confidence / (c_count / n)
                if confidence >= min_confidence and lift >= min_lift:
                    expected[(antecedent, consequent)] = (
                        together / n,
                        confidence,
                        lift,
                        together,
                        a_count / n,
                        c_count / n,
                    )
    return expected


# --- association rules ---------------------------------------------------------------------


def test_rules_match_a_hand_computed_example() -> None:
    rules = association_rules(count_itemsets(TINY_BASKETS), min_support=0, min_lift=0)
    assert list(rules.columns) == list(RULE_COLUMNS)

    ayam_nasi = rule(rules, ("ayam",), "nasi")  # 3 of the 3 baskets with ayam have nasi
    assert ayam_nasi["count"] == 3
    assert ayam_nasi["support"] == pytest.approx(3 / 5)
    assert ayam_nasi["confidence"] == pytest.approx(1.0)
    assert ayam_nasi["lift"] == pytest.approx(1.0 / (4 / 5))
    assert ayam_nasi["antecedent_support"] == pytest.approx(3 / 5)
    assert ayam_nasi["consequent_support"] == pytest.approx(4 / 5)

    nasi_teh = rule(rules, ("nasi",), "teh")  # 3 of the 4 baskets with nasi have teh
    assert nasi_teh["confidence"] == pytest.approx(3 / 4)
    assert nasi_teh["lift"] == pytest.approx((3 / 4) / (3 / 5))

    pair_to_item = rule(rules, ("ayam", "nasi"), "teh")  # 2 of the 3 with ayam and nasi
    assert pair_to_item["count"] == 2
    assert pair_to_item["support"] == pytest.approx(2 / 5)
    assert pair_to_item["confidence"] == pytest.approx(2 / 3)
    assert pair_to_item["lift"] == pytest.approx((2 / 3) / (3 / 5))
    assert pair_to_item["antecedent_support"] == pytest.approx(3 / 5)

    assert len(rules) == 2 * 3 + 3 * 1  # both directions of 3 pairs, 3 rules from the triple


def test_rules_agree_with_brute_force_on_random_baskets() -> None:
    print(f"random seed {SEED}")
    rng = np.random.default_rng(SEED)
    menu = [f"item{i:02d}" for i in range(12)]
    popularity = rng.dirichlet(np.ones(len(menu)) * 0.7)
    baskets = []
    for _ in range(400):
        size = int(rng.integers(1, 6))
        baskets.append(set(rng.choice(menu, size=size, replace=True, p=popularity).tolist()))
    settings = {"min_support": 0.02, "min_confidence": 0.2, "min_lift": 1.05}

    rules = association_rules(count_itemsets(baskets), **settings)
    expected = brute_force_rules(baskets, **settings)

    got = {
        (r.antecedent, r.consequent): (
            r.support,
            r.confidence,
            r.lift,
            r.count,
            r.antecedent_support,
            r.consequent_support,
        )
        for r in rules.itertuples()
    }
    assert len(expected) > 20
    assert any(len(antecedent) == 2 for antecedent, _ in expected)
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert got[key] == pytest.approx(values), key


def test_rules_are_sorted_by_lift_then_confidence() -> None:
    rules = association_rules(count_itemsets(TINY_BASKETS), min_support=0, min_lift=0)
    order = list(zip(-rules["lift"], -rules["confidence"], -rules["count"], strict=True))
    assert order == sorted(order)


def test_thresholds_filter_rules() -> None:
    counts = count_itemsets(TINY_BASKETS)
    assert (association_rules(counts, min_support=0.5, min_lift=0)["support"] >= 0.5).all()
    confident = association_rules(counts, min_support=0, min_confidence=0.9, min_lift=0)
    assert set(confident["consequent"]) == {"nasi"}
    assert association_rules(counts, min_support=0, min_lift=1.2)["lift"].min() >= 1.2


def test_max_size_two_uses_pairs_only() -> None:
    rules = association_rules(count_itemsets(TINY_BASKETS), min_support=0, max_size=2)
    assert rules["antecedent"].map(len).eq(1).all()
    with pytest.raises(ValueError, match="max_size"):
        association_rules(count_itemsets(TINY_BASKETS), max_size=4)


def test_unsorted_pairs_and_a_mapping_are_accepted() -> None:
    counts = count_itemsets(TINY_BASKETS)
    swapped = counts.pairs.rename(columns={"item_a": "item_b", "item_b": "item_a"})
    mapping = {"n_baskets": 5, "items": counts.items, "pairs": swapped, "triples": counts.triples}
    expected = association_rules(counts, min_support=0, min_lift=0)
    pd.testing.assert_frame_equal(association_rules(mapping, min_support=0, min_lift=0), expected)


def test_a_missing_sub_itemset_count_is_a_clear_error() -> None:
    counts = count_itemsets(TINY_BASKETS)
    no_teh = ItemsetCounts(5, counts.items[counts.items["item"] != "teh"], counts.pairs)
    with pytest.raises(ValueError, match="no item count for 'teh'"):
        association_rules(no_teh, min_support=0)
    pairs = counts.pairs[~((counts.pairs["item_a"] == "ayam") & (counts.pairs["item_b"] == "teh"))]
    no_pair = ItemsetCounts(5, counts.items, pairs, counts.triples)
    with pytest.raises(ValueError, match="no pair count"):
        association_rules(no_pair, min_support=0)


def test_empty_counts_give_an_empty_table_with_the_columns() -> None:
    counts = count_itemsets(TINY_BASKETS)
    empty = [
        ItemsetCounts(0, counts.items.iloc[:0], counts.pairs.iloc[:0]),
        ItemsetCounts(5, counts.items, counts.pairs.iloc[:0], None),
        count_itemsets([{"kopi"}, {"teh"}]),  # no basket has two items
    ]
    for c in empty:
        rules = association_rules(c)
        assert rules.empty
        assert list(rules.columns) == list(RULE_COLUMNS)
    assert association_rules(count_itemsets(TINY_BASKETS), min_support=0.99).empty


# --- cross-sell ----------------------------------------------------------------------------


@pytest.fixture
def tiny_rules() -> pd.DataFrame:
    return association_rules(count_itemsets(TINY_BASKETS), min_support=0, min_lift=0)


def test_cross_sell_suggests_consequents_of_rules_inside_the_basket(tiny_rules) -> None:
    result = cross_sell(tiny_rules, ["nasi"])
    assert list(result.columns) == list(SUGGESTION_COLUMNS)
    assert result["item"].tolist() == ["ayam", "teh"]  # equal scores: by item
    assert result["antecedent"].tolist() == [("nasi",), ("nasi",)]
    assert result["score"].iloc[0] == pytest.approx(0.75 * 1.25)


def test_cross_sell_never_suggests_what_is_in_the_basket_or_excluded(tiny_rules) -> None:
    assert cross_sell(tiny_rules, ["nasi", "ayam"])["item"].tolist() == ["teh"]
    assert cross_sell(tiny_rules, ["nasi"], exclude=["ayam"])["item"].tolist() == ["teh"]
    assert cross_sell(tiny_rules, ["nasi", "ayam", "teh"]).empty


def test_cross_sell_keeps_the_best_rule_per_item(tiny_rules) -> None:
    result = cross_sell(tiny_rules, ["ayam", "teh"])
    assert result["item"].tolist() == ["nasi"]
    assert result["confidence"].iloc[0] == pytest.approx(1.0)


def test_cross_sell_returns_at_most_top_items(tiny_rules) -> None:
    assert len(cross_sell(tiny_rules, ["nasi"], top=1)) == 1
    assert cross_sell(tiny_rules, ["nasi"], top=0).empty


def test_cross_sell_ranking_can_be_chosen() -> None:
    rules = pd.DataFrame(
        {
            "antecedent": [("nasi",), ("nasi",)],
            "consequent": ["es teh", "sambal"],
            "support": [0.5, 0.05],
            "confidence": [0.6, 0.3],
            "lift": [1.1, 3.0],
            "count": [50, 5],
            "antecedent_support": [0.8, 0.8],
            "consequent_support": [0.55, 0.1],
        }
    )
    assert cross_sell(rules, ["nasi"], by="confidence")["item"].tolist() == ["es teh", "sambal"]
    assert cross_sell(rules, ["nasi"], by="lift")["item"].tolist() == ["sambal", "es teh"]
    assert cross_sell(rules, ["nasi"])["item"].tolist() == ["sambal", "es teh"]  # 0.9 > 0.66
    with pytest.raises(ValueError, match="by must be"):
        cross_sell(rules, ["nasi"], by="support")


def test_cross_sell_with_no_rules_an_empty_basket_or_unknown_items_is_empty(tiny_rules) -> None:
    for result in (
        cross_sell(association_rules(count_itemsets([{"kopi"}])), ["nasi"]),
        cross_sell(tiny_rules, []),
        cross_sell(tiny_rules, ["rendang"]),
        cross_sell_for_customer(tiny_rules, []),
    ):
        assert result.empty
        assert list(result.columns) == list(SUGGESTION_COLUMNS)


def test_cross_sell_for_a_customer_suggests_what_they_do_not_buy_yet(tiny_rules) -> None:
    result = cross_sell_for_customer(tiny_rules, ["ayam", "nasi"])
    assert result["item"].tolist() == ["teh"]
    assert cross_sell_for_customer(tiny_rules, ["nasi"], exclude=["teh"])["item"].tolist() == [
        "ayam"
    ]


# --- up-sell -------------------------------------------------------------------------------


@pytest.fixture
def drinks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["es teh", "es teh jumbo", "teh tarik", "kopi susu", "jus alpukat", "nasi"],
            "category": ["minuman"] * 5 + ["makanan"],
            "price": [Decimal(n) for n in (5000, 8000, 8000, 15000, 20000, 6000)],
        }
    )


def test_up_sell_suggests_the_next_price_step_not_the_most_expensive(drinks) -> None:
    result = up_sell(drinks, "es teh")
    assert result["item"].tolist() == ["es teh jumbo"]
    assert result["price_step"].tolist() == [Decimal(3000)]
    assert up_sell(drinks, "es teh", top=3)["item"].tolist() == [
        "es teh jumbo",
        "teh tarik",
        "kopi susu",
    ]


def test_up_sell_stays_in_the_category_and_skips_the_item_and_equal_prices(drinks) -> None:
    result = up_sell(drinks, "teh tarik", top=5)
    assert result["item"].tolist() == ["kopi susu", "jus alpukat"]
    assert up_sell(drinks, "nasi").empty


def test_up_sell_gives_nothing_for_the_priciest_or_an_unknown_item(drinks) -> None:
    assert up_sell(drinks, "jus alpukat").empty
    assert up_sell(drinks, "rendang").empty
    assert up_sell(drinks.iloc[:0], "es teh").empty
    assert list(up_sell(drinks, "rendang").columns) == ["item", "category", "price", "price_step"]


def test_up_sell_can_cap_the_price_jump(drinks) -> None:
    assert up_sell(drinks, "teh tarik", top=5, max_ratio=2)["item"].tolist() == ["kopi susu"]
    assert up_sell(drinks, "es teh jumbo", max_ratio=1.5).empty


def test_up_sell_reads_a_name_column_and_float_prices() -> None:
    products = pd.DataFrame(
        {"name": ["potong", "potong + cuci", "creambath"], "category": ["salon"] * 3}
    )
    products["price"] = [30000.0, 45000.0, 80000.0]
    result = up_sell(products, "potong")
    assert result["name"].tolist() == ["potong + cuci"]
    assert result["price_step"].tolist() == [15000.0]
    with pytest.raises(KeyError, match="category"):
        up_sell(products.drop(columns="category"), "potong")


def test_cross_sell_many_suggests_what_cross_sell_suggests_for_each_basket() -> None:
    rng = np.random.default_rng(5)
    print("random seed 5")
    items = [f"item{i}" for i in range(8)]
    baskets = [set(rng.choice(items, size=rng.integers(1, 4), replace=False)) for _ in range(300)]
    from langganan.analytics.baskets import basket_counts

    lines = pd.DataFrame(
        [(i, item) for i, basket in enumerate(baskets) for item in basket],
        columns=["transaction_id", "product"],
    )
    rules = association_rules(basket_counts(lines), min_support=0.01, min_confidence=0.05)
    probes = [set(rng.choice(items, size=rng.integers(0, 4), replace=False)) for _ in range(50)]
    many = cross_sell_many(rules, probes, top=3)
    for basket, suggested in zip(probes, many, strict=True):
        expected = cross_sell_for_customer(rules, sorted(basket), top=3)
        assert suggested == list(expected["item"]), basket
