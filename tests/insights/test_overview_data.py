"""The overview's stored data (PeriodOverview, CustomerInsight.stages_before) against a direct
computation from the demo café's rows: every figure, stage count, move, RFM cell, segment,
histogram, weekday × hour cell, day of the month, payment row and first-product row is
recomputed here with the ORM and plain Python, never with the code under test."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from langganan.analytics.lifecycle import STAGE_ORDER, stage_arrays
from langganan.core.money import to_money
from langganan.demo.generator import demo_merchant_build
from langganan.insights.live import _predict, stored_models, summarize_sales
from langganan.insights.models import CustomerInsight, InsightRun, PeriodOverview
from langganan.insights.selectors import overview_for
from langganan.insights.services import insights_refresh
from langganan.insights.stages import DISPLAY_STAGES, display_stage
from langganan.loyalty.models import Entry, Member, Program
from langganan.sales.models import LineItem, Transaction, TransactionPayment
from tests.factories import CustomerFactory, TransactionFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
END = datetime(2026, 11, 1, 12, 0, tzinfo=JAKARTA)
PERIODS = (7, 30, 90, 365)
MONEY_FIGURES = ("revenue", "average_basket", "points_liability", "open_tab")


@pytest.fixture
def cafe(db):
    merchant = demo_merchant_build(
        slug="kafe", n_customers=150, seed=11, end=date(2026, 11, 1)
    ).merchant
    _add_refunds_and_a_split_sale(merchant)
    return merchant


def _add_refunds_and_a_split_sale(merchant) -> None:
    """The demo records no refund and pays each sale with one method: add a customer's and a
    walk-in's refund in the last week and a sale paid with two methods."""
    recent = Transaction.objects.filter(
        merchant=merchant,
        kind="sale",
        occurred_at__gt=END - timedelta(days=6),
        occurred_at__lte=END,
    ).order_by("occurred_at", "id")
    member_sale = recent.filter(customer__isnull=False).first()
    walk_in_sale = recent.filter(customer__isnull=True).first()
    for sale in (member_sale, walk_in_sale):
        Transaction.objects.create(
            merchant=merchant,
            outlet=sale.outlet,
            customer=sale.customer,
            kind="refund",
            refund_of=sale,
            occurred_at=sale.occurred_at + timedelta(hours=2),
            total=-(sale.total / 2).quantize(Decimal("0.01")),
            payment_method=sale.payment_method,
        )
    split = recent.filter(customer__isnull=False).exclude(pk=member_sale.pk).last()
    TransactionPayment.objects.filter(transaction=split).delete()
    other = "qris" if split.payment_method != "qris" else "cash"
    first_part = (split.total / 3).quantize(Decimal("0.01"))
    TransactionPayment.objects.create(transaction=split, method=other, amount=first_part)
    TransactionPayment.objects.create(
        transaction=split, method=split.payment_method, amount=split.total - first_part
    )


# -- the direct computation ------------------------------------------------------------------


def _spans(days: int) -> dict[str, tuple[datetime, datetime]]:
    start = END - timedelta(days=days)
    year = timedelta(days=365)
    return {
        "current": (start, END),
        "previous": (start - timedelta(days=days), start),
        "last_year": (start - year, END - year),
    }


def _money(value) -> str | None:
    return None if value is None else str(to_money(Decimal(value)))


def _rows(merchant):
    return list(
        Transaction.objects.filter(merchant=merchant, occurred_at__lte=END).values(
            "id", "customer_id", "kind", "occurred_at", "total", "payment_method"
        )
    )


def _firsts(rows) -> dict[int, datetime]:
    firsts: dict[int, datetime] = {}
    for t in rows:
        if t["kind"] == "sale" and t["customer_id"] is not None:
            at = t["occurred_at"]
            firsts[t["customer_id"]] = min(firsts.get(t["customer_id"], at), at)
    return firsts


def _in(t, span) -> bool:
    return span[0] < t["occurred_at"] <= span[1]


def _ledger_balances(merchant, kind: str, end: datetime) -> dict[int, Decimal]:
    balances: dict[int, Decimal] = defaultdict(Decimal)
    for account_id, amount in Entry.objects.filter(
        account__merchant=merchant,
        account__kind=kind,
        account__customer__isnull=False,
        posted_at__lte=end,
    ).values_list("account_id", "amount"):
        balances[account_id] += amount
    return balances


def expected_figures(merchant, days: int) -> dict[str, dict]:
    rows = _rows(merchant)
    firsts = _firsts(rows)
    first_ever = min(t["occurred_at"] for t in rows)
    program = Program.objects.filter(merchant=merchant).first()
    out: dict[str, dict] = defaultdict(dict)
    for name, span in _spans(days).items():
        start, end = span
        out["members"][name] = Member.objects.filter(
            merchant=merchant, enrolled_at__lte=end
        ).count()
        points = sum(_ledger_balances(merchant, "points", end).values(), Decimal(0))
        out["points_liability"][name] = _money(points * program.point_value) if program else None
        owed = sum(
            (-b for b in _ledger_balances(merchant, "tab", end).values() if b < 0), Decimal(0)
        )
        out["open_tab"][name] = _money(owed)
        if name != "current" and first_ever > start:
            for figure in (
                "buyers",
                "new_customers",
                "returning_revenue_share",
                "revenue",
                "average_basket",
                "visits_per_customer",
            ):
                out[figure][name] = None
            continue
        inside = [t for t in rows if _in(t, span)]
        sales = [t for t in inside if t["kind"] == "sale"]
        customer_sales = [t for t in sales if t["customer_id"] is not None]
        buyers = {t["customer_id"] for t in customer_sales}
        revenue = sum((t["total"] for t in inside), Decimal(0))
        customers_revenue = sum((t["total"] for t in inside if t["customer_id"]), Decimal(0))
        returning = sum(
            (t["total"] for t in inside if t["customer_id"] and firsts[t["customer_id"]] <= start),
            Decimal(0),
        )
        out["buyers"][name] = len(buyers)
        out["new_customers"][name] = sum(1 for at in firsts.values() if start < at <= end)
        out["revenue"][name] = _money(revenue)
        out["average_basket"][name] = _money(revenue / len(sales)) if sales else None
        out["returning_revenue_share"][name] = (
            float(returning / customers_revenue) if customers_revenue else None
        )
        out["visits_per_customer"][name] = len(customer_sales) / len(buyers) if buyers else None
    return dict(out)


def _insights(merchant) -> list[CustomerInsight]:
    return list(CustomerInsight.objects.filter(merchant=merchant))


def _paid_parts(merchant, rows) -> dict[int, list[tuple[str, Decimal]]]:
    parts: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for transaction_id, method, amount in TransactionPayment.objects.filter(
        transaction__merchant=merchant
    ).values_list("transaction_id", "method", "amount"):
        parts[transaction_id].append((method, amount))
    for t in rows:
        if t["kind"] == "sale" and t["total"] > 0 and t["id"] not in parts:
            parts[t["id"]].append((t["payment_method"], t["total"]))
    return parts


def _payment_rows(merchant, days: int, by_segment: bool) -> list[dict]:
    rows = _rows(merchant)
    parts = _paid_parts(merchant, rows)
    segment = {i.customer_id: i.segment for i in _insights(merchant)}
    sales: dict[tuple, set] = defaultdict(set)
    revenue: dict[tuple, Decimal] = defaultdict(Decimal)
    for t in rows:
        if not _in(t, _spans(days)["current"]):
            continue
        if by_segment and t["customer_id"] is None:
            continue
        head = (segment[t["customer_id"]],) if by_segment else ()
        if t["kind"] == "sale":
            for method, amount in parts.get(t["id"], []):
                sales[(*head, method)].add(t["id"])
                revenue[(*head, method)] += amount
        else:
            revenue[(*head, t["payment_method"])] += t["total"]
            sales[(*head, t["payment_method"])]  # noqa: B018 (a refund's method is listed)
    names = ("segment", "method") if by_segment else ("method",)
    return [
        {
            **dict(zip(names, key, strict=True)),
            "sales": len(sales[key]),
            "revenue": _money(revenue[key]),
        }
        for key in revenue
    ]


def _first_product_repeat(merchant) -> list[dict]:
    tz = JAKARTA
    sales = (
        Transaction.objects.filter(
            merchant=merchant, kind="sale", customer__isnull=False, occurred_at__lte=END
        )
        .order_by("customer_id", "occurred_at", "id")
        .values_list("customer_id", "id", "occurred_at")
    )
    by_customer: dict[int, list] = defaultdict(list)
    for customer_id, transaction_id, at in sales:
        by_customer[customer_id].append((at, transaction_id))
    items: dict[int, set[str]] = defaultdict(set)
    for transaction_id, name in LineItem.objects.filter(
        transaction__merchant=merchant, transaction__kind="sale"
    ).values_list("transaction_id", "product_name"):
        items[transaction_id].add(name)
    customers: Counter = Counter()
    returned: Counter = Counter()
    for history in by_customer.values():
        first_at, first_id = history[0]
        first_day = first_at.astimezone(tz).date()
        back = any(at.astimezone(tz).date() > first_day for at, _ in history)
        for product in items[first_id]:
            customers[product] += 1
            returned[product] += back
    rows = [
        {
            "product": p,
            "customers": n,
            "returned": returned[p],
            "repeat_rate": returned[p] / n,
        }
        for p, n in customers.items()
        if n >= 5
    ]
    rows.sort(key=lambda r: (-r["repeat_rate"], -r["customers"], r["product"]))
    return rows[:15]


# -- the tests ---------------------------------------------------------------------------------


def _items(row: dict) -> list:
    return sorted(row.items())


def _approx(value):
    return value if value is None or isinstance(value, str) else pytest.approx(value, abs=1e-6)


def test_every_period_is_stored_for_the_latest_run(cafe):
    run = insights_refresh(merchant=cafe, observation_end=END)
    stored = PeriodOverview.objects.filter(run=run)
    assert sorted(stored.values_list("period_days", flat=True)) == list(PERIODS)
    for overview in stored:
        assert overview.merchant_id == cafe.pk
        assert overview.period_end == END
        assert overview.period_start == END - timedelta(days=overview.period_days)
    again = insights_refresh(merchant=cafe, observation_end=END)
    assert overview_for(merchant=cafe, period_days=30).run_id == again.pk
    assert overview_for(merchant=cafe, period_days=14) is None
    InsightRun.objects.filter(pk=again.pk).update(status=InsightRun.Status.FAILED)
    assert overview_for(merchant=cafe, period_days=30).run_id == run.pk


def test_figures_agree_with_the_demo_rows(cafe):
    insights_refresh(merchant=cafe, observation_end=END)
    for days in PERIODS:
        figures = overview_for(merchant=cafe, period_days=days).data["figures"]
        expected = expected_figures(cafe, days)
        assert set(figures) == set(expected)
        for name, spans in expected.items():
            assert set(figures[name]) == {"current", "previous", "last_year"}
            for span, value in spans.items():
                assert figures[name][span] == _approx(value), (days, name, span)
    figures = overview_for(merchant=cafe, period_days=30).data["figures"]
    assert figures["revenue"]["current"] != figures["revenue"]["previous"]
    assert figures["open_tab"]["current"] != "0.00"  # the demo's regulars run tabs
    assert figures["points_liability"]["current"] not in (None, "0.00")


def test_stages_and_moves_agree_with_the_stored_rows(cafe):
    insights_refresh(merchant=cafe, observation_end=END)
    rows = _insights(cafe)
    now = {i.customer_id: display_stage(i.lifecycle, i.p_alive) for i in rows}
    for days in PERIODS:
        data = overview_for(merchant=cafe, period_days=days).data
        key = str(days)
        assert data["stages"]["current"] == {s: Counter(now.values())[s] for s in DISPLAY_STAGES}
        before = Counter(i.stages_before[key] for i in rows if key in i.stages_before)
        assert data["stages"]["previous"] == {s: before[s] for s in DISPLAY_STAGES}
        moves = Counter(
            (i.stages_before.get(key, "none"), now[i.customer_id])
            for i in rows
            if i.stages_before.get(key, "none") != now[i.customer_id]
        )
        assert {(m["from"], m["to"]): m["customers"] for m in data["moves"]} == moves
        counts = [m["customers"] for m in data["moves"]]
        assert counts == sorted(counts, reverse=True)
    # new customers of the last 30 days were nobody 30 days ago
    data = overview_for(merchant=cafe, period_days=30).data
    new = [i for i in rows if i.first_purchase > END - timedelta(days=30)]
    assert new and all("30" not in i.stages_before for i in new)
    assert sum(m["customers"] for m in data["moves"] if m["from"] == "none") == len(new)


def test_rfm_segments_and_histograms_agree_with_the_stored_rows(cafe):
    insights_refresh(merchant=cafe, observation_end=END)
    rows = _insights(cafe)
    data = overview_for(merchant=cafe, period_days=90).data
    cells: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for i in rows:
        cells[(i.r_score, i.f_score)].append(i.total_spend)
    assert [(c["r"], c["f"]) for c in data["rfm_grid"]] == sorted(cells)
    for cell in data["rfm_grid"]:
        spends = cells[(cell["r"], cell["f"])]
        assert cell["customers"] == len(spends)
        assert cell["average_monetary"] == _money(sum(spends) / len(spends))

    rows_by_customer = {i.customer_id: i for i in rows}
    span = _spans(90)["current"]
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for t in _rows(cafe):
        if t["customer_id"] is not None and _in(t, span):
            revenue[rows_by_customer[t["customer_id"]].segment] += t["total"]
    total = sum(revenue.values())
    by_segment: dict[str, list[CustomerInsight]] = defaultdict(list)
    for i in rows:
        by_segment[i.segment].append(i)
    assert {s["segment"] for s in data["segments"]} == set(by_segment)
    for s in data["segments"]:
        members = by_segment[s["segment"]]
        clvs = [i.clv for i in members if i.clv is not None]
        assert s["customers"] == len(members)
        assert s["revenue_share"] == pytest.approx(float(revenue[s["segment"]] / total), abs=1e-6)
        assert s["average_clv"] == (_money(sum(clvs) / len(clvs)) if clvs else None)
    counts = [s["customers"] for s in data["segments"]]
    assert counts == sorted(counts, reverse=True)

    p_alive = [i.p_alive for i in rows if i.p_alive is not None]
    bins = data["p_alive_histogram"]
    assert [(b["low"], b["high"]) for b in bins] == [
        (round(k / 10, 1), round((k + 1) / 10, 1)) for k in range(10)
    ]
    for k, b in enumerate(bins):
        assert b["customers"] == sum(1 for p in p_alive if min(int(p * 10), 9) == k)

    clvs = [float(i.clv) for i in rows if i.clv is not None]
    histogram = data["clv_histogram"]
    step = histogram[0]["high"] - histogram[0]["low"]
    assert histogram[0]["low"] == 0 and 5 <= len(histogram) <= 11
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert mantissa in (1, 2, 2.5, 5)  # round Rupiah edges
    assert all(b["high"] - b["low"] == step for b in histogram)
    assert histogram[-1]["high"] > max(clvs)
    for b in histogram:
        assert b["customers"] == sum(1 for c in clvs if b["low"] <= c < b["high"])


def test_when_and_how_customers_pay_agree_with_the_demo_rows(cafe):
    insights_refresh(merchant=cafe, observation_end=END)
    for days in (7, 30):
        data = overview_for(merchant=cafe, period_days=days).data
        span = _spans(days)["current"]
        inside = [t for t in _rows(cafe) if _in(t, span)]
        cells = Counter(
            (
                t["occurred_at"].astimezone(JAKARTA).weekday(),
                t["occurred_at"].astimezone(JAKARTA).hour,
            )
            for t in inside
            if t["kind"] == "sale"
        )
        assert {(c["weekday"], c["hour"]): c["visits"] for c in data["weekday_hour"]} == cells
        assert sum(c["visits"] for c in data["weekday_hour"]) == sum(
            1 for t in inside if t["kind"] == "sale"
        )
        visits: Counter = Counter()
        revenue: dict[int, Decimal] = defaultdict(Decimal)
        for t in inside:
            day = t["occurred_at"].astimezone(JAKARTA).day
            visits[day] += t["kind"] == "sale"
            revenue[day] += t["total"]
        assert {c["day"]: (c["visits"], c["revenue"]) for c in data["day_of_month"]} == {
            day: (visits[day], _money(revenue[day])) for day in revenue
        }
        for key, by_segment in (("payments", False), ("payments_by_segment", True)):
            expected = _payment_rows(cafe, days, by_segment)
            got = data[key]
            # (PostgreSQL's jsonb keeps the keys in its own order)
            assert sorted(got, key=_items) == sorted(expected, key=_items), key
    # the split sale counts for both its methods; the refunds come off their methods
    data = overview_for(merchant=cafe, period_days=7).data
    assert (
        sum(p["sales"] for p in data["payments"])
        > Transaction.objects.filter(
            merchant=cafe,
            kind="sale",
            occurred_at__gt=END - timedelta(days=7),
            occurred_at__lte=END,
        ).count()
    )
    assert sum(Decimal(p["revenue"]) for p in data["payments"]) == Decimal(
        data["figures"]["revenue"]["current"]
    )


def test_first_products_agree_with_the_demo_rows(cafe):
    insights_refresh(merchant=cafe, observation_end=END)
    expected = _first_product_repeat(cafe)
    assert expected  # the demo has products that bring customers back
    for days in (7, 365):
        got = overview_for(merchant=cafe, period_days=days).data["first_product_repeat"]
        assert [(r["product"], r["customers"], r["returned"]) for r in got] == [
            (r["product"], r["customers"], r["returned"]) for r in expected
        ]
        assert [r["repeat_rate"] for r in got] == pytest.approx(
            [r["repeat_rate"] for r in expected], abs=1e-6
        )


def _stage_with_live(models, sales, start) -> str | None:
    """The display stage from her sales at or before ``start``, by insights.live's own
    summary and prediction (the path a sale's live update takes)."""
    kept = [(at, total) for at, total in sales if at <= start]
    summary = summarize_sales(kept, JAKARTA, start.astimezone(JAKARTA).date())
    if summary is None:
        return None
    predicted = _predict(models, [summary])
    code = stage_arrays(
        np.array([summary.frequency], dtype=float),
        np.array([summary.recency], dtype=float),
        np.array([summary.T], dtype=float),
        np.array([summary.orders], dtype=float),
        np.asarray(predicted["p_alive"], dtype=float),
        np.array([np.nan if summary.median_gap_days is None else summary.median_gap_days]),
        models.rules,
    )["code"][0]
    p = float(predicted["p_alive"][0])
    return display_stage(STAGE_ORDER[int(code)], None if math.isnan(p) else p)


def test_stages_before_agree_with_a_live_restaging_at_each_start(cafe):
    outlet = Transaction.objects.filter(merchant=cafe).first().outlet
    quiet = CustomerFactory(merchant=cafe, full_name="Bu Sari")
    for days_ago in (41, 40):
        TransactionFactory(
            merchant=cafe,
            outlet=outlet,
            customer=quiet,
            occurred_at=END - timedelta(days=days_ago),
            total=Decimal("30000"),
        )
    run = insights_refresh(merchant=cafe, observation_end=END)
    models = stored_models(run)
    sales: dict[int, list] = defaultdict(list)
    for customer_id, at, total in Transaction.objects.filter(
        merchant=cafe, kind="sale", customer__isnull=False, occurred_at__lte=END
    ).values_list("customer_id", "occurred_at", "total"):
        sales[customer_id].append((at, total))
    rows = _insights(cafe)
    assert rows and len(rows) == len(sales)
    for insight in rows:
        expected = {}
        for days in PERIODS:
            stage = _stage_with_live(models, sales[insight.customer_id], END - timedelta(days=days))
            if stage is not None:
                expected[str(days)] = stage
        assert insight.stages_before == expected, insight.customer_id

    # her only sales are 40 days old: 30 days ago she was staged from them, 90 days ago she was
    # not a customer yet
    sari = CustomerInsight.objects.get(customer=quiet)
    assert set(sari.stages_before) == {"7", "30"}
    assert sari.stages_before["30"] in ("new", "active")
    moves = overview_for(merchant=cafe, period_days=90).data["moves"]
    now = display_stage(sari.lifecycle, sari.p_alive)
    assert any(m["from"] == "none" and m["to"] == now for m in moves)


def test_another_merchants_data_never_reaches_an_overview(cafe):
    other = demo_merchant_build(
        slug="warung", n_customers=60, seed=5, end=date(2026, 11, 1)
    ).merchant
    insights_refresh(merchant=cafe, observation_end=END)
    insights_refresh(merchant=other, observation_end=END)
    for merchant in (cafe, other):
        rows = _insights(merchant)
        for days in (30, 365):
            overview = overview_for(merchant=merchant, period_days=days)
            assert overview.merchant_id == merchant.pk
            data = overview.data
            expected = expected_figures(merchant, days)
            for name in ("buyers", "new_customers", "revenue", "members", "open_tab"):
                assert data["figures"][name]["current"] == _approx(expected[name]["current"])
            assert sum(data["stages"]["current"].values()) == len(rows)
            assert sum(s["customers"] for s in data["segments"]) == len(rows)
            assert sum(c["customers"] for c in data["rfm_grid"]) == len(rows)
            span = _spans(days)["current"]
            own_sales = sum(1 for t in _rows(merchant) if _in(t, span) and t["kind"] == "sale")
            assert sum(c["visits"] for c in data["weekday_hour"]) == own_sales
    both = Transaction.objects.filter(
        kind="sale", occurred_at__gt=END - timedelta(days=30), occurred_at__lte=END
    ).count()
    ours = overview_for(merchant=cafe, period_days=30).data["weekday_hour"]
    assert sum(c["visits"] for c in ours) < both


def test_a_merchant_without_sales_gets_empty_overviews(merchant):
    run = insights_refresh(merchant=merchant, observation_end=END)
    data = overview_for(merchant=merchant, period_days=30).data
    assert run.status == InsightRun.Status.DONE
    assert data["figures"]["buyers"] == {"current": 0, "previous": None, "last_year": None}
    assert data["figures"]["revenue"]["current"] == "0.00"
    assert data["figures"]["average_basket"]["current"] is None
    assert data["figures"]["points_liability"]["current"] is None  # no loyalty program
    assert data["stages"]["current"] == dict.fromkeys(DISPLAY_STAGES, 0)
    assert data["moves"] == [] and data["payments"] == [] and data["clv_histogram"] == []
