"""The whole engine in one call: transactions in, per-customer and merchant-level insights out.

Steps (each timed, each reported to ``progress``):

1. ``summary``   per-customer frequency, recency, T, monetary value (SQL, days);
2. ``rhythm``    typical weekday, hour, time of month, gaps (SQL);
3. ``usual``     each customer's usual order (SQL);
4. ``baskets``   item, pair and triple counts (SQL) → association rules;
5. ``cohorts``   retention by first-purchase month and new vs returning revenue (SQL);
6. ``rfm``       R, F, M scores and segments;
7. ``models``    MBG/CNBD-k, Pareto/NBD and BG/NBD fitted with priors, tested on the
                 merchant's own holdout, the best chosen (:mod:`.purchase_models`): probability
                 active, expected purchases, Gamma-Gamma spend, CLV, with 80 % intervals;
8. ``lifecycle`` new / active / loyal / at risk / lapsed from each customer's own rhythm and
                 probability active; the named segment from the stage (:mod:`.consistency`);
                 habits, the usual order and the next visit only with enough evidence
                 (:mod:`.evidence`);
9. ``suggest``   cross-sell from the rules and the customer's usual items; up-sell within the
                 category of their favourite item.

Work is shared between steps: the summary and the rhythm come from one pass over the
transactions (one window sort), both cohort tables from one per-(customer, month) table, and on
DuckDB the usual order and the basket counts from one grouping of the lines by transaction into
item bitmasks (see :mod:`.sql.pipeline`); the results are those of the public functions.

A model that cannot be fitted (too few customers, nobody repeats) is reported in ``models``
with its error, and its columns are left empty (``clv_note`` says why); the rest of the pipeline
still runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ._inputs import (
    as_local_datetime,
    drop_view,
    register_lines,
    register_params,
    register_transactions,
)
from .accuracy import holdout_data, holdout_days
from .baskets import BasketCounts, basket_counts
from .btyd.priors import Prior
from .cohorts import cohort_tables
from .consistency import segment_for_stage
from .engines import Engine, arrow_to_pandas, get_engine
from .evidence import EvidenceRules, apply_evidence, usual_with_evidence
from .habits import RHYTHM_COLUMNS, usual_order
from .lifecycle import lifecycle_stage
from .purchase_models import fit_and_predict
from .rfm import rfm_scores
from .rules import association_rules, cross_sell_many, up_sell
from .sql import pipeline as shared_sql
from .summary import SUMMARY_COLUMNS, observation_period_attr

STEPS = (
    "summary",
    "rhythm",
    "usual",
    "baskets",
    "cohorts",
    "rfm",
    "models",
    "lifecycle",
    "suggest",
)


@dataclass(frozen=True)
class PipelineSettings:
    """What the pipeline computes and how; every field has a sensible default for a café."""

    observation_end: datetime | None = None
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    margin: float = 1.0
    usual_top: int = 3
    min_support: float = 0.005
    min_confidence: float = 0.1
    min_lift: float = 1.0
    suggestions: int = 3
    fit_pareto: bool = True
    #: priors per model ("mbg_cnbd", "pareto_nbd", "bg_nbd"); the documented default otherwise
    priors: dict[str, Prior] | None = None
    #: test the models on a holdout of the merchant's own history and choose by it
    holdout: bool = True
    #: fit the models on a random sample of this many customers when there are more
    fit_sample: int = 100_000
    #: posterior draws for the 80 % intervals of P(active) and CLV (0: none) ...
    interval_draws: int = 30
    #: ... computed up to this many customers
    interval_max_customers: int = 20_000
    evidence: EvidenceRules = field(default_factory=EvidenceRules)
    seed: int = 0
    #: DuckDB's memory limit (e.g. "1GB"); beyond it DuckDB spills to disk instead of growing
    duckdb_memory_limit: str | None = None


@dataclass
class PipelineResult:
    customers: pd.DataFrame
    usual: pd.DataFrame
    rules: pd.DataFrame
    cohorts: pd.DataFrame
    revenue_mix: pd.DataFrame
    models: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def _suggestions(
    usual: pd.DataFrame, rules: pd.DataFrame, products: pd.DataFrame | None, top: int
) -> tuple[pd.Series, pd.Series]:
    """Cross-sell and up-sell per customer.

    Customers share a handful of usual-item combinations, so each distinct combination (and
    each distinct favourite item) is looked up once and the answers are spread back by code.
    """
    empty = pd.Series(dtype=object)
    if usual.empty:
        return empty, empty
    # Code each customer's (item 1, item 2, …) by integers, without pivoting: factorise the
    # customers and the items once, then build a mixed-radix key of the item codes by rank
    # (0 = no item at that rank).
    owner, customers = pd.factorize(usual["customer_id"])
    item_code, items = pd.factorize(usual["item"])
    ranks = usual["rank"].to_numpy(dtype=np.int64)
    radix = len(items) + 1
    depth = int(ranks.max())
    if radix**depth >= 2**62:  # pragma: no cover - thousands of items and a long "usual"
        raise ValueError("too many items for the usual-order key")
    key = np.zeros(len(customers), dtype=np.int64)
    for r in range(1, depth + 1):
        at = ranks == r
        key[owner[at]] += (item_code[at] + 1) * radix ** (depth - r)
    codes, combo_keys = pd.factorize(key)
    names = np.asarray(items, dtype=object)
    combos = []
    for combo in np.asarray(combo_keys, dtype=np.int64):
        digits = [(int(combo) // radix ** (depth - r)) % radix for r in range(1, depth + 1)]
        combos.append([str(names[d - 1]) for d in digits if d])
    answers = np.empty(len(combos), dtype=object)
    answers[:] = cross_sell_many(rules, combos, top=top)
    index = pd.Index(customers, name="customer_id")
    cross = pd.Series(answers[codes], index=index)
    upsell = empty
    if products is not None and len(products):
        first = ranks == 1
        favourite = np.full(len(customers), -1, dtype=np.int64)
        favourite[owner[first]] = item_code[first]
        steps = np.empty(len(names) + 1, dtype=object)
        steps[:] = [[] for _ in range(len(names) + 1)]  # last slot: no favourite
        for code, item in enumerate(names):
            found = up_sell(products, item, top=1)
            steps[code] = [] if found.empty else [str(v) for v in found.iloc[:, 0]]
        upsell = pd.Series(steps[favourite], index=index)
    return cross, upsell


def _lists(values: pd.Series, index: pd.Index) -> np.ndarray:
    """``values`` (lists) aligned on ``index``; an empty list where there is none."""
    empty = np.empty(1, dtype=object)
    empty[0] = []
    out = np.repeat(empty, len(index))  # one shared (never mutated) empty list
    if len(values):
        pos = index.get_indexer(values.index)
        found = values.to_numpy()
        keep = (pos >= 0) & ~pd.isna(found)
        out[pos[keep]] = found[keep]
    return out


#: Above this many multiply-adds the basket triples are left to the public SQL (see _lines_shared).
_MASK_WORK_LIMIT = 4e9


def _arrow(eng: Engine, query: str) -> pa.Table:
    return eng.connection.sql(query).to_arrow_table()


def _usual_from_counts(table: pa.Table, codes: pa.Table, top: int) -> pd.DataFrame:
    """The usual order (as :func:`usual_order` returns it) from per-customer item counts.

    Each item's count is encoded as ``times * n_codes + (n_codes - 1 - code)``: unique within a
    customer, larger for more transactions and, on ties, for the smaller code (= the smaller
    item). The ``top`` largest keys per customer are kept by insertion, one column at a time.
    """
    n_codes = codes.num_rows
    n = table.column("n_transactions").to_numpy()
    slots = min(top, n_codes)
    best = [np.full(len(n), -1, dtype=np.int64) for _ in range(slots)]
    for k in range(n_codes):
        key = table.column(f"t{k}").to_numpy().astype(np.int64)
        key *= n_codes
        key += n_codes - 1 - k
        for r in range(slots):  # insert key into best[r:], pushing smaller keys down
            larger = key > best[r]
            key, best[r] = np.where(larger, best[r], key), np.where(larger, key, best[r])
    keys = np.column_stack(best)
    del best
    times = keys // n_codes
    valid = times > 0
    owner = np.broadcast_to(np.arange(len(n))[:, None], keys.shape)[valid]
    rank = np.broadcast_to(np.arange(1, slots + 1), keys.shape)[valid]
    code = n_codes - 1 - keys[valid] % n_codes
    times = times[valid]
    n_owner = n[owner].astype(np.int64)
    result = pa.table(
        {
            "customer_id": table.column("customer_id").take(pa.array(owner)),
            "rank": pa.array(rank, pa.int64()),
            "item": codes.column("item").take(pa.array(code)),
            "times": pa.array(times),
            "share": pa.array(times.astype(np.float64) / n_owner.astype(np.float64)),
            "n_transactions": pa.array(n_owner),
        }
    )
    return arrow_to_pandas(result)


def _itemsets(codes: pa.Table, n_baskets: int, columns: list[np.ndarray], count: np.ndarray):
    """An items / pairs / triples frame (as :func:`basket_counts` returns it), sorted by count
    (descending) then items; codes are numbered in item order."""
    order = np.lexsort((*reversed(columns), -count))
    names = ["item"] if len(columns) == 1 else ["item_a", "item_b", "item_c"][: len(columns)]
    data = {
        name: codes.column("item").take(pa.array(c[order], pa.int64()))
        for name, c in zip(names, columns, strict=True)
    }
    data["count"] = pa.array(count[order], pa.int64())
    data["support"] = pa.array(count[order].astype(np.float64) / n_baskets, pa.float64())
    return arrow_to_pandas(pa.table(data))


def _baskets_from_masks(masks: pa.Table, codes: pa.Table) -> BasketCounts:
    """Item, pair and triple counts (``min_count`` 1) from the number of baskets per item mask.

    The counts are sums of products of 0/1 bits weighted by basket counts, computed as matrix
    products in float64: every partial sum is an integer below 2**53, so they are exact.
    """
    n_codes = codes.num_rows
    mask = masks.column("mask").to_numpy()
    weight = masks.column("n").to_numpy()
    n_baskets = int(weight.sum())
    bits = ((mask[:, None] >> np.arange(n_codes)) & 1).astype(np.float64)
    weighted = bits * weight[:, None].astype(np.float64)
    singles = np.rint(weighted.sum(axis=0)).astype(np.int64)
    pairs = np.rint(bits.T @ weighted).astype(np.int64)
    a, b, c = [], [], []
    counts = []
    for first in range(n_codes - 2):
        rest = np.rint(bits.T @ (weighted * bits[:, [first]])).astype(np.int64)
        j, k = np.nonzero(np.triu(rest, 1))
        keep = j > first
        j, k = j[keep], k[keep]
        a.append(np.full(len(j), first))
        b.append(j)
        c.append(k)
        counts.append(rest[j, k])
    ia = np.flatnonzero(singles)
    pa_, pb = np.nonzero(np.triu(pairs, 1))

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)

    return BasketCounts(
        n_baskets=n_baskets,
        items=_itemsets(codes, n_baskets, [ia], singles[ia]),
        pairs=_itemsets(codes, n_baskets, [pa_, pb], pairs[pa_, pb]),
        triples=_itemsets(codes, n_baskets, [cat(a), cat(b), cat(c)], cat(counts)),
    )


def _lines_shared(
    eng: Engine, lines: Any, *, customer: str, transaction: str, item: str, top: int
) -> tuple[pd.DataFrame, BasketCounts] | None:
    """The usual order and the basket counts from one grouping of the lines by transaction.

    Same results as :func:`usual_order` (renamed to ``customer_id``) and :func:`basket_counts`
    (``max_size=3``, ``min_count=1``); see :mod:`.sql.pipeline`. ``None`` when this path does
    not apply (not DuckDB, no items or more than 63, a bad ``top``): the public functions run.
    """
    if getattr(eng, "name", None) != "duckdb" or not hasattr(eng, "connection"):
        return None
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        return None
    register_lines(
        eng,
        lines,
        customer=customer,
        transaction=transaction,
        item=item,
        keep_missing_customer=True,
    )
    eng.create_view("line_item_codes", shared_sql.LINE_ITEM_CODES, materialize=True)
    try:
        codes = _arrow(eng, "SELECT item, code FROM line_item_codes ORDER BY code")
        if not 0 < codes.num_rows <= 63:
            return None
        eng.create_view("transaction_masks", shared_sql.TRANSACTION_MASKS, materialize=True)
        masks = _arrow(eng, shared_sql.MASK_COUNTS)
        if masks.num_rows * codes.num_rows**3 > _MASK_WORK_LIMIT:
            return None
        counts = _arrow(eng, shared_sql.customer_item_counts(codes.num_rows))
        drop_view(eng, "transaction_masks")
        usual = _usual_from_counts(counts, codes, top)
        del counts
        return usual, _baskets_from_masks(masks, codes)
    finally:
        drop_view(eng, "transaction_masks")
        drop_view(eng, "line_item_codes")


def _summary_and_rhythm(
    eng: Engine,
    transactions: Any,
    *,
    customer: str,
    timestamp: str,
    amount: str,
    end: Any,
    holdout: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`summarize` (days) and :func:`purchase_rhythm` from one pass (one window sort) over
    the transactions; the rhythm only for the summary's customers (all the pipeline keeps).

    The third frame holds ``litt`` and, with ``holdout``, the calibration columns of
    :mod:`.accuracy` (``attrs["holdout_days"]``: the holdout's length, None for no test)."""
    register_transactions(eng, transactions, customer=customer, timestamp=timestamp, amount=amount)
    end = as_local_datetime(end)
    calibration_end = None
    days = None
    if holdout:
        first, last = eng.query(shared_sql.TIME_SPAN).iloc[0]
        if pd.notna(first):
            stop = pd.Timestamp(end if end is not None else last).normalize()
            days = holdout_days((stop - pd.Timestamp(first).normalize()).days)
            if days is not None:
                calibration_end = (stop - pd.Timedelta(days=days)).to_pydatetime()
    register_params(
        eng,
        "summary_params",
        observation_end=(datetime, end),
        period=(str, "D"),
        unit_days=(int, 1),
        calibration_end=(datetime, calibration_end),
    )
    both = eng.query(shared_sql.SUMMARY_AND_RHYTHM).set_index("customer_id")
    observation_period = both.pop("observation_period")
    summary = both[list(SUMMARY_COLUMNS)]
    summary.attrs.update(
        observation_period=observation_period_attr(observation_period),
        period="D",
        unit_days=1,
    )
    rhythm = both[[c for c in RHYTHM_COLUMNS if c != "last_purchase"]]
    extra = both[list(shared_sql.MODEL_COLUMNS)]
    extra.attrs["holdout_days"] = days
    return summary, rhythm, extra


def run_pipeline(
    transactions: Any,
    lines: Any = None,
    products: pd.DataFrame | None = None,
    *,
    customer: str = "customer_id",
    timestamp: str = "occurred_at",
    amount: str = "total",
    transaction: str = "transaction_id",
    item: str = "product",
    settings: PipelineSettings | None = None,
    engine: str = "duckdb",
    progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run every step on ``transactions`` (and ``lines`` for habits and baskets).

    Parameters
    ----------
    transactions
        One row per sale: customer, timestamp (local wall-clock time), amount. Any input that
        :func:`~langganan.analytics.summary.summarize` accepts.
    lines
        One row per line item: transaction, customer (may be empty for walk-ins), item.
    products
        ``item``, ``category``, ``price`` for up-selling.
    settings
        :class:`PipelineSettings`.
    engine
        ``"duckdb"`` (default) or ``"spark"``.
    progress
        Called with each step's name as it starts.
    """
    settings = settings or PipelineSettings()
    options = {}
    if engine == "duckdb" and settings.duckdb_memory_limit:
        options["memory_limit"] = settings.duckdb_memory_limit
    eng = get_engine(engine, **options)
    timings: dict[str, float] = {}
    running: list = []  # [step name, start time] of the step under way

    def step(name: str | None) -> None:
        now = time.perf_counter()
        if running:
            timings[running[0]] = round(now - running[1], 4)
        running[:] = [name, now] if name else []
        if name and progress:
            progress(name)

    step("summary")
    summary, rhythm, extra = _summary_and_rhythm(
        eng,
        transactions,
        customer=customer,
        timestamp=timestamp,
        amount=amount,
        end=settings.observation_end,
        holdout=settings.holdout,
    )
    summary.index.name = "customer_id"
    rhythm.index.name = "customer_id"
    step("rhythm")  # computed with the summary
    step("usual")
    usual = pd.DataFrame(columns=["customer_id", "rank", "item", "times", "share"])
    rules = pd.DataFrame()
    shared = None
    if lines is not None:
        shared = _lines_shared(
            eng,
            lines,
            customer=customer,
            transaction=transaction,
            item=item,
            top=settings.usual_top,
        )
    if shared is not None:
        usual, counts = shared
    elif lines is not None:
        usual = usual_order(
            lines,
            customer=customer,
            item=item,
            transaction=transaction,
            top=settings.usual_top,
            engine=eng,
        )
        usual = usual.rename(columns={customer: "customer_id"})
    step("baskets")
    if lines is not None:
        if shared is None:
            counts = basket_counts(
                lines, transaction=transaction, item=item, max_size=3, engine=eng
            )
        rules = association_rules(
            counts,
            min_support=settings.min_support,
            min_confidence=settings.min_confidence,
            min_lift=settings.min_lift,
        )
    step("cohorts")
    cohorts, mix = cohort_tables(
        transactions,
        customer=customer,
        timestamp=timestamp,
        amount=amount,
        engine=eng,
        observation_end=settings.observation_end,
    )
    step("rfm")
    customers = summary.join(rhythm.drop(columns=["last_purchase"], errors="ignore"), how="left")
    scores = rfm_scores(summary)
    customers = customers.join(scores)
    step("models")
    f = summary["frequency"].to_numpy(dtype=float)
    r = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    outcome = fit_and_predict(
        frequency=f,
        recency=r,
        T=T,
        litt=extra["litt"].to_numpy(dtype=float),
        monetary_value=summary["monetary_value"].to_numpy(dtype=float),
        total_spend=summary["total_spend"].to_numpy(dtype=float),
        orders=summary["orders"].to_numpy(dtype=float),
        holdout=holdout_data(extra, extra.attrs.get("holdout_days")),
        priors=settings.priors,
        fit_pareto=settings.fit_pareto,
        horizon_months=settings.horizon_months,
        monthly_discount_rate=settings.monthly_discount_rate,
        margin=settings.margin,
        fit_sample=settings.fit_sample,
        interval_draws=settings.interval_draws,
        interval_max_customers=settings.interval_max_customers,
        seed=settings.seed,
    )
    models: dict[str, Any] = outcome.reports
    customers["litt"] = extra["litt"].to_numpy(dtype=float)
    customers["p_alive"] = outcome.p_alive
    customers["p_alive_low"] = outcome.p_alive_low
    customers["p_alive_high"] = outcome.p_alive_high
    customers["expected_purchases_30"] = outcome.expected_30
    customers["expected_purchases_90"] = outcome.expected_90
    customers["clv"] = outcome.clv
    customers["clv_low"] = outcome.clv_low
    customers["clv_high"] = outcome.clv_high
    customers["clv_note"] = outcome.clv_note
    step("lifecycle")
    stages = lifecycle_stage(
        summary, customers["p_alive"], customers["median_gap_days"], details=True
    )
    customers = customers.join(stages)
    # the population gap G the stages were measured with, for staging one customer later
    models["lifecycle"] = {"population_gap_days": stages.attrs["population_gap_days"]}
    customers["rfm_segment"] = customers["segment"]
    customers["segment"] = segment_for_stage(
        customers["stage"], customers["f_score"], customers["m_score"]
    )
    usual = usual_with_evidence(usual, settings.evidence)
    end = summary.attrs.get("observation_period")
    end = pd.Timestamp(end) if end is not None else pd.Timestamp(customers["last_purchase"].max())
    customers = apply_evidence(customers, usual, end, settings.evidence)
    step("suggest")
    cross, upsell = _suggestions(usual, rules, products, settings.suggestions)
    customers["cross_sell"] = _lists(cross, customers.index)
    customers["up_sell"] = _lists(upsell, customers.index)
    step(None)
    timings["total"] = round(sum(timings.values()), 4)
    return PipelineResult(
        customers=customers,
        usual=usual,
        rules=rules,
        cohorts=cohorts,
        revenue_mix=mix,
        models=models,
        timings=timings,
    )
