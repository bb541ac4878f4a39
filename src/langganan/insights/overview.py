"""The overview's data, computed by the analysis run for each period (issue 17).

:func:`overview_compute` runs after the engine, on what the run already read (every
transaction, the line items) and computed (each customer's stage, segment, scores, P(alive),
CLV). It gives one :class:`~langganan.insights.models.PeriodOverview` ``data`` per period
(:data:`PERIODS`: 7, 30, 90 and 365 days ending at the observation end) and each customer's
``stages_before``; :func:`langganan.insights.services.insights_refresh` stores both in the same
transaction as the customer insights, so no page computes over transactions when it is shown.

Periods and spans. A period of ``d`` days is ``(end − d days, end]``: a transaction at its start
belongs to the span before it. Each period is compared with the ``previous`` span (the ``d``
days before it) and with ``last_year`` (the same span 365 days earlier). A comparison span that
starts before the merchant's first transaction is not covered by the data: its figures are null.

``data`` keys (money as Decimal strings, shares as floats from 0 to 1):

* ``figures``: ``{name: {"current", "previous", "last_year"}}``:

  - ``buyers``: customers with a sale in the span; ``new_customers``: customers whose first
    sale (ever) is in it;
  - ``revenue``: every transaction in the span, walk-ins included, refunds (by the refund's own
    time) taken off; ``average_basket``: revenue / sales (null without a sale);
  - ``returning_revenue_share``: of the customers' revenue in the span, the share from
    customers whose first sale was before it (null when they spent nothing);
  - ``visits_per_customer``: customers' sales / buyers (null without a buyer);
  - ``members``: loyalty members enrolled by the span's end;
  - ``points_liability``: the points on the customers' ledger accounts at the span's end
    (entries posted by then) × the program's point value (null without a program; points of
    lots expired but not yet taken off by the expiry run still count);
  - ``open_tab``: what customers owed on their tabs at the span's end (each tab's entries
    posted by then; a tab in credit owes nothing).
* ``stages``: ``{"current": {stage: n}, "previous": {stage: n}}``, the six display stages
  (:mod:`.stages`): now, and at the period's start (``stages_before``);
* ``moves``: ``[{"from", "to", "customers"}]``: customers whose stage at the period's start
  (``"none"``: not a customer yet) differs from now, largest first;
* ``rfm_grid``: ``[{"r", "f", "customers", "average_monetary"}]`` (the cells with customers;
  monetary = total spend, the M of the RFM scores), by r then f;
* ``segments``: ``[{"segment", "customers", "revenue_share", "average_clv"}]``, largest first;
  the revenue share is of the customers' revenue in the period;
* ``clv_histogram`` and ``p_alive_histogram``: ``[{"low", "high", "customers"}]`` (a value
  equal to a bin's high edge counts in the next bin, the top edge in the last one);
* ``weekday_hour`` (``weekday`` 0 = Monday, ``hour``, ``visits``) and ``day_of_month``
  (``day``, ``visits``, ``revenue``): sales in the period, local time (cells with a visit or
  revenue only);
* ``payments``: ``[{"method", "sales", "revenue"}]``: per method, the sales in the period it
  paid (part of) and the amount it paid (the sales' payment rows, :func:`.extract.paid_table`),
  refunds (with their transaction's method) taken off;
  ``payments_by_segment`` the same for customers' transactions per their segment;
* ``first_product_repeat``: ``[{"product", "customers", "returned", "repeat_rate"}]``: of the
  customers whose first sale held the product, how many bought again on a later day (all
  history up to the end, the same in every period); products with at least
  :data:`MIN_FIRST_PRODUCT_CUSTOMERS`, best repeat rate first, top :data:`TOP_FIRST_PRODUCTS`.

Stages at a period's start: each customer's summary from her sales at or before it, by the
engine's own SQL (:func:`~langganan.analytics.overview.summaries_before`), run through the run's
fitted models and lifecycle rules as a sale's live update does (:mod:`.live`, no refit), then
:func:`~langganan.insights.stages.display_stage`. A sale's live update (:mod:`.live`) changes
a customer's current stage but neither her ``stages_before`` nor the stored counts and moves:
those are as of the run, until the next one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.db.models import Case, DecimalField, Sum, When

from langganan.analytics.engines import get_engine
from langganan.analytics.lifecycle import STAGE_ORDER, stage_arrays
from langganan.analytics.overview import Span, period_tables, summaries_before
from langganan.core.models import Merchant
from langganan.core.money import to_money
from langganan.insights.live import StoredModels, _build
from langganan.insights.models import InsightRun
from langganan.insights.stages import DISPLAY_STAGES, display_stage

PERIODS = (7, 30, 90, 365)
SPANS = ("current", "previous", "last_year")
YEAR = timedelta(days=365)
MIN_FIRST_PRODUCT_CUSTOMERS = 5
TOP_FIRST_PRODUCTS = 15
P_ALIVE_BINS = 10
CLV_BINS = 10

__all__ = ["PERIODS", "OverviewResult", "overview_compute"]


@dataclass
class OverviewResult:
    """What a run stores: ``data`` per period and ``stages_before`` per customer."""

    periods: dict[int, dict]
    starts: dict[int, datetime]
    stages_before: dict[int, dict[str, str]]


def _money_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    if not isinstance(value, Decimal):
        value = Decimal(repr(float(value)))
    return str(to_money(value))


def _naive(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def span_bounds(end: datetime, period_days: int) -> dict[str, tuple[datetime, datetime]]:
    """(start, end] of each span of a period ending at ``end`` (aware)."""
    length = timedelta(days=period_days)
    start = end - length
    return {
        "current": (start, end),
        "previous": (start - length, start),
        "last_year": (start - YEAR, end - YEAR),
    }


# -- stages ------------------------------------------------------------------------------------


def p_alive_of(models: StoredModels, frequency, recency, T) -> np.ndarray:
    """P(alive) by the run's stored purchase model, exactly as a live update computes it
    (:func:`langganan.insights.live._predict`: a first purchase today counts as half a day
    observed), without the expected purchases and CLV it also computes (NaN without a model)."""
    if models.purchase is None:
        return np.full(len(frequency), np.nan)
    return np.asarray(
        models.purchase.probability_alive(frequency, recency, np.maximum(T, 0.5)), dtype=float
    )


def _stages_at(models: StoredModels, sales: pa.Table, at: datetime, engine) -> dict[int, str]:
    """Each customer's display stage at ``at`` (naive local) from her sales by then."""
    summary = summaries_before(sales, at, engine=engine)
    if summary.empty:
        return {}
    frequency = summary["frequency"].to_numpy(dtype=float)
    recency = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    p_alive = p_alive_of(models, frequency, recency, T)
    codes = stage_arrays(
        frequency,
        recency,
        T,
        summary["orders"].to_numpy(dtype=float),
        p_alive,
        summary["median_gap_days"].to_numpy(dtype=float),
        models.rules,
    )["code"]
    out: dict[int, str] = {}
    for customer_id, code, p in zip(
        summary.index.tolist(), codes.tolist(), p_alive.tolist(), strict=True
    ):
        if code < 0:  # pragma: no cover - T and recency are always known here
            continue
        stage = display_stage(STAGE_ORDER[code], None if math.isnan(p) else p)
        if stage:
            out[int(customer_id)] = stage
    return out


def _stages_before(
    run: InsightRun, sales: pa.Table, starts: dict[int, datetime], tz: ZoneInfo, engine
) -> dict[int, dict[str, str]]:
    models = _build(run)
    by_customer: dict[int, dict[str, str]] = {}
    for days, start in starts.items():
        for customer_id, stage in _stages_at(models, sales, _naive(start, tz), engine).items():
            by_customer.setdefault(customer_id, {})[str(days)] = stage
    return by_customer


# -- loyalty balances --------------------------------------------------------------------------


def _ledger_at(merchant: Merchant, ends: list[datetime]) -> tuple[dict, dict, bool]:
    """Points on customers' accounts and what their tabs owe at each of ``ends`` (from the
    ledger entries posted by then), and whether the merchant has a program."""
    from langganan.loyalty.members import program_of
    from langganan.loyalty.models import AccountKind, Entry

    program = program_of(merchant)
    money = DecimalField(max_digits=18, decimal_places=2)
    sums = {
        f"at{i}": Sum(
            Case(When(posted_at__lte=end, then="amount"), default=None), output_field=money
        )
        for i, end in enumerate(ends)
    }
    entries = Entry.objects.filter(account__merchant=merchant, account__customer__isnull=False)
    points_row = entries.filter(account__kind=AccountKind.POINTS).aggregate(**sums)
    value = program.point_value if program is not None else None
    points = {
        end: (Decimal(points_row[f"at{i}"] or 0) * value if value is not None else None)
        for i, end in enumerate(ends)
    }
    owed = dict.fromkeys(ends, Decimal(0))
    tabs = (
        entries.filter(account__kind=AccountKind.TAB)
        .values("account_id")
        .order_by()
        .annotate(**sums)
    )
    for row in tabs:
        for i, end in enumerate(ends):
            balance = Decimal(row[f"at{i}"] or 0)
            if balance < 0:
                owed[end] += -balance
    return points, owed, program is not None


def _members_at(merchant: Merchant, ends: list[datetime]) -> dict[datetime, int]:
    from langganan.loyalty.models import Member

    counts = Member.objects.filter(merchant=merchant).aggregate(
        **{
            f"at{i}": Sum(Case(When(enrolled_at__lte=end, then=1), default=0))
            for i, end in enumerate(ends)
        }
    )
    return {end: int(counts[f"at{i}"] or 0) for i, end in enumerate(ends)}


# -- the figures -------------------------------------------------------------------------------


def _ratio(numerator, denominator) -> float | None:
    if denominator is None or numerator is None or float(denominator) == 0:
        return None
    return round(float(numerator) / float(denominator), 6)


def _figures(
    days: int,
    frame: pd.DataFrame,
    bounds: dict[str, tuple[datetime, datetime]],
    covered: dict[str, bool],
    members: dict[datetime, int],
    points: dict[datetime, Decimal | None],
    owed: dict[datetime, Decimal],
) -> dict[str, dict]:
    rows = {r.span: r for r in frame[frame["period_days"] == days].itertuples(index=False)}
    names = (
        "buyers",
        "new_customers",
        "returning_revenue_share",
        "revenue",
        "average_basket",
        "visits_per_customer",
        "members",
        "points_liability",
        "open_tab",
    )
    figures: dict[str, dict] = {name: {} for name in names}
    for span in SPANS:
        end = bounds[span][1]
        figures["members"][span] = members[end]
        figures["points_liability"][span] = _money_text(points[end])
        figures["open_tab"][span] = _money_text(owed[end])
        if not covered[span]:
            for name in names[:6]:
                figures[name][span] = None
            continue
        row = rows.get(span)
        sales = int(row.sales) if row is not None else 0
        buyers = int(row.buyers) if row is not None else 0
        revenue = Decimal(repr(float(row.revenue))) if row is not None else Decimal(0)
        figures["buyers"][span] = buyers
        figures["new_customers"][span] = int(row.new_customers) if row is not None else 0
        figures["revenue"][span] = _money_text(revenue)
        figures["average_basket"][span] = _money_text(revenue / sales) if sales else None
        figures["returning_revenue_share"][span] = (
            _ratio(row.returning_revenue, row.customer_revenue) if row is not None else None
        )
        figures["visits_per_customer"][span] = (
            _ratio(row.customer_sales, buyers) if row is not None else None
        )
    return {name: {s: figures[name][s] for s in SPANS} for name in names}


def _stage_counts(stages) -> dict[str, int]:
    counts = dict.fromkeys(DISPLAY_STAGES, 0)
    for stage in stages:
        if stage in counts:
            counts[stage] += 1
    return counts


def _moves(now: dict[int, str], before: dict[int, dict[str, str]], days: int) -> list[dict]:
    key = str(days)
    counts: dict[tuple[str, str], int] = {}
    for customer_id, stage in now.items():
        was = before.get(customer_id, {}).get(key, "none")
        if was != stage:
            counts[(was, stage)] = counts.get((was, stage), 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"from": a, "to": b, "customers": n} for (a, b), n in ordered]


def _rfm_grid(customers: pd.DataFrame) -> list[dict]:
    frame = customers[["r_score", "f_score", "total_spend"]].dropna(subset=["r_score", "f_score"])
    frame = frame[frame["r_score"].between(1, 5) & frame["f_score"].between(1, 5)]
    out = []
    for (r, f), group in frame.groupby(["r_score", "f_score"], sort=True):
        out.append(
            {
                "r": int(r),
                "f": int(f),
                "customers": len(group),
                "average_monetary": _money_text(_mean_money(group["total_spend"])),
            }
        )
    return out


def _mean_money(values: pd.Series) -> Decimal | None:
    """The mean of money values, computed on their cents (as stored)."""
    kept = [to_money(Decimal(repr(float(v)))) for v in values if pd.notna(v)]
    if not kept:
        return None
    return sum(kept, Decimal(0)) / len(kept)


def _segment_rows(customers: pd.DataFrame) -> list[dict]:
    """Each segment's customers and average CLV (the same in every period), largest first."""
    out = []
    for segment, group in customers.groupby("segment", sort=True):
        out.append(
            {
                "segment": str(segment),
                "customers": len(group),
                "average_clv": _money_text(_mean_money(group["clv"])),
            }
        )
    out.sort(key=lambda row: (-row["customers"], row["segment"]))
    return out


def _segments(rows: list[dict], revenue: pd.DataFrame, days: int) -> list[dict]:
    """The segment rows with their share of the customers' revenue in the period."""
    period = revenue[revenue["period_days"] == days]
    by_segment = {
        str(s): float(v) for s, v in zip(period["segment"], period["revenue"], strict=True)
    }
    total = sum(by_segment.values())
    return [
        {
            "segment": row["segment"],
            "customers": row["customers"],
            "revenue_share": _ratio(by_segment.get(row["segment"], 0.0), total),
            "average_clv": row["average_clv"],
        }
        for row in rows
    ]


def _p_alive_histogram(values: np.ndarray) -> list[dict]:
    values = values[np.isfinite(values)]
    index = np.minimum((values * P_ALIVE_BINS).astype(int), P_ALIVE_BINS - 1)
    counts = np.bincount(index, minlength=P_ALIVE_BINS)
    return [
        {
            "low": round(i / P_ALIVE_BINS, 1),
            "high": round((i + 1) / P_ALIVE_BINS, 1),
            "customers": int(n),
        }
        for i, n in enumerate(counts)
    ]


def round_step(top: float, bins: int = CLV_BINS) -> int:
    """The smallest round bin width (1, 2, 2.5 or 5 × 10^k Rupiah, at least 1) that covers
    ``top`` in at most ``bins`` bins."""
    if top <= 0:
        return 1
    raw = top / bins
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw and step == int(step):
            return max(int(step), 1)
    return max(int(10 * power), 1)  # pragma: no cover - the loop always returns


def _clv_histogram(values: np.ndarray) -> list[dict]:
    values = values[np.isfinite(values)]
    if not len(values):
        return []
    top = float(values.max())
    step = round_step(top)
    n = max(1, math.floor(top / step) + 1) if top > 0 else 1
    index = np.clip((values // step).astype(int), 0, n - 1)
    counts = np.bincount(index, minlength=n)
    return [
        {"low": i * step, "high": (i + 1) * step, "customers": int(c)} for i, c in enumerate(counts)
    ]


def _first_product_repeat(frame: pd.DataFrame) -> list[dict]:
    frame = frame[frame["customers"] >= MIN_FIRST_PRODUCT_CUSTOMERS]
    rows = [
        {
            "product": str(r.product),
            "customers": int(r.customers),
            "returned": int(r.returned),
            "repeat_rate": round(int(r.returned) / int(r.customers), 6),
        }
        for r in frame.itertuples(index=False)
    ]
    rows.sort(key=lambda r: (-r["repeat_rate"], -r["customers"], r["product"]))
    return rows[:TOP_FIRST_PRODUCTS]


def _cells(frame: pd.DataFrame, days: int, columns: dict[str, str], money: tuple = ()) -> list:
    part = frame[frame["period_days"] == days]
    out = []
    for row in part.to_dict("records"):
        cell = {}
        for key, column in columns.items():
            value = row[column]
            cell[key] = _money_text(value) if key in money else _plain(value)
        out.append(cell)
    return out


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    return value


# -- the whole -----------------------------------------------------------------------------------


def overview_compute(
    *,
    run: InsightRun,
    result,
    ledger: pa.Table,
    paid: pa.Table,
    lines: pa.Table,
    end: datetime,
    engine: str = "duckdb",
) -> OverviewResult:
    """The overview of ``run`` (its ``models_fitted`` set from ``result``) for every period."""
    merchant = run.merchant
    tz = ZoneInfo(merchant.time_zone)
    local_end = _naive(end, tz)
    ledger = ledger.filter(pc.less_equal(ledger.column("occurred_at"), pa.scalar(local_end)))
    customers = result.customers if result is not None else pd.DataFrame()
    bounds = {days: span_bounds(end, days) for days in PERIODS}
    starts = {days: bounds[days]["current"][0] for days in PERIODS}

    first_ts = pc.min(ledger.column("occurred_at")).as_py() if ledger.num_rows else None
    covered = {
        days: {
            span: span == "current"
            or (first_ts is not None and first_ts <= _naive(bounds[days][span][0], tz))
            for span in SPANS
        }
        for days in PERIODS
    }
    spans = [
        Span(days, span, _naive(bounds[days][span][0], tz), _naive(bounds[days][span][1], tz))
        for days in PERIODS
        for span in SPANS
    ]
    segments = pa.table(
        {
            "customer_id": pa.array(
                customers.index.to_numpy(dtype=np.int64) if len(customers) else [], pa.int64()
            ),
            "segment": pa.array(
                [str(s) for s in customers["segment"]] if len(customers) else [], pa.string()
            ),
        }
    )
    table = ledger.select(
        ["transaction_id", "customer_id", "occurred_at", "total", "is_sale", "payment_method"]
    ).rename_columns(["transaction_id", "customer_id", "ts", "amount", "is_sale", "method"])
    items = lines.select(["transaction_id", "product"]).rename_columns(["transaction_id", "item"])
    # one engine (one DuckDB connection) for every query of the overview
    eng = get_engine(engine)
    try:
        tables = period_tables(table, paid, items, segments, spans, engine=eng)
        member_sales = ledger.filter(
            pc.and_(ledger.column("is_sale"), pc.is_valid(ledger.column("customer_id")))
        ).select(["customer_id", "transaction_id", "occurred_at", "total"])
        before = _stages_before(run, member_sales, starts, tz, eng) if result is not None else {}
    finally:
        close = getattr(eng, "close", None)
        if close is not None:
            close()

    ends = sorted({b[span][1] for b in bounds.values() for span in SPANS})
    points, owed, _ = _ledger_at(merchant, ends)
    members = _members_at(merchant, ends)

    now: dict[int, str] = {}
    if len(customers):
        for customer_id, stage, p in zip(
            customers.index, customers["stage"], customers["p_alive"], strict=True
        ):
            shown = display_stage(str(stage), None if pd.isna(p) else float(p))
            if shown:
                now[int(customer_id)] = shown

    segment_rows = _segment_rows(customers) if len(customers) else []
    shared = {
        "rfm_grid": _rfm_grid(customers) if len(customers) else [],
        "clv_histogram": _clv_histogram(
            customers["clv"].to_numpy(dtype=float) if len(customers) else np.array([])
        ),
        "p_alive_histogram": _p_alive_histogram(
            customers["p_alive"].to_numpy(dtype=float) if len(customers) else np.array([])
        ),
        "first_product_repeat": _first_product_repeat(tables.first_product_repeat),
    }
    periods: dict[int, dict] = {}
    for days in PERIODS:
        previous = [stages.get(str(days)) for stages in before.values()]
        data = {
            "figures": _figures(
                days, tables.figures, bounds[days], covered[days], members, points, owed
            ),
            "stages": {"current": _stage_counts(now.values()), "previous": _stage_counts(previous)},
            "moves": _moves(now, before, days),
            "segments": _segments(segment_rows, tables.segment_revenue, days),
            "weekday_hour": _cells(
                tables.weekday_hour,
                days,
                {"weekday": "weekday", "hour": "hour", "visits": "visits"},
            ),
            "day_of_month": _cells(
                tables.day_of_month,
                days,
                {"day": "day", "visits": "visits", "revenue": "revenue"},
                money=("revenue",),
            ),
            "payments": sorted(
                _cells(
                    tables.payments,
                    days,
                    {"method": "method", "sales": "sales", "revenue": "revenue"},
                    money=("revenue",),
                ),
                key=lambda r: (-r["sales"], r["method"]),
            ),
            "payments_by_segment": sorted(
                _cells(
                    tables.payments_by_segment,
                    days,
                    {
                        "segment": "segment",
                        "method": "method",
                        "sales": "sales",
                        "revenue": "revenue",
                    },
                    money=("revenue",),
                ),
                key=lambda r: (r["segment"], -r["sales"], r["method"]),
            ),
            **shared,
        }
        periods[days] = data
    return OverviewResult(periods=periods, starts=starts, stages_before=before)
