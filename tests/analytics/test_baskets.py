"""basket_counts(): supports of items, pairs and triples on a hand-made basket list."""

from __future__ import annotations

import pandas as pd
import pytest

from langganan.analytics.baskets import BasketCounts, basket_counts


@pytest.fixture
def lines() -> pd.DataFrame:
    baskets = {
        1: ["kopi", "roti", "teh", "kopi"],  # kopi twice: counted once
        2: ["kopi", "roti"],
        3: ["kopi", "roti", "teh"],
        4: ["teh"],
        5: ["es", None],
    }
    rows = [(t, item) for t, items in baskets.items() for item in items]
    return pd.DataFrame(rows, columns=["transaction_id", "product"])


def as_tuples(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame.drop(columns="support").itertuples(index=False)]


def test_counts_distinct_baskets_per_itemset(lines):
    result = basket_counts(lines)
    assert isinstance(result, BasketCounts)
    assert result.n_baskets == 5
    assert as_tuples(result.items) == [("kopi", 3), ("roti", 3), ("teh", 3), ("es", 1)]
    assert as_tuples(result.pairs) == [("kopi", "roti", 3), ("kopi", "teh", 2), ("roti", "teh", 2)]
    assert as_tuples(result.triples) == [("kopi", "roti", "teh", 2)]
    assert result.items["support"].tolist() == [0.6, 0.6, 0.6, 0.2]


def test_min_count_and_max_size(lines):
    result = basket_counts(lines, min_count=3, max_size=2)
    assert as_tuples(result.items) == [("kopi", 3), ("roti", 3), ("teh", 3)]
    assert as_tuples(result.pairs) == [("kopi", "roti", 3)]
    assert result.triples.empty
    only_items = basket_counts(lines, max_size=1)
    assert only_items.pairs.empty and only_items.triples.empty
    assert list(only_items.pairs.columns) == ["item_a", "item_b", "count", "support"]


def test_bad_settings_are_refused(lines):
    with pytest.raises(ValueError, match="max_size"):
        basket_counts(lines, max_size=4)
    with pytest.raises(ValueError, match="min_count"):
        basket_counts(lines, min_count=0)
