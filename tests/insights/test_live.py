"""Each sale updates its customer's insight at once (langganan.insights.live).

The expected values are the engine's own: a full analysis for what needs no model (orders,
spend, R, F, M), and the engine's functions on her new summary with the run's stored parameters
for what does (P(active), expected purchases, stage, segment).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from langganan.analytics.btyd import ParetoNBD
from langganan.analytics.btyd.mbg_cnbd import MBGCNBD
from langganan.analytics.consistency import segment_for_stage
from langganan.analytics.habits import purchase_rhythm
from langganan.analytics.lifecycle import LifecycleRules, lifecycle_stage
from langganan.analytics.summary import summarize
from langganan.demo.generator import demo_merchant_build
from langganan.insights import live
from langganan.insights.models import CustomerInsight, InsightRun
from langganan.insights.services import insights_refresh
from langganan.loyalty import checkout as co
from langganan.loyalty.cashier import customer_card_get
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, RefundRequest
from langganan.sales.importing import transactions_import
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, OutletFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
MODELS = {"mbg_cnbd": MBGCNBD, "pareto_nbd": ParetoNBD}


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    live._cache.clear()
    yield
    live._cache.clear()


@pytest.fixture
def cafe(db):
    """The demo café up to today, analysed now."""
    today = timezone.now().astimezone(JAKARTA).date()
    merchant = demo_merchant_build(slug="kafe-live", n_customers=120, seed=5, end=today).merchant
    run = insights_refresh(merchant=merchant)
    return merchant, run


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Runs what waits for the commit, as the commit of the test's sale would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _sell(commits, merchant, customer, key, total="30000"):
    with commits():
        return co.checkout(
            merchant=merchant,
            outlet=merchant.outlets.first(),
            idempotency_key=key,
            request=CheckoutRequest(
                lines=[
                    BasketLine(name="Kopi susu", unit_price=Decimal(total), quantity=Decimal(1))
                ],
                customer_id=customer.pk,
            ),
        )


def _lapsed(merchant) -> CustomerInsight:
    row = (
        CustomerInsight.objects.filter(merchant=merchant, lifecycle="lapsed", frequency__gte=2)
        .exclude(customer__member_code=None)
        .select_related("customer")
        .order_by("customer_id")
        .first()
    )
    assert row is not None, "the demo café has lapsed regulars"
    return row


def _engine_expectation(row: CustomerInsight, run: InsightRun) -> dict:
    """Her values by the engine's functions on her sales, with the run's stored parameters, at
    the observation day the live row was computed for."""
    end_day = row.first_purchase.astimezone(JAKARTA).date() + timedelta(days=row.age_days)
    sales = Transaction.objects.filter(customer_id=row.customer_id, kind="sale")
    frame = pd.DataFrame(
        [
            (row.customer_id, at.astimezone(JAKARTA).replace(tzinfo=None), float(total))
            for at, total in sales.values_list("occurred_at", "total")
        ],
        columns=["customer_id", "occurred_at", "total"],
    )
    summary = summarize(frame, observation_end=pd.Timestamp(end_day))
    gap = purchase_rhythm(frame)["median_gap_days"].reindex(summary.index)
    fitted = run.models_fitted
    chosen = fitted["choice"]["model"]
    model = MODELS[chosen].from_params(fitted[chosen]["params"])
    f, r, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    t_end = np.maximum(T, 0.5)
    p_alive = model.probability_alive(f, r, t_end)
    rules = LifecycleRules(population_gap_days=fitted["lifecycle"]["population_gap_days"])
    stage = lifecycle_stage(summary, p_alive, gap, rules, details=True)
    segment = segment_for_stage(stage["stage"], pd.Series([row.f_score]), pd.Series([row.m_score]))
    return {
        "summary": summary.iloc[0],
        "p_alive": float(p_alive[0]),
        "expected_30": float(model.expected_purchases(30.0, f, r, t_end)[0]),
        "stage": str(stage["stage"].iloc[0]),
        "days_since_last": float(stage["days_since_last"].iloc[0]),
        "segment": str(segment.iloc[0]),
        "median_gap": gap.iloc[0],
    }


def test_a_lapsed_customers_sale_makes_her_active_at_once_on_her_card(cafe, commits):
    merchant, run = cafe
    before = _lapsed(merchant)
    customer = before.customer

    _sell(commits, merchant, customer, "live-1")

    after = CustomerInsight.objects.get(customer=customer)
    assert after.lifecycle in ("active", "loyal")
    assert after.segment in ("champions", "loyal", "potential_loyalist", "promising")
    assert after.orders == before.orders + 1
    assert after.days_since_last == 0
    assert after.p_alive > before.p_alive
    assert after.next_purchase_date is None or after.evidence["next_visit"] == "ok"
    # what stays as of the run: her ranks and habits
    assert (after.r_score, after.f_score, after.m_score) == (
        before.r_score,
        before.f_score,
        before.m_score,
    )
    assert after.usual_order == before.usual_order and after.run_id == run.pk
    assert {k: after.evidence[k] for k in ("habits", "usual")} == {
        k: before.evidence[k] for k in ("habits", "usual")
    }
    card = customer_card_get(merchant=merchant, member_code=customer.member_code)
    assert card.lifecycle == after.lifecycle and card.segment == after.segment
    assert card.p_alive == pytest.approx(after.p_alive)


def test_the_update_can_be_switched_off_for_the_nightly_analysis(cafe, commits, settings):
    """LANGGANAN_LIVE_INSIGHTS=0: the sale is recorded, her insight waits for the analysis."""
    merchant, _run = cafe
    settings.LIVE_INSIGHTS = False
    before = _lapsed(merchant)

    _sell(commits, merchant, before.customer, "live-off")

    after = CustomerInsight.objects.get(customer=before.customer)
    assert (after.lifecycle, after.orders) == (before.lifecycle, before.orders)


def test_her_page_says_when_a_sale_last_updated_her_insight(cafe, commits, client):
    merchant, _run = cafe
    before = _lapsed(merchant)
    assert before.live_updated_at is None  # as the run computed it
    url = reverse(
        "customers:customer_detail", kwargs={"slug": merchant.slug, "pk": before.customer_id}
    )
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    assert "Diperbarui setelah belanja terakhirnya" not in client.get(url).content.decode()

    started = timezone.now()
    _sell(commits, merchant, before.customer, "live-page")

    after = CustomerInsight.objects.get(customer=before.customer)
    assert started <= after.live_updated_at <= timezone.now()
    html = client.get(url).content.decode()
    assert "Dihitung per" in html and "Diperbarui setelah belanja terakhirnya" in html


def test_the_update_equals_the_engine_on_her_new_summary_with_the_stored_parameters(cafe, commits):
    merchant, run = cafe
    customer = _lapsed(merchant).customer
    _sell(commits, merchant, customer, "live-1", total="42500")
    row = CustomerInsight.objects.get(customer=customer)

    expected = _engine_expectation(row, run)

    s = expected["summary"]
    assert (row.orders, row.frequency) == (s["orders"], s["frequency"])
    assert (row.recency_days, row.age_days) == (s["recency"], s["T"])
    assert row.days_since_last == expected["days_since_last"]
    assert row.total_spend == Decimal(repr(float(s["total_spend"]))).quantize(Decimal("0.01"))
    assert row.monetary_value == Decimal(repr(float(s["monetary_value"]))).quantize(Decimal("0.01"))
    assert row.median_gap_days == pytest.approx(expected["median_gap"])
    assert row.p_alive == pytest.approx(expected["p_alive"], rel=1e-9)
    assert row.expected_purchases_30 == pytest.approx(expected["expected_30"], rel=1e-9)
    assert row.lifecycle == expected["stage"]
    assert row.segment == expected["segment"]
    assert row.clv is not None and row.clv > 0 and row.clv_note == ""
    assert row.p_alive_low is None and row.clv_low is None  # no draws kept: no interval


def test_what_needs_no_model_equals_a_full_analysis_after_the_sale(cafe, commits):
    merchant, _run = cafe
    customer = _lapsed(merchant).customer
    _sell(commits, merchant, customer, "live-1")
    live_row = CustomerInsight.objects.get(customer=customer)

    insights_refresh(merchant=merchant)  # the same day: the same observation day
    full = CustomerInsight.objects.get(customer=customer)

    for name in (
        "orders",
        "frequency",
        "recency_days",
        "age_days",
        "days_since_last",
        "total_spend",
        "monetary_value",
        "first_purchase",
        "last_purchase",
    ):
        assert getattr(live_row, name) == getattr(full, name), name
    assert live_row.median_gap_days == pytest.approx(full.median_gap_days)


def test_a_new_customers_first_sale_gives_her_a_new_row(cafe, commits):
    merchant, run = cafe
    newcomer = CustomerFactory(merchant=merchant)

    _sell(commits, merchant, newcomer, "live-new")

    row = CustomerInsight.objects.get(customer=newcomer)
    assert (row.lifecycle, row.segment) == ("new", "new")
    assert (row.orders, row.frequency, row.recency_days, row.age_days) == (1, 0, 0.0, 0.0)
    assert row.total_spend == Decimal("30000.00") and row.monetary_value == 0
    assert row.run_id == run.pk
    assert 0 < row.p_alive <= 1 and row.expected_purchases_90 > 0
    assert (row.r_score, row.f_score, row.m_score, row.rfm_segment) == (0, 0, 0, "")
    assert row.evidence == {
        "habits": "few_visits",
        "usual": "few_visits",
        "next_visit": "few_visits",
    }


def test_a_refund_leaves_the_insight_as_a_full_analysis_would_see_it(cafe, commits):
    """The engine counts only sales (a refund is not a visit and does not lower spend), so a
    refund changes nothing a full analysis computes: the row is left alone."""
    merchant, _run = cafe
    customer = _lapsed(merchant).customer
    sale = _sell(commits, merchant, customer, "live-1")
    before = CustomerInsight.objects.get(customer=customer)

    co.refund(
        merchant=merchant,
        outlet=None,
        idempotency_key="refund-1",
        request=RefundRequest(sale_id=sale["transaction"]["id"]),
    )

    after = CustomerInsight.objects.get(customer=customer)
    fields = [f.attname for f in CustomerInsight._meta.concrete_fields]
    assert {f: getattr(after, f) for f in fields} == {f: getattr(before, f) for f in fields}
    sales = Transaction.objects.filter(customer=customer, kind="sale")
    assert after.orders == sales.count()


def test_a_failing_update_is_logged_and_the_sale_still_succeeds(cafe, commits, monkeypatch, caplog):
    merchant, _run = cafe
    before = _lapsed(merchant)

    def broken(*args, **kwargs):
        with connection.cursor() as cursor:  # a database error: PostgreSQL aborts the block
            cursor.execute("SELECT no_such_column FROM insights_customerinsight")

    monkeypatch.setattr(live, "_update_one", broken)  # the sale's path
    monkeypatch.setattr(live, "_update_chunk", broken)
    with caplog.at_level(logging.ERROR, logger="langganan.insights.live"):
        result = _sell(commits, merchant, before.customer, "live-broken")

    assert Transaction.objects.filter(pk=result["transaction"]["id"]).exists()
    assert result["points_earned"] >= 0 and not result["replayed"]
    assert "live insight update after a sale failed" in caplog.text
    after = CustomerInsight.objects.get(customer=before.customer)
    assert (after.orders, after.lifecycle) == (before.orders, before.lifecycle)


def test_an_import_updates_its_buyers_and_creates_rows_for_new_ones(cafe, commits, tmp_path):
    merchant, _run = cafe
    before = _lapsed(merchant)
    phone = before.customer.phone
    today = timezone.now().astimezone(JAKARTA).date().isoformat()
    path = tmp_path / "sales.csv"
    path.write_text(
        f"phone,date,time,total\n{phone},{today},09:15,27000\n+6281399990001,{today},09:30,18000\n"
    )

    with commits():
        report = transactions_import(merchant=merchant, path=path)

    assert report.committed and report.transactions_created == 2
    after = CustomerInsight.objects.get(customer=before.customer)
    assert after.orders == before.orders + 1 and after.days_since_last == 0
    assert after.lifecycle in ("active", "loyal")
    newcomer = CustomerInsight.objects.get(merchant=merchant, customer__phone="+6281399990001")
    assert (newcomer.lifecycle, newcomer.orders) == ("new", 1)


def test_before_the_first_analysis_a_sale_writes_no_insight(db, commits):
    outlet = OutletFactory(merchant=MerchantFactory())
    customer = CustomerFactory(merchant=outlet.merchant)

    _sell(commits, outlet.merchant, customer, "first")

    assert not CustomerInsight.objects.filter(customer=customer).exists()


def test_a_run_stored_before_the_population_gap_was_kept_uses_its_rows_median(cafe):
    merchant, run = cafe
    kept = run.models_fitted["lifecycle"]["population_gap_days"]
    old = InsightRun.objects.get(pk=run.pk)
    old.models_fitted = {k: v for k, v in old.models_fitted.items() if k != "lifecycle"}

    models = live.stored_models(old)

    assert models.rules.population_gap_days == pytest.approx(kept)
