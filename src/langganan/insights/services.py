"""Refresh a merchant's insights: read sales, run the engine, store the results."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from langganan.analytics.btyd.priors import DEFAULT_PRIORS, pooled_prior
from langganan.analytics.pipeline import PipelineSettings, run_pipeline
from langganan.core.models import Merchant
from langganan.core.money import to_money
from langganan.insights.extract import (
    ledger_table,
    lines_table,
    member_sales,
    paid_table,
    products_table,
)
from langganan.insights.models import CustomerInsight, InsightRun, PeriodOverview
from langganan.insights.paid_with import paid_with_by_customer
from langganan.sales.models import Transaction

BATCH = 2000


def _num(value) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return float(value)


def _int(value) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _probability(value) -> float | None:
    number = _num(value)
    return None if number is None else min(max(number, 0.0), 1.0)


def _money(value) -> Decimal | None:
    number = _num(value)
    return None if number is None else to_money(Decimal(repr(number)))


def _aware(value, tz: ZoneInfo) -> datetime:
    stamp = pd.Timestamp(value).to_pydatetime()
    return stamp.replace(tzinfo=tz) if stamp.tzinfo is None else stamp


def _records(frame: pd.DataFrame) -> list[dict]:
    """A small DataFrame as JSON-safe records (tuples become lists, NaN becomes None)."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, pd.Timestamp | datetime):
                value = value.isoformat()
            elif isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            clean[str(key)] = value
        out.append(clean)
    return out


def _priors(merchant: Merchant) -> tuple[dict, dict]:
    """Each model's prior pooled from the latest runs of comparable merchants (same business
    type, this installation), where there are enough of them; and where it came from."""
    peers = (
        InsightRun.objects.filter(
            merchant__business_type=merchant.business_type, status=InsightRun.Status.DONE
        )
        .exclude(merchant=merchant)
        .order_by("merchant_id", "-started_at", "-id")
    )
    if merchant.business_type in (None, "", Merchant.BusinessType.OTHER):
        peers = peers.none()  # "other" shops are not comparable with each other
    latest: dict[int, InsightRun] = {}
    for run in peers.only("merchant_id", "customers", "models_fitted"):
        latest.setdefault(run.merchant_id, run)
    priors: dict = {}
    source: dict = {}
    for model in DEFAULT_PRIORS:
        fits = [
            (run.models_fitted.get(model, {}).get("params") or {}, run.customers)
            for run in latest.values()
        ]
        prior = pooled_prior(model, fits)
        if prior is not None:
            priors[model] = prior
            source[model] = {"source": "pooled", "merchants": len(fits), "prior": prior}
        else:
            source[model] = {"source": "default", "prior": DEFAULT_PRIORS[model]}
    return priors, source


def insights_refresh(
    *,
    merchant: Merchant,
    engine: str = "duckdb",
    observation_end: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> InsightRun:
    """Recompute every customer's insights for ``merchant`` and store them.

    The merchant's insights are replaced in one database transaction; a failed run is recorded
    with its error and leaves the previous insights in place. After a successful run the
    "is the CRM worth it?" figures are computed for every period
    (:func:`langganan.insights.worth.worth_compute_all`), so ``langganan analyze``, the nightly
    job and the demo all leave them filled.
    """
    from langganan.insights.market import market_snapshots_store
    from langganan.insights.overview import overview_compute  # it builds on .live, which uses this
    from langganan.insights.worth import worth_compute_all

    tz = ZoneInfo(merchant.time_zone)
    end = (observation_end or timezone.now()).astimezone(tz)
    run = InsightRun.objects.create(merchant=merchant, engine=engine, observation_end=end)
    try:
        ledger = ledger_table(merchant)
        sales = member_sales(ledger)
        lines = lines_table(merchant)
        products = products_table(merchant).to_pandas()
        priors, run.prior = _priors(merchant)
        settings = PipelineSettings(observation_end=end.replace(tzinfo=None), priors=priors)
        if sales.num_rows == 0:
            result = None
        else:
            result = run_pipeline(
                sales, lines, products, settings=settings, engine=engine, progress=progress
            )
        if progress:
            progress("overview")
        started = time.perf_counter()
        if result is not None:
            run.models_fitted = result.models  # the overview stages with them
        overview = overview_compute(
            run=run,
            result=result,
            ledger=ledger,
            paid=paid_table(merchant, ledger),
            lines=lines,
            end=end,
            engine=engine,
        )
        overview_seconds = round(time.perf_counter() - started, 4)
        paid_with = paid_with_by_customer(merchant_id=merchant.pk)
        with transaction.atomic():
            CustomerInsight.objects.filter(merchant=merchant).delete()
            if result is not None:
                _store_customers(run, result, end, tz, overview.stages_before, paid_with)
                run.models_fitted = result.models
                run.timings = {**result.timings, "overview": overview_seconds}
                run.rules = _records(result.rules.head(200)) if len(result.rules) else []
                run.cohorts = _records(result.cohorts)
                run.revenue_mix = _records(result.revenue_mix)
                run.customers = len(result.customers)
                run.segment_counts = {
                    str(k): int(v) for k, v in result.customers["segment"].value_counts().items()
                }
                run.lifecycle_counts = {
                    str(k): int(v) for k, v in result.customers["stage"].value_counts().items()
                }
            run.transactions = sales.num_rows
            run.walk_in_transactions = Transaction.objects.filter(
                merchant=merchant, kind="sale", customer__isnull=True
            ).count()
            run.status = InsightRun.Status.DONE
            run.finished_at = timezone.now()
            run.save()
            PeriodOverview.objects.bulk_create(
                PeriodOverview(
                    merchant=merchant,
                    run=run,
                    period_days=days,
                    period_start=overview.starts[days],
                    period_end=end,
                    data=data,
                )
                for days, data in overview.periods.items()
            )
            # the market page's groups of buyers, from the rows just stored
            market_snapshots_store(merchant=merchant, run=run, now=end)
    except Exception as exc:
        run.status = InsightRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    if progress:
        progress("worth")
    worth_compute_all(merchant, now=end)
    return run


def _store_customers(
    run: InsightRun,
    result,
    end: datetime,
    tz: ZoneInfo,
    stages_before: dict[int, dict[str, str]],
    paid_with: dict[int, int],
) -> None:
    usual: dict[int, list[dict]] = {}
    for row in result.usual.itertuples(index=False):
        usual.setdefault(int(row.customer_id), []).append(
            {
                "item": row.item,
                "rank": int(row.rank),
                "times": int(row.times),
                "share": round(float(row.share), 4),
            }
        )
    end_date = end.date()
    batch: list[CustomerInsight] = []
    frame = result.customers
    for customer_id, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        wait = _num(row.next_visit_in_days)
        next_date = end_date + timedelta(days=math.ceil(wait)) if wait is not None else None
        batch.append(
            CustomerInsight(
                merchant_id=run.merchant_id,
                customer_id=int(customer_id),
                run=run,
                orders=int(row.orders),
                frequency=int(row.frequency),
                recency_days=float(row.recency),
                age_days=float(row.T),
                days_since_last=float(row.days_since_last),
                total_spend=_money(row.total_spend),
                monetary_value=_money(row.monetary_value),
                first_purchase=_aware(row.first_purchase, tz),
                last_purchase=_aware(row.last_purchase, tz),
                r_score=_int(row.r_score) or 0,
                f_score=_int(row.f_score) or 0,
                m_score=_int(row.m_score) or 0,
                segment=str(row.segment),
                rfm_segment=str(row.rfm_segment),
                lifecycle=str(row.stage),
                p_alive=_probability(row.p_alive),
                p_alive_low=_probability(row.p_alive_low),
                p_alive_high=_probability(row.p_alive_high),
                expected_purchases_30=_num(row.expected_purchases_30),
                expected_purchases_90=_num(row.expected_purchases_90),
                clv=_money(row.clv),
                clv_low=_money(row.clv_low),
                clv_high=_money(row.clv_high),
                clv_note=str(row.clv_note or ""),
                next_purchase_date=next_date,
                evidence={
                    "habits": str(row.evidence_habits),
                    "usual": str(row.evidence_usual),
                    "next_visit": str(row.evidence_next_visit),
                },
                typical_weekday=_int(row.typical_weekday),
                typical_hour=_int(row.typical_hour),
                time_of_month=row.time_of_month if isinstance(row.time_of_month, str) else "",
                payday_share=_num(row.payday_share),
                median_gap_days=_num(row.median_gap_days),
                usual_order=usual.get(int(customer_id), []),
                cross_sell=list(row.cross_sell),
                up_sell=list(row.up_sell),
                stages_before=stages_before.get(int(customer_id), {}),
                paid_with=paid_with.get(int(customer_id), 0),
            )
        )
        if len(batch) >= BATCH:
            CustomerInsight.objects.bulk_create(batch)
            batch = []
    CustomerInsight.objects.bulk_create(batch)
