"""Each sale updates its customer's insight at once, from the stored models (no refit).

A full analysis (:func:`~langganan.insights.services.insights_refresh`) runs nightly or on
request; between two runs a regular who bought an hour ago would still be "lapsed" on her card.
So after a sale — a checkout (:func:`langganan.loyalty.checkout.checkout`: the POS API and the
counter) or an import (:mod:`langganan.sales.importing.transactions`) — the customer's row is
recomputed here, right after the sale commits (``transaction.on_commit``: the sale's locks are
not held meanwhile, and an error here cannot undo it):

* **from her sales** (one indexed query, ``customer, occurred_at``, which also brings what her
  stored row keeps): orders, total spend, first and last purchase, and the BTYD summary by local
  day exactly as the engine's SQL computes it (:mod:`langganan.analytics.sql.summary`:
  frequency = purchase days − 1, recency, T, monetary value = mean spend of the repeat days) and
  her median gap between purchase days;
* **with the latest run's stored models** (``InsightRun.models_fitted``, rebuilt with
  :meth:`~langganan.analytics.btyd._base.BaseFitter.from_params`, kept per process by run):
  the probability of being active, expected purchases in 30 and 90 days and the 12-month CLV
  (the Gamma-Gamma spend, or the run's mean spend per visit), as the pipeline's model step
  computes them (:mod:`langganan.analytics.purchase_models`);
* **the payment methods she has paid with** (:mod:`.paid_with`), read again from her payments
  (one more indexed query), so the customer list's payment filter finds her new method at once;
* **the lifecycle stage** by the engine's rules (:func:`~langganan.analytics.lifecycle.
  stage_arrays`) against the run's population gap ``G`` (``models_fitted["lifecycle"]``; for a
  run stored before ``G`` was kept, the median of its rows' median gaps), the named segment from
  the new stage and the stored F and M scores (:func:`~langganan.analytics.consistency.
  segment_of`), and the next visit by the evidence rules (:mod:`langganan.analytics.evidence`).

The observation end is the time of the update (or the run's observation end, or her last sale,
when later), so with the same stored parameters the row equals what the engine computes for her
summary at that end. What stays as of the last full run, until the next one:

* the R, F and M scores and the classic ``rfm_segment``: they are ranks among all the
  merchant's customers (a customer first seen after the run has none: 0, and her segment is read
  as the lowest F and M);
* habits (weekday, hour, time of month), the usual order and the suggestions, and their
  evidence reasons (only the next visit's is updated);
* the 80 % intervals of P(active) and CLV: they come from posterior draws the run does not
  keep, so they are cleared (shown as no interval) rather than left around a moved estimate.

A refund does not update the row: the engine counts only sales (:mod:`.extract` reads
``kind="sale"``, a refund's amount is not subtracted from spend), so a full analysis computes the
same R, F, M and stage with or without it.

The update never breaks the sale: it runs after the commit (inside a caller's own transaction,
in a savepoint) and any error is logged and swallowed (the row then waits for the next run). It
is one statement: a write computed from fewer sales never replaces one computed from more (two
sales of one customer at the same moment), and a customer without a row gets one (one more
query, for the latest run). Before a merchant's first analysis there is nothing to update (no
stored model): the first run creates everyone's row.

Cost (``bench/live_insight.py``, PostgreSQL, a shared 2-core machine where a checkout takes
about 11 ms): a sale by a customer who has a row is updated in two plain statements written
once per process (:func:`_update_one`: her sales with her stored row and its run beside them,
one round trip; then the write), without the ORM's query building, which alone cost more than
both round trips. The update adds about 1.7 ms to a checkout, median (it took 4-7 ms with
three ORM statements).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from langganan.analytics.btyd import BetaGeo, GammaGamma, ParetoNBD
from langganan.analytics.btyd.clv import DAYS_PER_MONTH, discounted_purchases
from langganan.analytics.btyd.mbg_cnbd import MBGCNBD
from langganan.analytics.consistency import segment_of
from langganan.analytics.evidence import EvidenceRules
from langganan.analytics.lifecycle import STAGE_ORDER, LifecycleRules, stage_arrays
from langganan.analytics.pipeline import PipelineSettings
from langganan.core.models import Merchant
from langganan.core.money import to_money
from langganan.core.rows import fetch_values
from langganan.insights.models import CustomerInsight, InsightRun
from langganan.insights.paid_with import mask_of, paid_with_by_customer
from langganan.insights.services import _money, _num, _probability
from langganan.sales.models import Transaction, TransactionKind, TransactionPayment

__all__ = [
    "CustomerSummary",
    "StoredModels",
    "insights_update_customers",
    "insight_after_sale",
    "insights_after_import",
    "stored_models",
    "summarize_sales",
]

log = logging.getLogger(__name__)

_PURCHASE_MODELS = {"mbg_cnbd": MBGCNBD, "pareto_nbd": ParetoNBD, "bg_nbd": BetaGeo}
#: customers per query and per vectorised prediction when many are updated (an import)
CHUNK = 1000
#: an import touching more customers than this leaves them to the next full analysis
IMPORT_MAX_CUSTOMERS = 50_000

#: the evidence reasons a live update keeps (the next visit's it recomputes)
_KEPT = ("habits", "usual")

#: the fields a live update writes (everything else stays as of the last full run)
UPDATED_FIELDS = (
    "orders",
    "frequency",
    "recency_days",
    "age_days",
    "days_since_last",
    "total_spend",
    "monetary_value",
    "first_purchase",
    "last_purchase",
    "median_gap_days",
    "lifecycle",
    "segment",
    "p_alive",
    "p_alive_low",
    "p_alive_high",
    "expected_purchases_30",
    "expected_purchases_90",
    "clv",
    "clv_low",
    "clv_high",
    "clv_note",
    "next_purchase_date",
    "evidence",
    "live_updated_at",
    "paid_with",
)


# -- the stored models -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredModels:
    """What a run keeps that one customer's insight needs, ready to predict with."""

    run_id: int
    observation_end: datetime | None
    purchase: Any | None  # a fitted purchase model, None when the run chose none
    spend: GammaGamma | None
    mean_per_visit: float | None
    rules: LifecycleRules
    settings: PipelineSettings


#: (database alias, run id, when it finished) → its models; the finish time tells a run from
#: an earlier one that had the same id (a test database reuses ids after a rollback)
_cache: dict[tuple[str, int, datetime | None], StoredModels] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 256  # runs (a process serving many merchants drops everything past this)


def stored_models(run: InsightRun) -> StoredModels:
    """The models of ``run`` (a finished run: its stored fields do not change), kept in this
    process by run."""
    return _models_of(run.pk, run.finished_at, lambda: run)


def _models_of(run_id: int, finished_at: datetime | None, load) -> StoredModels:
    key = (connection.alias, run_id, finished_at)
    found = _cache.get(key)
    if found is not None:
        return found
    built = _build(load())
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = built
    return built


def _run_models(run_id: int, finished_at: datetime | None) -> StoredModels:
    def load() -> InsightRun:
        return InsightRun.objects.only("id", "observation_end", "models_fitted").get(pk=run_id)

    return _models_of(run_id, finished_at, load)


def _build(run: InsightRun) -> StoredModels:
    fitted = run.models_fitted or {}
    chosen = (fitted.get("choice") or {}).get("model")
    purchase = None
    if chosen in _PURCHASE_MODELS:
        params = (fitted.get(chosen) or {}).get("params") or {}
        purchase = _PURCHASE_MODELS[chosen].from_params(params)
    spend = None
    if (fitted.get("spend") or {}).get("model") == "gamma_gamma":
        spend = GammaGamma.from_params((fitted.get("gamma_gamma") or {}).get("params") or {})
    gap = (fitted.get("lifecycle") or {}).get("population_gap_days")
    if gap is None:
        gap = _population_gap_of_rows(run)
    return StoredModels(
        run_id=run.pk,
        observation_end=run.observation_end,
        purchase=purchase,
        spend=spend,
        mean_per_visit=_num((fitted.get("spend") or {}).get("mean_per_visit")),
        rules=LifecycleRules(population_gap_days=max(float(gap), LifecycleRules.min_gap_days)),
        settings=PipelineSettings(),
    )


def _population_gap_of_rows(run: InsightRun) -> float:
    """``G`` of a run stored before it was kept: the median of its customers' median gaps
    (as :func:`~langganan.analytics.lifecycle.expected_gap_days` takes it)."""
    gaps = np.fromiter(
        (
            g
            for g in CustomerInsight.objects.filter(run=run, median_gap_days__gt=0).values_list(
                "median_gap_days", flat=True
            )
            if g is not None
        ),
        dtype=float,
    )
    gaps = gaps[np.isfinite(gaps)]
    return float(np.median(gaps)) if len(gaps) else LifecycleRules.fallback_gap_days


# -- one customer's summary --------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerSummary:
    """A customer's sales summarised as the engine's SQL does (days; local calendar days)."""

    orders: int
    periods: int
    frequency: int
    recency: float
    T: float
    total_spend: Decimal
    monetary_value: float
    first_purchase: datetime
    last_purchase: datetime
    last_day: date
    median_gap_days: float | None


def summarize_sales(
    sales: Sequence[tuple[datetime, Decimal]], tz: ZoneInfo, end_day: date
) -> CustomerSummary | None:
    """The summary of one customer's sales ``(occurred_at, total)`` up to ``end_day`` (local).

    Purchases are grouped by the local day; sales after ``end_day`` are left out. None without
    a sale.
    """
    kept = sorted(
        (at, Decimal(total), at.astimezone(tz).date())
        for at, total in sales
        if at.astimezone(tz).date() <= end_day
    )
    if not kept:
        return None
    first_day = kept[0][2]
    days = sorted({day for _, _, day in kept})
    total = sum((amount for _, amount, _ in kept), Decimal(0))
    first_spend = sum((amount for _, amount, day in kept if day == first_day), Decimal(0))
    periods = len(days)
    gaps = [float((b - a).days) for a, b in zip(days, days[1:], strict=False)]
    return CustomerSummary(
        orders=len(kept),
        periods=periods,
        frequency=periods - 1,
        recency=float((days[-1] - first_day).days),
        T=float((end_day - first_day).days),
        total_spend=total,
        # a float division, like the engine's SQL (DOUBLE), so the stored cents agree
        monetary_value=float(total - first_spend) / (periods - 1) if periods > 1 else 0.0,
        first_purchase=kept[0][0],
        last_purchase=max(at for at, _, _ in kept),
        last_day=days[-1],
        median_gap_days=float(np.median(gaps)) if gaps else None,
    )


# -- predictions -------------------------------------------------------------------------------


def _cumulative(model: Any, horizons: np.ndarray, f, r, t) -> np.ndarray:
    """Expected purchases by each horizon: (customers, horizons), as the pipeline's
    ``_predict_purchases``; a model without a many-horizon method gets every (customer, horizon)
    pair in one call instead of one call per horizon."""
    many = getattr(model, "expected_purchases_many", None)
    if many is not None:
        return many(horizons, f, r, t)
    n, h = len(f), len(horizons)
    flat = model.expected_purchases(
        np.tile(horizons, n), np.repeat(f, h), np.repeat(r, h), np.repeat(t, h)
    )
    return np.asarray(flat, dtype=float).reshape(n, h)


def _predict(models: StoredModels, summaries: list[CustomerSummary]) -> dict[str, np.ndarray]:
    """The model step of the pipeline (:func:`~langganan.analytics.purchase_models.
    fit_and_predict`, step 4, without intervals) with the stored parameters."""
    n = len(summaries)
    f = np.array([s.frequency for s in summaries], dtype=float)
    r = np.array([s.recency for s in summaries], dtype=float)
    T = np.array([s.T for s in summaries], dtype=float)
    m = np.array([s.monetary_value for s in summaries], dtype=float)
    nan = np.full(n, np.nan)
    model = models.purchase
    if model is None:
        note = np.full(n, "no_repeat_buyers", dtype=object)
        return {"p_alive": nan, "e30": nan, "e90": nan, "clv": nan, "note": note}
    settings = models.settings
    t_end = np.maximum(T, 0.5)  # a first purchase today counts as half a day observed
    months = np.arange(1, settings.horizon_months + 1) * DAYS_PER_MONTH
    cumulative = _cumulative(model, np.r_[30.0, 90.0, months], f, r, t_end)
    p_alive = model.probability_alive(f, r, t_end)
    per_visit = np.nan if models.mean_per_visit is None else models.mean_per_visit
    if models.spend is not None:
        repeat = (f > 0) & (m > 0)
        spend = models.spend.expected_spend(f, np.where(repeat, m, 0.0))
        spend = np.where(np.isfinite(spend), spend, per_visit)
    else:
        spend = np.full(n, per_visit)
    discounted = discounted_purchases(cumulative[:, 2:], settings.monthly_discount_rate)
    clv = discounted * spend * settings.margin
    note = np.where(np.isfinite(clv), "", "no_spend").astype(object)
    return {
        "p_alive": p_alive,
        "e30": cumulative[:, 0],
        "e90": cumulative[:, 1],
        "clv": clv,
        "note": note,
    }


def _next_visit(
    summary: CustomerSummary, stage: str, gap: float, end_day: date, rules: EvidenceRules
) -> tuple[date | None, str]:
    """The next visit and its evidence reason, as :func:`~langganan.analytics.evidence.
    apply_evidence` gives them."""
    since = (end_day - summary.last_day).days
    wait = float(math.ceil(max(gap - since, 0.0)))
    if summary.periods < rules.min_visits:
        return None, "few_visits"
    if stage in ("at_risk", "lapsed"):
        return None, "overdue"
    if wait > rules.max_next_visit_days:
        return None, "far"
    return end_day + timedelta(days=math.ceil(wait)), "ok"


# -- the update --------------------------------------------------------------------------------


def insights_update_customers(
    *,
    merchant: Merchant,
    customer_ids: Iterable[int],
    observation_end: datetime | None = None,
    on_step: Callable[[float], None] | None = None,
) -> int:
    """Recompute the insights of the merchant's ``customer_ids`` from their sales and the latest
    run's stored models (see the module docstring); returns the number of rows written;
    ``on_step(fraction)`` after each chunk of many.

    A customer without a row gets one (in the run of the latest finished analysis); without any
    finished analysis nothing is written. ``observation_end`` defaults to now (or the run's
    observation end, or a customer's last sale, when later).
    """
    ids = sorted({int(i) for i in customer_ids if i is not None})
    tz = ZoneInfo(merchant.time_zone)
    if len(ids) <= 1:  # a sale: at most one write, no transaction of its own needed
        if not ids:
            return 0
        written = _update_one(merchant, ids[0], tz, observation_end)
        if written is not None:
            return written
        # no stored row yet (a new customer): the general path creates it
        return _update_chunk(merchant, ids, tz, observation_end)
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            written += _update_chunk(merchant, ids[start : start + CHUNK], tz, observation_end)
            if on_step is not None:
                on_step(min(1.0, (start + CHUNK) / len(ids)))
    return written


# -- one sale: the hot path ---------------------------------------------------------------------


@functools.cache
def _one_sql(vendor: str) -> tuple[str, str, str]:
    """The read (her sales, each with her stored row and its run beside it: one round trip),
    the write of :func:`_update_one` and the read of the payment methods she has used
    (:mod:`.paid_with`), written once per process from the models' metadata."""
    insight, run, sale = CustomerInsight._meta, InsightRun._meta, Transaction._meta

    def col(meta, name: str) -> str:
        return meta.get_field(name).column

    sale_customer, insight_customer = col(sale, "customer"), col(insight, "customer")
    read = (
        f"SELECT t.{col(sale, 'occurred_at')}, t.{col(sale, 'total')}, "  # noqa: S608 (names only)
        f"i.{col(insight, 'id')}, i.{col(insight, 'run')}, r.{col(run, 'finished_at')}, "
        f"i.{col(insight, 'f_score')}, i.{col(insight, 'm_score')}, "
        f"i.{col(insight, 'evidence')} FROM {sale.db_table} t "
        f"LEFT JOIN {insight.db_table} i ON i.{insight_customer} = t.{sale_customer} "
        f"AND i.{col(insight, 'merchant')} = %s "
        f"LEFT JOIN {run.db_table} r ON r.{col(run, 'id')} = i.{col(insight, 'run')} "
        f"WHERE t.{sale_customer} = %s AND t.{col(sale, 'kind')} = %s"
    )
    assignments = ", ".join(f"{col(insight, name)} = %s" for name in UPDATED_FIELDS)
    write = (
        f"UPDATE {insight.db_table} SET {assignments} "  # noqa: S608 (names only)
        f"WHERE {col(insight, 'id')} = %s AND {col(insight, 'orders')} <= %s"
    )
    payment = TransactionPayment._meta
    methods = (
        f"SELECT DISTINCT p.{col(payment, 'method')} FROM {payment.db_table} p "  # noqa: S608
        f"JOIN {sale.db_table} t ON t.{col(sale, 'id')} = p.{col(payment, 'transaction')} "
        f"WHERE t.{sale_customer} = %s"
    )
    return read, write, methods


@functools.cache
def _one_fields() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The model fields of the read's columns (for the ORM's value converters; the evidence is
    parsed once, not per sale) and of the write's."""
    insight, run, sale = CustomerInsight._meta, InsightRun._meta, Transaction._meta
    read = (
        sale.get_field("occurred_at"),
        sale.get_field("total"),
        None,
        None,
        run.get_field("finished_at"),
        None,
        None,
        None,
    )
    write = tuple(insight.get_field(name) for name in UPDATED_FIELDS)
    return read, write


def _update_one(
    merchant: Merchant, customer_id: int, tz: ZoneInfo, observation_end: datetime | None
) -> int | None:
    """A sale's update of one customer who has a stored row, in two plain statements (the
    read and the write; the ORM's query building cost more than both round trips); None when
    she has no stored row yet (the caller takes the general path, which creates it)."""
    read_sql, write_sql, methods_sql = _one_sql(connection.vendor)
    read_fields, write_fields = _one_fields()
    rows = fetch_values(
        connection, read_sql, [merchant.pk, customer_id, TransactionKind.SALE], read_fields
    )
    if not rows or rows[0][2] is None:
        return None
    _, _, row_id, run_id, finished, f_score, m_score, evidence = rows[0]
    if isinstance(evidence, str | bytes):
        evidence = json.loads(evidence)
    stored = _Stored(
        row_id,
        run_id,
        finished,
        f_score,
        m_score,
        {k: v for k, v in (evidence or {}).items() if k in _KEPT},
    )
    history = [(at, total) for at, total, *_ in rows]
    models = _run_models(run_id, finished)
    end = observation_end or timezone.now()
    if observation_end is None:
        last_sale = max(at for at, _ in history)
        end = max([end, last_sale, *([models.observation_end] if models.observation_end else [])])
    end_day = end.astimezone(tz).date()
    summary = summarize_sales(history, tz, end_day)
    if summary is None:  # pragma: no cover - her sales are all up to the end day
        return 0
    with connection.cursor() as cursor:
        cursor.execute(methods_sql, [customer_id])
        paid = {customer_id: mask_of(method for (method,) in cursor.fetchall())}
    written = 0
    for _, values in _insight_values(
        models, [(customer_id, summary, end_day)], {customer_id: stored}, paid
    ):
        params = [field.get_db_prep_save(values[field.name], connection) for field in write_fields]
        with connection.cursor() as cursor:
            # a computation from fewer sales (a concurrent sale's update that read before
            # this one's sale committed) never overwrites one from more
            cursor.execute(write_sql, [*params, row_id, summary.orders])
            written += cursor.rowcount
    return written


@dataclass(frozen=True)
class _Stored:
    """The parts of a customer's stored row a live update keeps or needs."""

    id: int
    run_id: int
    run_finished_at: datetime | None
    f_score: int
    m_score: int
    evidence: dict[str, str]


def _update_chunk(
    merchant: Merchant, ids: list[int], tz: ZoneInfo, observation_end: datetime | None
) -> int:
    # two plain queries (a join of four tables cost more to plan than both together): the
    # stored rows, and the sales (the index on customer, occurred_at; a customer's sales are
    # her merchant's)
    one = len(ids) == 1
    stored = CustomerInsight.objects.filter(merchant=merchant)
    stored = stored.filter(customer_id=ids[0]) if one else stored.filter(customer_id__in=ids)
    by_customer: dict[int, _Stored] = {
        customer_id: _Stored(
            row_id,
            run_id,
            finished,
            f,
            m,
            {k: v for k, v in (evidence or {}).items() if k in _KEPT},
        )
        for row_id, customer_id, run_id, finished, f, m, evidence in stored.values_list(
            "id", "customer_id", "run_id", "run__finished_at", "f_score", "m_score", "evidence"
        )
    }
    query = Transaction.objects.filter(kind=TransactionKind.SALE)
    query = query.filter(customer_id=ids[0]) if one else query.filter(customer_id__in=ids)
    sales: dict[int, list[tuple[datetime, Decimal]]] = {}
    for customer_id, at, total in query.order_by().values_list(
        "customer_id", "occurred_at", "total"
    ):
        sales.setdefault(customer_id, []).append((at, total))
    runs = {row.run_id: row.run_finished_at for row in by_customer.values()}
    latest_run = None
    if len(by_customer) < len(sales):
        latest = (
            InsightRun.objects.filter(merchant=merchant, status=InsightRun.Status.DONE)
            .order_by("-started_at", "-id")
            .values_list("id", "finished_at")
            .first()
        )
        if latest is not None:
            latest_run = latest[0]
            runs[latest[0]] = latest[1]

    now = observation_end or timezone.now()
    # customers grouped by the run whose models speak for them
    groups: dict[int, list[tuple[int, CustomerSummary, date]]] = {}
    for customer_id, history in sales.items():
        row = by_customer.get(customer_id)
        run_id = row.run_id if row is not None else latest_run
        if run_id is None:
            continue  # never analysed: the first run creates everyone's row
        models = _run_models(run_id, runs[run_id])
        end = now
        if observation_end is None:
            last_sale = max(at for at, _ in history)
            end = max(
                [now, last_sale, *([models.observation_end] if models.observation_end else [])]
            )
        end_day = end.astimezone(tz).date()
        summary = summarize_sales(history, tz, end_day)
        if summary is not None:
            groups.setdefault(run_id, []).append((customer_id, summary, end_day))

    paid = (
        paid_with_by_customer(
            merchant_id=merchant.pk, customer_ids=[c for m in groups.values() for c, _, _ in m]
        )
        if groups
        else {}
    )
    updated: list[CustomerInsight] = []
    created: list[CustomerInsight] = []
    for run_id, members in groups.items():
        models = _run_models(run_id, runs[run_id])
        for customer_id, values in _insight_values(models, members, by_customer, paid):
            row = by_customer.get(customer_id)
            if row is None:
                created.append(_new_row(merchant, customer_id, run_id, values))
            else:
                updated.append(CustomerInsight(id=row.id, **values))
    written = 0
    if len(updated) == 1:
        # one statement; a computation from fewer sales (a concurrent sale's update that read
        # before this one's sale committed) never overwrites one from more
        one = updated[0]
        values = {name: getattr(one, name) for name in UPDATED_FIELDS}
        written += CustomerInsight.objects.filter(pk=one.pk, orders__lte=one.orders).update(
            **values
        )
    elif updated:
        written += CustomerInsight.objects.bulk_update(updated, UPDATED_FIELDS, batch_size=500)
    if created:
        written += len(CustomerInsight.objects.bulk_create(created, batch_size=500))
    return written


def _insight_values(
    models: StoredModels,
    members: list[tuple[int, CustomerSummary, date]],
    rows: dict[int, _Stored],
    paid: dict[int, int],
) -> Iterable[tuple[int, dict[str, Any]]]:
    summaries = [s for _, s, _ in members]
    predicted = _predict(models, summaries)
    stages = stage_arrays(
        np.array([s.frequency for s in summaries], dtype=float),
        np.array([s.recency for s in summaries], dtype=float),
        np.array([s.T for s in summaries], dtype=float),
        np.array([s.orders for s in summaries], dtype=float),
        np.asarray(predicted["p_alive"], dtype=float),
        np.array([np.nan if s.median_gap_days is None else s.median_gap_days for s in summaries]),
        models.rules,
    )
    evidence_rules = models.settings.evidence
    updated_at = timezone.now()
    for i, (customer_id, summary, end_day) in enumerate(members):
        if stages["code"][i] < 0:  # pragma: no cover - T and recency are always known here
            continue
        stage = STAGE_ORDER[int(stages["code"][i])]
        row = rows.get(customer_id)
        f_score, m_score = (row.f_score, row.m_score) if row is not None else (0, 0)
        gap = float(stages["expected_gap_days"][i])
        next_date, next_reason = _next_visit(summary, stage, gap, end_day, evidence_rules)
        evidence = dict(row.evidence or {}) if row is not None else _new_evidence(summary)
        evidence["next_visit"] = next_reason
        yield (
            customer_id,
            {
                "orders": summary.orders,
                "frequency": summary.frequency,
                "recency_days": summary.recency,
                "age_days": summary.T,
                "days_since_last": float(stages["days_since_last"][i]),
                "total_spend": to_money(summary.total_spend),
                "monetary_value": _money(summary.monetary_value),
                "first_purchase": summary.first_purchase,
                "last_purchase": summary.last_purchase,
                "median_gap_days": summary.median_gap_days,
                "lifecycle": stage,
                "segment": segment_of(stage, f_score, m_score) or "",
                "p_alive": _probability(predicted["p_alive"][i]),
                "p_alive_low": None,
                "p_alive_high": None,
                "expected_purchases_30": _num(predicted["e30"][i]),
                "expected_purchases_90": _num(predicted["e90"][i]),
                "clv": _money(predicted["clv"][i]),
                "clv_low": None,
                "clv_high": None,
                "clv_note": str(predicted["note"][i] or ""),
                "next_purchase_date": next_date,
                "evidence": evidence,
                "live_updated_at": updated_at,
                "paid_with": paid.get(customer_id, 0),
            },
        )


def _new_evidence(summary: CustomerSummary) -> dict[str, str]:
    """Evidence reasons of a customer first seen after the run (habits and the usual order are
    not computed until the next run)."""
    rules = EvidenceRules()
    return {
        "habits": "few_visits" if summary.periods < rules.min_visits else "no_pattern",
        "usual": "few_visits" if summary.orders < rules.min_usual_orders else "no_pattern",
    }


def _new_row(
    merchant: Merchant, customer_id: int, run_id: int, values: dict[str, Any]
) -> CustomerInsight:
    return CustomerInsight(
        merchant=merchant,
        customer_id=customer_id,
        run_id=run_id,
        r_score=0,
        f_score=0,
        m_score=0,
        rfm_segment="",
        **values,
    )


# -- hooks -------------------------------------------------------------------------------------


def insight_after_sale(*, merchant: Merchant, customer_id: int | None) -> None:
    """The checkout's hook: once the sale commits, update the customer's insight (never
    failing the sale, never holding its locks). Off with ``LANGGANAN_LIVE_INSIGHTS=0``."""
    if customer_id is None or not getattr(django_settings, "LIVE_INSIGHTS", True):
        return
    transaction.on_commit(lambda: _guarded(merchant, [customer_id], "sale"))


def insights_after_import(
    *,
    merchant: Merchant,
    customer_ids: Iterable[int],
    on_step: Callable[[float], None] | None = None,
) -> None:
    """The import's hook: once the import commits, update the customers who got sales (never
    failing the import); more than :data:`IMPORT_MAX_CUSTOMERS` are left to the next full
    analysis. ``on_step(fraction)`` is told how far the update has come, chunk by chunk."""
    ids = {int(i) for i in customer_ids if i is not None}
    if not ids:
        return
    if len(ids) > IMPORT_MAX_CUSTOMERS:
        log.info(
            "insights of %d customers left to the next analysis (merchant %s)",
            len(ids),
            merchant.pk,
        )
        return
    transaction.on_commit(lambda: _guarded(merchant, sorted(ids), "import", on_step))


def _guarded(
    merchant: Merchant, ids: list[int], what: str, on_step: Callable[[float], None] | None = None
) -> None:
    try:
        if connection.in_atomic_block:  # inside a caller's transaction: a savepoint keeps it
            with transaction.atomic():
                insights_update_customers(merchant=merchant, customer_ids=ids, on_step=on_step)
        else:  # after the commit (the usual case): no transaction to protect
            insights_update_customers(merchant=merchant, customer_ids=ids, on_step=on_step)
    except Exception:
        log.exception(
            "live insight update after a %s failed (merchant %s, customers %s); "
            "the next analysis will compute them",
            what,
            merchant.pk,
            ids[:10],
        )
