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
(``bins`` = 5 gives quintiles; 5 is best) by a *scaled mid-rank*:

1. every value gets its mid-rank ``m`` (the average of the ranks its ties occupy, so equal values
   always share one rank);
2. ``m`` is scaled to ``u = (m - m_lowest) / (m_highest - m_lowest)`` in ``[0, 1]``, where
   ``m_lowest`` and ``m_highest`` are the mid-ranks of the lowest and the highest value;
3. ``score = 1 + floor(bins * u)``, capped at ``bins``.

With distinct values this cuts the customers into ``bins`` equal groups (quintiles); with ties the
lowest value always scores 1 and the highest always ``bins`` (so the many one-time buyers get
F = 1, and the customers who bought today all get the top R). The arithmetic is done on integers
(twice the mid-rank), so the result is exact and does not depend on row order. Special cases: a
metric with a single distinct value carries no ranking and everyone gets the middle score
``(bins + 1) // 2``; a missing (NaN) value gets a missing score and is left out of the ranking.

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


def quantile_scores(values: np.ndarray | pd.Series, bins: int = 5) -> np.ndarray:
    """Score values ``1..bins`` by scaled mid-rank (larger value, larger score).

    Parameters
    ----------
    values : array-like of float
        Values to score; NaN is allowed and gets score 0 (missing).
    bins : int, default 5
        Number of score levels (5 gives quintiles).

    Returns
    -------
    numpy.ndarray of int16
        Scores in ``1..bins``; 0 where the value is missing. Equal values get equal scores and
        the result does not depend on the order of ``values`` (see the module docstring).
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    x = np.asarray(values, dtype=float)
    scores = np.zeros(x.shape, dtype=np.int16)
    valid = ~np.isnan(x)
    if not valid.any():
        return scores
    uniques, inverse, counts = np.unique(x[valid], return_inverse=True, return_counts=True)
    if len(uniques) == 1:
        scores[valid] = (bins + 1) // 2
        return scores
    upper = np.cumsum(counts, dtype=np.int64)  # highest rank each distinct value occupies
    twice_mid = 2 * upper - counts + 1  # lowest + highest rank = twice the mid-rank
    span = twice_mid[-1] - twice_mid[0]
    per_value = 1 + (bins * (twice_mid - twice_mid[0])) // span
    scores[valid] = np.minimum(per_value, bins)[inverse]
    return scores


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
