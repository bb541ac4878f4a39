"""Market-basket counts (items, pairs, triples) for cross-sell and up-sell rules.

Counts are of distinct baskets (transactions): an item appearing on several lines of one basket
counts once. Pairs and triples come from self-joins in SQL (:mod:`.sql.baskets`), run on DuckDB or
Spark; they are restricted to items that themselves reach ``min_count`` (anti-monotonicity: no
pair can be more frequent than its items), which keeps the joins small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import sql
from ._inputs import engine_scope, register_lines, register_params
from .engines import Engine

__all__ = ["BasketCounts", "basket_counts"]


@dataclass(frozen=True)
class BasketCounts:
    """Support counts of items and itemsets.

    Attributes
    ----------
    n_baskets : int
        Distinct transactions with at least one item.
    items : DataFrame
        ``item``, ``count``, ``support`` (count / n_baskets), by count descending then item.
    pairs : DataFrame
        ``item_a``, ``item_b`` (item_a < item_b), ``count``, ``support``.
    triples : DataFrame
        ``item_a`` < ``item_b`` < ``item_c``, ``count``, ``support``.
    """

    n_baskets: int
    items: pd.DataFrame
    pairs: pd.DataFrame
    triples: pd.DataFrame


def _empty(item_columns: list[str]) -> pd.DataFrame:
    frame = {c: pd.Series(dtype="object") for c in item_columns}
    return pd.DataFrame(
        {**frame, "count": pd.Series(dtype="int64"), "support": pd.Series(dtype="float64")}
    )


def basket_counts(
    lines: Any,
    transaction: str = "transaction_id",
    item: str = "product",
    max_size: int = 3,
    min_count: int = 1,
    engine: str | Engine = "duckdb",
) -> BasketCounts:
    """Count the baskets containing each item, pair and (``max_size=3``) triple of items.

    Parameters
    ----------
    lines : DataFrame, pyarrow.Table, DuckDB relation, Spark DataFrame, str or Path
        One row per line item: transaction and item (NULL items are ignored).
    max_size : {1, 2, 3}
        Largest itemset counted; larger sizes are left empty.
    min_count : int
        Only itemsets in at least this many baskets are returned.
    """
    if max_size not in (1, 2, 3):
        raise ValueError(f"max_size must be 1, 2 or 3, got {max_size!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
    with engine_scope(engine) as eng:
        register_lines(eng, lines, transaction=transaction, item=item)
        register_params(eng, "basket_params", min_count=(int, min_count))
        eng.create_view("item_codes", sql.ITEM_CODES, materialize=True)
        eng.create_view("baskets", sql.BASKETS, materialize=True)
        n_baskets = int(
            eng.query("SELECT COUNT(DISTINCT transaction_id) AS n FROM baskets")["n"].iloc[0]
        )
        register_params(eng, "basket_totals", n_baskets=(int, n_baskets))
        items = eng.query(sql.BASKET_ITEMS)
        pairs = _empty(["item_a", "item_b"])
        triples = _empty(["item_a", "item_b", "item_c"])
        if max_size >= 2:
            eng.create_view("frequent_items", sql.FREQUENT_BASKET_ITEMS, materialize=True)
            pairs = eng.query(sql.BASKET_PAIRS)
            if max_size >= 3:
                triples = eng.query(sql.BASKET_TRIPLES)
    return BasketCounts(n_baskets=n_baskets, items=items, pairs=pairs, triples=triples)
