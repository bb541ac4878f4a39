"""RFM scores (recency, frequency, monetary) and named customer segments.

Metrics
-------
* **Recency** is the number of days since the customer's last purchase (larger is worse). By
  default it is ``T - recency`` in the BTYD summary convention (the summary's time unit, days by
  default); with ``reference`` it is ``reference - last_purchase`` in days; with ``recency_col``
  it is read from that column as is.
* **Frequency** is ``orders`` (all orders, including the first), configurable with
  ``frequency_col`` (``frequency + 1`` counts purchase days instead of orders).
* **Monetary** is ``total_spend`` (money spent over the customer's whole history, the classic
  Hughes definition), configurable with ``monetary_col``. The summary's ``monetary_value`` is not
  the default because it is 0 for every one-time buyer (mean of the *repeat* periods).

Scores
------
Each metric is oriented so that larger is better (recency is negated) and scored ``1..bins``
(``bins`` = 5 gives quintiles; 5 is best). Customers are sorted by value and cut into ``bins``
consecutive groups, score 1 the lowest; a cut may only fall *between tie groups* (the customers
sharing one value), so equal values always share one score, a larger value never gets a smaller
score and the result does not depend on row order. Among the ways to place the ``bins - 1``
cuts that leave no score empty, the one chosen has

1. the smallest sum of squared deviations of the score sizes from ``n / bins`` (the same as the
   smallest sum of squared sizes), and among those
2. the cuts closest to the target positions ``k n / bins`` (smallest sum of squared distances),
   and among those the lowest cuts.

With distinct values this gives exact quintiles (equal groups; when ``n`` is not a multiple of
``bins`` the cuts are the targets rounded, e.g. 7 customers score 1 2 2 3 4 4 5). With ties each
score is as close to ``1/bins`` of the customers as the tie groups allow: a tie group much larger
than ``n / bins`` (the one-time buyers) takes a score alone and the rest share the other scores
as evenly as possible. Worked example, orders of 20 customers (target 4 per score)::

    orders     1 (x10)  2 (x3)  3 (x2)  4 (x2)  5  7  9
    score      1        2       3       4       5  5  5      sizes 10 3 2 2 3

The ten one-time buyers cannot be split, so they take score 1; the other ten are cut 3|2|2|3
(squares 26; 3|2|3|2 is as even but its last cut, after 18 customers, is further from the target
16 than 17). On the CDNOW sample (``frequency + 1`` orders, 2,357 customers) F = 1 is the 59.9%
one-time buyers and F = 2..5 get 18.6%, 9.1%, 6.9% and 5.6%.

The best cuts are found by dynamic programming over the tie-group boundaries, in exact integers,
over every boundary when there are at most 1,024 distinct values. With more (e.g. amounts with
cents) the search runs over the boundaries next to 512 evenly spaced positions and to the targets,
and each cut is then moved to the boundary next to the middle of its neighbours while that improves
the split (checked against the full search: score sizes within 0.1% of ``n`` of the best, and
exact quintiles with distinct values).

Special cases: with fewer distinct values than ``bins`` each value gets its own score, spread
evenly over ``1..bins``: the ``i``-th of ``d`` values (from 0) scores ``1 + round(i (bins - 1) /
(d - 1))``, halves rounded up, so the lowest scores 1 and the highest ``bins`` (two values score
1 and 5, three 1 3 5, four 1 2 4 5). A metric with a single distinct value carries no ranking and
everyone gets the middle score ``(bins + 1) // 2``. A missing (NaN) value gets a missing score
(0) and is left out of the cutting.

Segments
--------
Segments are read from R and ``FM = (F + M) / 2``, both put on the 1-5 scale first
(``1 + 4 (score - 1) / (bins - 1)``; the identity for ``bins = 5``). The rules are checked in
order and the first that matches wins; the last rule matches everything, so each (R, F, M)
combination maps to exactly one segment, for any ``bins``. "Effective" is what a rule is left
with after the rules above it (for ``bins = 5``).

==  ======================  =========  ===========  ====================  ======================
#   segment (code)          R          FM           effective             meaning
==  ======================  =========  ===========  ====================  ======================
1   ``champions``           >= 4       >= 4         R 4-5, FM 4-5         recent, frequent,
                                                                          top spend
2   ``need_attention``      3 to < 4   2 to < 3.5   R 3, FM 2-3           average, slipping
3   ``loyal``               >= 3       >= 3         R 4-5, FM 3-3.5;      buy regularly and
                                                    R 3, FM 3.5-5         spend well
4   ``potential_loyalist``  >= 4       >= 2         R 4-5, FM 2-2.5       recent, average F, M
5   ``new``                 >= 5       any          R 5, FM 1-1.5         just started buying
6   ``promising``           >= 4       any          R 4, FM 1-1.5         recent, few purchases
7   ``about_to_sleep``      >= 3       any          R 3, FM 1-1.5         below average,
                                                                          going quiet
8   ``cant_lose_them``      < 2        >= 4         R 1, FM 4-5           were the best,
                                                                          gone long
9   ``at_risk``             any        >= 3         R 1, FM 3-3.5;        were good, gone
                                                    R 2, FM 3-5           a while
10  ``lost``                < 2        < 2          R 1, FM 1-1.5         lowest on every count
11  ``hibernating``         any        any          R 2, FM 1-2.5;        long gone, little
                                                    R 1, FM 2-2.5         value
==  ======================  =========  ===========  ====================  ======================

The resulting map for ``bins = 5`` (rows R, columns FM)::

    R|FM  1    1.5  2    2.5  3    3.5  4    4.5  5
    5     new  new  pot  pot  loy  loy  cha  cha  cha
    4     pro  pro  pot  pot  loy  loy  cha  cha  cha
    3     abo  abo  nee  nee  nee  loy  loy  loy  loy
    2     hib  hib  hib  hib  atr  atr  atr  atr  atr
    1     los  los  hib  hib  atr  atr  can  can  can

A customer who is average on all three (333) needs attention; a slightly better one (334, 343)
is loyal.
A segment is missing when any of the three scores is missing. Labels, descriptions and suggested
actions (Indonesian and English) are in :mod:`langganan.analytics.labels`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "SEGMENT_ORDER",
    "SEGMENT_RULES",
    "quantile_scores",
    "rfm_scores",
    "rfm_segment",
    "segment_codes",
]

_INF = float("inf")

#: Segment rules in precedence order: (code, R min, R below, FM min, FM below) on the 1-5 scale,
#: lower bounds inclusive, upper bounds exclusive. The first rule that matches wins.
SEGMENT_RULES: tuple[tuple[str, float, float, float, float], ...] = (
    ("champions", 4, _INF, 4, _INF),
    ("need_attention", 3, 4, 2, 3.5),
    ("loyal", 3, _INF, 3, _INF),
    ("potential_loyalist", 4, _INF, 2, _INF),
    ("new", 5, _INF, -_INF, _INF),
    ("promising", 4, _INF, -_INF, _INF),
    ("about_to_sleep", 3, _INF, -_INF, _INF),
    ("cant_lose_them", -_INF, 2, 4, _INF),
    ("at_risk", -_INF, _INF, 3, _INF),
    ("lost", -_INF, 2, -_INF, 2),
    ("hibernating", -_INF, _INF, -_INF, _INF),
)

#: Segment codes in presentation order, best first: the categories of the ``segment`` column.
SEGMENT_ORDER: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
)


#: Up to this many distinct values the cuts are searched over every tie-group boundary (exact);
#: above it over the boundaries next to a grid of :data:`_GRID` shares (see the module docstring).
_EXACT_LIMIT = 1024
_GRID = 512


def quantile_scores(values: np.ndarray | pd.Series, bins: int = 5) -> np.ndarray:
    """Score values ``1..bins`` in groups as equal as the ties allow (larger value, larger score).

    Parameters
    ----------
    values : array-like of float
        Values to score; NaN is allowed and gets score 0 (missing).
    bins : int, default 5
        Number of score levels (5 gives quintiles).

    Returns
    -------
    numpy.ndarray of int16
        Scores in ``1..bins``; 0 where the value is missing. Equal values get equal scores, a
        larger value never a smaller score, and the result does not depend on the order of
        ``values`` (the rule is in the module docstring, section Scores).
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    x = np.asarray(values, dtype=float)
    scores = np.zeros(x.shape, dtype=np.int16)
    valid = ~np.isnan(x)
    if not valid.any():
        return scores
    _, inverse, counts = np.unique(x[valid], return_inverse=True, return_counts=True)
    groups = len(counts)
    if groups == 1:
        per_group = np.array([(bins + 1) // 2])
    elif groups <= bins:  # every value its own score, spread evenly from 1 to bins
        g = np.arange(groups)
        per_group = 1 + (2 * g * (bins - 1) + groups - 1) // (2 * (groups - 1))
    else:
        cuts = _tie_group_cuts(counts, bins)
        per_group = 1 + np.searchsorted(cuts, np.arange(groups), side="right")
    scores[valid] = per_group.astype(np.int16)[inverse.ravel()]
    return scores


def _tie_group_cuts(counts: np.ndarray, bins: int) -> np.ndarray:
    """The ``bins - 1`` cuts (tie-group indices where scores 2..bins start) of the best split.

    Best: the smallest sum of squared score sizes (the same as the smallest sum of squared
    deviations from ``n / bins``), then the cuts closest to ``k n / bins``, then the lowest
    cuts; found by dynamic programming over candidate boundaries, exact integers.
    """
    groups = len(counts)
    below = np.zeros(groups + 1, dtype=np.int64)  # below[j]: values in tie groups 0..j-1
    np.cumsum(counts, out=below[1:])
    n = int(below[-1])
    if groups - 1 <= _EXACT_LIMIT:
        candidates = np.arange(1, groups)
    else:
        targets = np.arange(1, bins) * (n / bins)
        near = np.searchsorted(below, targets)
        around = (near[:, None] + np.arange(1 - bins, bins)).ravel()  # feasibility: >= bins - 1
        grid = np.concatenate([np.linspace(0, n, _GRID + 1), targets])
        lower = np.searchsorted(below, grid, side="right") - 1
        upper = np.searchsorted(below, grid, side="left")
        candidates = np.unique(np.clip(np.concatenate([around, lower, upper]), 1, groups - 1))
    size = below[candidates]  # values below each candidate cut
    later = np.triu(np.ones((len(size), len(size)), dtype=bool), 1)  # [i, j]: cut i before j
    worst = np.int64(2**62)
    # cost: sum of squared sizes of the scores so far; off: sum of (bins * size - k n)^2
    cost = size * size
    off = (bins * size - n) ** 2
    back = []
    for k in range(2, bins):
        step = np.where(later, cost[:, None] + (size[None, :] - size[:, None]) ** 2, worst)
        cost, arg = _lexicographic_min(step, off)
        off = off[arg] + (bins * size - k * n) ** 2
        back.append(arg)
    total = cost + (n - size) ** 2
    last = int(np.lexsort((off, total))[0])
    chosen = [last]
    for arg in reversed(back):
        chosen.append(int(arg[chosen[-1]]))
    cuts = candidates[chosen[::-1]]
    if len(candidates) < groups - 1:
        cuts = _polish(cuts, below, bins)
    return cuts


def _polish(cuts: np.ndarray, below: np.ndarray, bins: int) -> np.ndarray:
    """Move each cut to the tie-group boundary next to the middle of its neighbours while that
    improves the split (same order as :func:`_tie_group_cuts`), over all boundaries."""
    n = int(below[-1])
    ks = np.arange(1, bins)

    def rank(c: np.ndarray) -> tuple[int, int]:
        edges = np.concatenate([[0], below[c], [n]])
        return int((np.diff(edges) ** 2).sum()), int(((bins * below[c] - ks * n) ** 2).sum())

    cuts = cuts.copy()
    best = rank(cuts)
    for _ in range(100):
        moved = False
        for k in range(bins - 1):
            lo = cuts[k - 1] if k else 0
            hi = cuts[k + 1] if k + 1 < bins - 1 else len(below) - 1
            middle = (below[lo] + below[hi]) / 2
            for j in (np.searchsorted(below, middle, "right") - 1, np.searchsorted(below, middle)):
                if lo < j < hi and j != cuts[k]:
                    trial = cuts.copy()
                    trial[k] = j
                    score = rank(trial)
                    if score < best:
                        cuts, best, moved = trial, score, True
        if not moved:
            break
    return cuts


def _lexicographic_min(step: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the smallest ``step`` and the row reaching it (smallest ``off``, then first)."""
    best = step.min(axis=0)
    ties = np.where(step == best, off[:, None], np.iinfo(np.int64).max)
    return best, ties.argmin(axis=0)


def _as_scores(scores: np.ndarray | pd.Series) -> np.ndarray:
    return pd.array(np.asarray(scores), dtype="Int16").fillna(0).to_numpy(dtype=np.int16)


def _on_five_scale(score: np.ndarray, bins: int) -> np.ndarray:
    return 1.0 + 4.0 * (score.astype(float) - 1.0) / (bins - 1)


def segment_codes(
    r_score: np.ndarray | pd.Series,
    f_score: np.ndarray | pd.Series,
    m_score: np.ndarray | pd.Series,
    bins: int = 5,
) -> np.ndarray:
    """Map R, F and M scores to positions in :data:`SEGMENT_ORDER` by :data:`SEGMENT_RULES`.

    Parameters
    ----------
    r_score, f_score, m_score : array-like of int
        Scores in ``1..bins``; 0 or missing marks a missing score.
    bins : int, default 5
        The number of score levels the scores were made with.

    Returns
    -------
    numpy.ndarray of int8
        Index into :data:`SEGMENT_ORDER` of the first rule that matches; -1 where any score is
        missing.
    """
    r, f, m = (_as_scores(s) for s in (r_score, f_score, m_score))
    for name, s in (("r_score", r), ("f_score", f), ("m_score", m)):
        if ((s < 0) | (s > bins)).any():
            raise ValueError(f"{name} must be within 1..{bins}")
    return _segment_table(bins)[r, f, m]


def _segment_table(bins: int) -> np.ndarray:
    """Segment index for every (R, F, M) in ``0..bins`` (0 = missing score -> -1)."""
    r, f, m = (a.ravel() for a in np.indices((bins + 1,) * 3))
    complete = (r > 0) & (f > 0) & (m > 0)
    r5 = _on_five_scale(r, bins)
    fm5 = (_on_five_scale(f, bins) + _on_five_scale(m, bins)) / 2
    codes = np.full(r.shape, -1, dtype=np.int8)
    undecided = complete
    for code, r_min, r_below, fm_min, fm_below in SEGMENT_RULES:
        hit = undecided & (r5 >= r_min) & (r5 < r_below) & (fm5 >= fm_min) & (fm5 < fm_below)
        codes[hit] = SEGMENT_ORDER.index(code)
        undecided &= ~hit
    if undecided.any():  # pragma: no cover - the last rule matches everything
        raise AssertionError("segment rules leave a score combination unmapped")
    return codes.reshape((bins + 1,) * 3)


def rfm_segment(
    r_score: np.ndarray | pd.Series,
    f_score: np.ndarray | pd.Series,
    m_score: np.ndarray | pd.Series,
    bins: int = 5,
) -> np.ndarray:
    """Map R, F and M scores to segment codes by the precedence table in the module docstring.

    Parameters
    ----------
    r_score, f_score, m_score : array-like of int
        Scores in ``1..bins``; 0 or missing marks a missing score.
    bins : int, default 5
        The number of score levels the scores were made with.

    Returns
    -------
    numpy.ndarray of object
        Segment codes (see :data:`SEGMENT_ORDER`); ``None`` where any score is missing.
    """
    labels = np.array([*SEGMENT_ORDER, None], dtype=object)
    return labels[segment_codes(r_score, f_score, m_score, bins)]


def rfm_scores(
    summary: pd.DataFrame,
    recency_col: str | None = None,
    frequency_col: str = "orders",
    monetary_col: str = "total_spend",
    bins: int = 5,
    reference: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Score customers on recency, frequency and monetary value and name their segment.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per customer (the index is kept), with the columns named below and, for the
        default recency, ``recency`` and ``T`` (or ``last_purchase`` with ``reference``).
    recency_col : str, optional
        A column holding days since the last purchase (larger is worse). By default it is
        computed as ``T - recency``, or as ``reference - last_purchase`` when ``reference`` is
        given.
    frequency_col : str, default "orders"
        Column for frequency (larger is better).
    monetary_col : str, default "total_spend"
        Column for monetary value (larger is better); ``"monetary_value"`` scores mean repeat
        spend instead.
    bins : int, default 5
        Number of score levels (5 gives quintiles, 5 is best).
    reference : pandas.Timestamp or str, optional
        The date recency is measured to, used with ``last_purchase``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``summary``, with columns ``r_score``, ``f_score``, ``m_score`` (nullable
        ``Int8``, ``1..bins``), ``rfm_score`` (categorical of strings such as ``"545"``; the
        scores joined by ``"-"`` when ``bins > 9``) and ``segment`` (categorical whose categories
        are :data:`SEGMENT_ORDER`).
        A missing input value gives a missing score, ``rfm_score`` and ``segment``.
    """
    if not 2 <= bins <= 99:
        raise ValueError(f"bins must be between 2 and 99, got {bins}")
    days_since_last = _days_since_last(summary, recency_col, reference)
    frequency = _column(summary, frequency_col)
    monetary = _column(summary, monetary_col)

    r = quantile_scores(-days_since_last, bins)
    f = quantile_scores(frequency, bins)
    m = quantile_scores(monetary, bins)
    segment = segment_codes(r, f, m, bins)

    complete = (r > 0) & (f > 0) & (m > 0)
    code = np.where(complete, ((r - 1) * bins + (f - 1)) * bins + (m - 1), -1)
    sep = "" if bins <= 9 else "-"
    levels = range(1, bins + 1)
    combos = [f"{rr}{sep}{ff}{sep}{mm}" for rr in levels for ff in levels for mm in levels]

    return pd.DataFrame(
        {
            "r_score": pd.arrays.IntegerArray(r.astype(np.int8), r == 0),
            "f_score": pd.arrays.IntegerArray(f.astype(np.int8), f == 0),
            "m_score": pd.arrays.IntegerArray(m.astype(np.int8), m == 0),
            "rfm_score": pd.Categorical.from_codes(code, categories=combos),
            "segment": pd.Categorical.from_codes(segment, categories=list(SEGMENT_ORDER)),
        },
        index=summary.index,
    )


def _column(summary: pd.DataFrame, name: str) -> np.ndarray:
    if name not in summary.columns:
        raise KeyError(f"summary has no column {name!r} (columns: {list(summary.columns)})")
    return pd.to_numeric(summary[name], errors="raise").to_numpy(dtype=float, na_value=np.nan)


def _days_since_last(
    summary: pd.DataFrame, recency_col: str | None, reference: pd.Timestamp | str | None
) -> np.ndarray:
    if recency_col is not None:
        return _column(summary, recency_col)
    if reference is not None:
        if "last_purchase" not in summary.columns:
            raise KeyError("reference needs a 'last_purchase' column in summary")
        last = pd.to_datetime(summary["last_purchase"])
        ref = pd.Timestamp(reference)
        if last.dt.tz is not None and ref.tz is None:
            ref = ref.tz_localize(last.dt.tz)
        delta = (ref - last).to_numpy()
        return delta / np.timedelta64(1, "D")
    return _column(summary, "T") - _column(summary, "recency")
