"""Association rules from itemset counts, and cross-sell / up-sell suggestions.

Input counts are numbers of distinct baskets containing an itemset: ``n_baskets`` (int),
``items`` (columns ``item``, ``count``), ``pairs`` (``item_a``, ``item_b``, ``count``) and
``triples`` (``item_a``, ``item_b``, ``item_c``, ``count``). For a rule ``X -> y`` over ``n``
baskets::

    support            = count(X + {y}) / n
    antecedent_support = count(X) / n
    consequent_support = count({y}) / n
    confidence         = count(X + {y}) / count(X)
    lift               = confidence / consequent_support

Each pair ``{a, b}`` gives ``a -> b`` and ``b -> a``; each triple ``{a, b, c}`` gives
``{a, b} -> c``, ``{a, c} -> b`` and ``{b, c} -> a``. Consequents are single items; antecedents are
sorted tuples.

Cross-sell ranks the consequents of the rules whose antecedent is inside the basket by
``lift * confidence`` by default (confidence alone favours items everyone buys anyway, such as
iced tea; lift alone favours rare items bought by a handful of baskets; the product rewards
rules that are both likely and specific). Up-sell suggests the next price step up in the same
category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "RULE_COLUMNS",
    "SUGGESTION_COLUMNS",
    "ItemsetCounts",
    "association_rules",
    "cross_sell",
    "cross_sell_for_customer",
    "up_sell",
]

RULE_COLUMNS: tuple[str, ...] = (
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "count",
    "antecedent_support",
    "consequent_support",
)
SUGGESTION_COLUMNS: tuple[str, ...] = ("item", "antecedent", "confidence", "lift", "score")
_RANKINGS = ("lift_confidence", "confidence", "lift")
_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ItemsetCounts:
    """Basket counts, as :func:`association_rules` reads them.

    Any object with these attributes (or a mapping with these keys) is accepted as well.
    """

    n_baskets: int
    items: pd.DataFrame
    pairs: pd.DataFrame
    triples: pd.DataFrame | None = None


def _unpack(counts: Any) -> ItemsetCounts:
    get = counts.get if isinstance(counts, Mapping) else lambda k, d=None: getattr(counts, k, d)
    return ItemsetCounts(
        n_baskets=int(get("n_baskets", 0) or 0),
        items=get("items"),
        pairs=get("pairs"),
        triples=get("triples", None),
    )


def _empty_rules() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in RULE_COLUMNS[:2]})
    for column in RULE_COLUMNS[2:]:
        frame[column] = pd.Series(dtype="int64" if column == "count" else "float64")
    return frame


def _sorted_rows(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Items of each itemset as a 2-D object array, sorted within each row."""
    values = frame[columns].to_numpy(dtype=object)
    return np.array([sorted(row) for row in values], dtype=object).reshape(values.shape)


def _lookup(index: pd.Index, counts: pd.Series, what: str) -> np.ndarray:
    found = counts.reindex(index)
    if found.isna().any():
        missing = index[np.flatnonzero(found.isna().to_numpy())[0]]
        raise ValueError(f"counts have no {what} count for {missing!r}, needed by a larger itemset")
    return found.to_numpy(dtype=float)


def association_rules(
    counts: ItemsetCounts | Mapping[str, Any] | Any,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    min_lift: float = 1.0,
    max_size: int = 3,
) -> pd.DataFrame:
    """Build association rules from item, pair and triple basket counts.

    Parameters
    ----------
    counts : ItemsetCounts or mapping or object
        ``n_baskets``, ``items``, ``pairs`` and (optionally) ``triples``, see the module
        docstring. Every pair inside a listed triple, and every item inside a listed pair, must
        have its own count.
    min_support : float, default 0.01
        Minimum support of antecedent and consequent together.
    min_confidence : float, default 0.1
        Minimum confidence.
    min_lift : float, default 1.0
        Minimum lift.
    max_size : int, default 3
        Largest itemset a rule is built from: 2 uses pairs only, 3 adds triples.

    Returns
    -------
    pandas.DataFrame
        Columns ``antecedent`` (sorted tuple), ``consequent``, ``support``, ``confidence``,
        ``lift``, ``count`` (baskets with antecedent and consequent), ``antecedent_support``,
        ``consequent_support``; sorted by lift, confidence and count (descending), then
        antecedent and consequent. Empty (with these columns) when nothing qualifies.

    Raises
    ------
    ValueError
        When a needed sub-itemset count is missing, or for a bad ``max_size``.
    """
    if max_size not in (2, 3):
        raise ValueError(f"max_size must be 2 or 3, got {max_size}")
    c = _unpack(counts)
    n = c.n_baskets
    if n <= 0 or c.pairs is None or len(c.pairs) == 0 or c.items is None or len(c.items) == 0:
        return _empty_rules()
    item_counts = c.items.groupby("item", sort=False)["count"].max()
    min_count = min_support * n * (1 - _TOLERANCE)

    parts: list[dict[str, Any]] = []
    pairs = c.pairs[c.pairs["count"] >= min_count]
    if len(pairs):
        ab = _sorted_rows(pairs, ["item_a", "item_b"])
        count = pairs["count"].to_numpy(dtype=float)
        for x, y in ((0, 1), (1, 0)):
            parts.append(
                {
                    "antecedent": [(item,) for item in ab[:, x]],
                    "consequent": ab[:, y],
                    "count": count,
                    "antecedent_count": _lookup(pd.Index(ab[:, x]), item_counts, "item"),
                    "consequent_count": _lookup(pd.Index(ab[:, y]), item_counts, "item"),
                }
            )
    triples = c.triples if max_size >= 3 and c.triples is not None else None
    if triples is not None and len(triples):
        triples = triples[triples["count"] >= min_count]
    if triples is not None and len(triples):
        abc = _sorted_rows(triples, ["item_a", "item_b", "item_c"])
        count = triples["count"].to_numpy(dtype=float)
        pair_rows = _sorted_rows(c.pairs, ["item_a", "item_b"])
        pair_counts = pd.Series(
            c.pairs["count"].to_numpy(dtype=float),
            index=pd.MultiIndex.from_arrays([pair_rows[:, 0], pair_rows[:, 1]]),
        )
        pair_counts = pair_counts.groupby(level=[0, 1], sort=False).max()
        for x, y, z in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
            antecedent = pd.MultiIndex.from_arrays([abc[:, x], abc[:, y]])
            parts.append(
                {
                    "antecedent": list(zip(abc[:, x], abc[:, y], strict=True)),
                    "consequent": abc[:, z],
                    "count": count,
                    "antecedent_count": _lookup(antecedent, pair_counts, "pair"),
                    "consequent_count": _lookup(pd.Index(abc[:, z]), item_counts, "item"),
                }
            )
    if not parts:
        return _empty_rules()

    rules = pd.concat([pd.DataFrame(part) for part in parts], ignore_index=True)
    rules["support"] = rules["count"] / n
    rules["antecedent_support"] = rules["antecedent_count"] / n
    rules["consequent_support"] = rules["consequent_count"] / n
    rules["confidence"] = rules["count"] / rules["antecedent_count"]
    rules["lift"] = rules["confidence"] / rules["consequent_support"]
    keep = (rules["confidence"] >= min_confidence - _TOLERANCE) & (
        rules["lift"] >= min_lift - _TOLERANCE
    )
    rules = rules.loc[keep, list(RULE_COLUMNS)]
    rules["count"] = rules["count"].astype("int64")
    rules = rules.sort_values(["antecedent", "consequent"], kind="stable")
    rules = rules.sort_values(
        ["lift", "confidence", "count"], ascending=False, kind="stable"
    ).reset_index(drop=True)
    return rules


def _empty_suggestions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": pd.Series(dtype=object),
            "antecedent": pd.Series(dtype=object),
            "confidence": pd.Series(dtype="float64"),
            "lift": pd.Series(dtype="float64"),
            "score": pd.Series(dtype="float64"),
        }
    )


def _ranked(rules: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rules best first by ``by``; ties by confidence, then count, then item."""
    score = {
        "lift_confidence": rules["lift"] * rules["confidence"],
        "confidence": rules["confidence"],
        "lift": rules["lift"],
    }[by]
    ranked = rules.assign(item=rules["consequent"], score=score)
    return ranked.sort_values("item", kind="stable").sort_values(
        ["score", "confidence", "count"], ascending=False, kind="stable"
    )


def cross_sell(
    rules: pd.DataFrame,
    basket: Iterable[Any],
    exclude: Iterable[Any] = (),
    top: int = 3,
    by: str = "lift_confidence",
) -> pd.DataFrame:
    """Suggest items to add to a basket, from the rules that apply to it.

    Parameters
    ----------
    rules : pandas.DataFrame
        Output of :func:`association_rules`.
    basket : iterable
        Items in the basket. A rule applies when all its antecedent items are in the basket.
    exclude : iterable, default ()
        Items never to suggest (e.g. what the customer usually buys); items in the basket are
        never suggested either.
    top : int, default 3
        Number of suggestions at most.
    by : {"lift_confidence", "confidence", "lift"}, default "lift_confidence"
        Ranking score; ties are broken by confidence, then count, then item.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``antecedent`` (the rule that gave the best score, the "because"),
        ``confidence``, ``lift``, ``score``; one row per item, best first. Empty with no rules,
        an empty basket, or a basket no rule applies to.
    """
    if by not in _RANKINGS:
        raise ValueError(f"by must be one of {_RANKINGS}, got {by!r}")
    if top < 0:
        raise ValueError("top must be >= 0")
    in_basket = set(basket)
    blocked = in_basket | set(exclude)
    if rules is None or len(rules) == 0 or not in_basket or top == 0:
        return _empty_suggestions()
    applies = np.fromiter(
        (
            consequent not in blocked and all(item in in_basket for item in antecedent)
            for antecedent, consequent in zip(rules["antecedent"], rules["consequent"], strict=True)
        ),
        dtype=bool,
        count=len(rules),
    )
    hits = rules.loc[applies]
    if hits.empty:
        return _empty_suggestions()
    best = _ranked(hits, by).drop_duplicates("item", keep="first").head(top)
    return best[list(SUGGESTION_COLUMNS)].reset_index(drop=True)


def cross_sell_many(
    rules: pd.DataFrame,
    baskets: Iterable[Iterable[Any]],
    top: int = 3,
    by: str = "lift_confidence",
) -> list[list[Any]]:
    """The items :func:`cross_sell` would suggest, for many baskets at once.

    The rules are ranked once; each basket then walks the ranked rules in plain Python, which
    is what makes scoring every customer of a merchant cheap. Each basket's items are never
    suggested (as for a customer's usual items).

    Returns
    -------
    list of list
        For each basket, the suggested items, best first, in the same order as the ``item``
        column of :func:`cross_sell`.
    """
    if by not in _RANKINGS:
        raise ValueError(f"by must be one of {_RANKINGS}, got {by!r}")
    baskets = [set(b) for b in baskets]
    if rules is None or len(rules) == 0 or top <= 0:
        return [[] for _ in baskets]
    ranked = _ranked(rules, by)
    ordered = [
        (frozenset(antecedent), consequent)
        for antecedent, consequent in zip(ranked["antecedent"], ranked["consequent"], strict=True)
    ]
    out: list[list[Any]] = []
    for basket in baskets:
        picked: list[Any] = []
        if basket:
            for antecedent, consequent in ordered:
                if consequent in basket or consequent in picked or not antecedent <= basket:
                    continue
                picked.append(consequent)
                if len(picked) == top:
                    break
        out.append(picked)
    return out


def cross_sell_for_customer(
    rules: pd.DataFrame,
    usual_items: Iterable[Any],
    top: int = 3,
    exclude: Iterable[Any] = (),
    by: str = "lift_confidence",
) -> pd.DataFrame:
    """Suggest items a customer does not buy yet, from the items they usually buy.

    Parameters
    ----------
    rules : pandas.DataFrame
        Output of :func:`association_rules`.
    usual_items : iterable
        The customer's usual items; they act as the basket and are never suggested.
    top : int, default 3
        Number of suggestions at most.
    exclude : iterable, default ()
        Further items never to suggest.
    by : {"lift_confidence", "confidence", "lift"}, default "lift_confidence"
        Ranking score, as in :func:`cross_sell`.

    Returns
    -------
    pandas.DataFrame
        As :func:`cross_sell`.
    """
    usual = list(usual_items)
    return cross_sell(rules, usual, exclude=[*usual, *exclude], top=top, by=by)


def up_sell(
    products: pd.DataFrame,
    item: Any,
    top: int = 1,
    *,
    item_col: str | None = None,
    max_ratio: float | None = None,
) -> pd.DataFrame:
    """Suggest the next pricier item in the same category.

    Parameters
    ----------
    products : pandas.DataFrame
        One row per item with an item column (``item``, else ``name``), ``category`` and
        ``price`` (numbers or ``Decimal``). A duplicated item keeps its first row; items with a
        missing price or category are never suggested.
    item : object
        The item bought.
    top : int, default 1
        Number of suggestions at most, nearest price step first.
    item_col : str, optional
        Name of the item column when it is neither ``item`` nor ``name``.
    max_ratio : float, optional
        Suggest nothing priced above ``max_ratio`` times the item's price.

    Returns
    -------
    pandas.DataFrame
        The suggested products' rows (all columns of ``products``) plus ``price_step`` (price
        minus the item's price), cheapest first, ties by item. Empty when the item is unknown,
        has no price or category, or nothing in its category costs more.
    """
    if item_col is None:
        item_col = "item" if "item" in products.columns else "name"
    for column in (item_col, "category", "price"):
        if column not in products.columns:
            raise KeyError(f"products has no column {column!r}")
    catalogue = products.drop_duplicates(item_col, keep="first")
    catalogue = catalogue[catalogue["price"].notna() & catalogue["category"].notna()]
    base = catalogue[catalogue[item_col] == item]
    empty = catalogue.iloc[0:0].assign(price_step=pd.Series(dtype=object))
    if base.empty or top <= 0:
        return empty.reset_index(drop=True)
    category, price = base["category"].iloc[0], base["price"].iloc[0]
    pricier = catalogue[
        (catalogue["category"] == category)
        & (catalogue[item_col] != item)
        & (catalogue["price"] > price)
    ]
    if max_ratio is not None:
        pricier = pricier[[bool(price > 0 and p / price <= max_ratio) for p in pricier["price"]]]
    if pricier.empty:
        return empty.reset_index(drop=True)
    pricier = pricier.sort_values(item_col, kind="stable").sort_values("price", kind="stable")
    pricier = pricier.head(top).assign(price_step=[p - price for p in pricier["price"].head(top)])
    return pricier.reset_index(drop=True)
