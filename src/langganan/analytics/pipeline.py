"""The whole engine in one call: transactions in, per-customer and merchant-level insights out.

Steps (each timed, each reported to ``progress``):

1. ``summary``   per-customer frequency, recency, T, monetary value (SQL, days);
2. ``rhythm``    typical weekday, hour, time of month, gaps (SQL);
3. ``usual``     each customer's usual order (SQL);
4. ``baskets``   item, pair and triple counts (SQL) → association rules;
5. ``cohorts``   retention by first-purchase month and new vs returning revenue (SQL);
6. ``rfm``       R, F, M scores and segments;
7. ``models``    BG/NBD (probability alive, expected purchases), Pareto/NBD (reported beside it),
                 Gamma-Gamma spend, CLV and the predicted next purchase;
8. ``lifecycle`` new / active / loyal / at risk / lapsed from each customer's own rhythm;
9. ``suggest``   cross-sell from the rules and the customer's usual items; up-sell within the
                 category of their favourite item.

A model that cannot be fitted (too few customers, nobody repeats) is reported in ``models``
with its error, and its columns are left empty; the rest of the pipeline still runs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .baskets import basket_counts
from .btyd import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value, predicted_next_purchase
from .cohorts import cohort_retention, revenue_by_customer_type
from .engines import get_engine
from .habits import purchase_rhythm, usual_order
from .lifecycle import lifecycle_stage
from .rfm import rfm_scores
from .rules import association_rules, cross_sell_many, up_sell
from .summary import summarize

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


def _number(value: Any) -> float | None:
    """A float for a JSON report: NaN and infinities (e.g. the standard error of a parameter
    on the boundary) become None."""
    value = float(value)
    return value if np.isfinite(value) else None


def _fit(model, *args) -> tuple[Any, dict[str, Any]]:
    """Fit ``model``; a failure or a boundary estimate is reported, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(*args)
        except ValueError as exc:
            return None, {"error": str(exc)}
    report: dict[str, Any] = {
        "params": {k: _number(v) for k, v in model.params_.items()},
        "standard_errors": {
            k: _number(v) for k, v in getattr(model, "standard_errors_", {}).items()
        },
        "log_likelihood": _number(getattr(model, "log_likelihood_", np.nan)),
        "at_boundary": list(getattr(model, "at_boundary_", [])),
        "converged": bool(getattr(model, "converged_", True)),
        "warnings": sorted({str(w.message) for w in caught}),
    }
    return model, report


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
    wide = usual.pivot(index="customer_id", columns="rank", values="item")
    wide = wide.reindex(columns=sorted(wide.columns))
    joined = wide.iloc[:, 0].fillna("").astype(str)
    for column in wide.columns[1:]:
        joined = joined + "\x1f" + wide[column].fillna("").astype(str)
    codes, combos = pd.factorize(joined)
    answers = np.empty(len(combos), dtype=object)
    answers[:] = cross_sell_many(
        rules, ([item for item in combo.split("\x1f") if item] for combo in combos), top=top
    )
    cross = pd.Series(answers[codes], index=wide.index)
    upsell = empty
    if products is not None and len(products):
        favourite = wide.iloc[:, 0]
        steps = {}
        for item in favourite.dropna().unique():
            found = up_sell(products, item, top=1)
            steps[item] = [] if found.empty else [str(v) for v in found.iloc[:, 0]]
        upsell = favourite.map(steps)
    return cross, upsell


def _lists(values: pd.Series, index: pd.Index) -> list[list[str]]:
    aligned = values.reindex(index)
    return [v if isinstance(v, list) else [] for v in aligned]


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
    summary = summarize(
        transactions,
        customer=customer,
        timestamp=timestamp,
        amount=amount,
        observation_end=settings.observation_end,
        period="D",
        unit="D",
        engine=eng,
    )
    summary.index.name = "customer_id"
    step("rhythm")
    rhythm = purchase_rhythm(transactions, customer=customer, timestamp=timestamp, engine=eng)
    rhythm.index.name = "customer_id"
    step("usual")
    usual = pd.DataFrame(columns=["customer_id", "rank", "item", "times", "share"])
    rules = pd.DataFrame()
    if lines is not None:
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
        counts = basket_counts(lines, transaction=transaction, item=item, max_size=3, engine=eng)
        rules = association_rules(
            counts,
            min_support=settings.min_support,
            min_confidence=settings.min_confidence,
            min_lift=settings.min_lift,
        )
    step("cohorts")
    cohorts = cohort_retention(
        transactions,
        customer=customer,
        timestamp=timestamp,
        amount=amount,
        engine=eng,
        observation_end=settings.observation_end,
    )
    mix = revenue_by_customer_type(
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
    mv = summary["monetary_value"].to_numpy(dtype=float)
    models: dict[str, Any] = {}
    # A customer whose first purchase falls on the observation end has T = 0: nothing has
    # been observed yet, so they do not inform the fit. For predictions they count as observed
    # for half a period (the part of the day after their purchase).
    observed = T > 0
    bg, models["bg_nbd"] = _fit(BetaGeo(), f[observed], r[observed], T[observed])
    if settings.fit_pareto:
        _, models["pareto_nbd"] = _fit(ParetoNBD(), f[observed], r[observed], T[observed])
    T = np.maximum(T, 0.5)
    repeat = f > 0
    gg, models["gamma_gamma"] = _fit(GammaGamma(), f[repeat], mv[repeat])
    n = len(summary)
    nan = np.full(n, np.nan)
    customers["p_alive"] = bg.probability_alive(f, r, T) if bg else nan
    expected = bg.expected_purchases_many([30, 90], f, r, T) if bg else np.column_stack([nan, nan])
    customers["expected_purchases_30"] = expected[:, 0]
    customers["expected_purchases_90"] = expected[:, 1]
    customers["clv"] = (
        customer_lifetime_value(
            bg,
            gg,
            f,
            r,
            T,
            mv,
            horizon_months=settings.horizon_months,
            monthly_discount_rate=settings.monthly_discount_rate,
            margin=settings.margin,
            unit_days=1.0,
        )
        if bg and gg
        else nan
    )
    customers["next_purchase_in_days"] = predicted_next_purchase(bg, f, r, T) if bg else nan
    step("lifecycle")
    stages = lifecycle_stage(
        summary, customers["p_alive"], customers["median_gap_days"], details=True
    )
    customers = customers.join(stages)
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
