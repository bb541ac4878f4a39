"""The market page's groups of buyers, stored by the analysis (langganan.insights.market): they
equal the grouping computed directly, the page reads them and not the buyers' insights, and a
new spend target groups them again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from langganan.core.models import Role
from langganan.demo.generator import demo_merchant_build
from langganan.insights import market
from langganan.insights.models import CustomerInsight, MarketGroup, MarketSnapshot, TargetMarket
from langganan.insights.services import insights_refresh
from tests.factories import MembershipFactory
from tests.insights.test_market import shop  # noqa: F401 (a fixture)

JAKARTA = ZoneInfo("Asia/Jakarta")
KEYS = ("city", "province", "gender", "age_band", "spend_band", "spend_in")


def _canonical(rows) -> list[tuple]:
    return sorted(
        (
            *(
                str(r[k] or "") if k in ("city", "province", "gender", "age_band") else r[k]
                for k in KEYS
            ),
            r["customers"],
            Decimal(r["revenue"] or 0),
        )
        for r in rows
    )


def _figures(result: market.MarketMap) -> list:
    return [
        (
            d.code,
            d.has_target,
            d.in_customers,
            d.in_revenue,
            [(r.key, r.label, r.customers, r.revenue, r.in_target, r.url) for r in d.rows],
        )
        for d in result.dimensions
    ] + [result.buyers, result.revenue, result.gaps]


@pytest.fixture
def cafe(db):
    today = timezone.now().astimezone(JAKARTA).date()
    merchant = demo_merchant_build(slug="kafe-pasar", n_customers=200, seed=23, end=today).merchant
    TargetMarket.objects.create(
        merchant=merchant,
        areas=["Jakarta Selatan"],
        genders=["F"],
        age_bands=["25_34"],
        spend_basis="visit",
        spend_min=Decimal("25000"),
        spend_max=Decimal("100000"),
        payment_methods=["qris"],
    )
    run = insights_refresh(merchant=merchant)
    return merchant, run


def test_the_analysis_stores_the_groups_a_direct_computation_gives(cafe):
    merchant, run = cafe
    target = TargetMarket.objects.get(merchant=merchant)
    snapshots = MarketSnapshot.objects.filter(merchant=merchant, run=run)
    assert sorted(s.period_days for s in snapshots) == list(market.PERIODS)
    for snapshot in snapshots:
        assert snapshot.period_end == run.observation_end
        assert snapshot.period_start == run.observation_end - timedelta(days=snapshot.period_days)
        direct = market.buyers_grouped(
            merchant=merchant,
            start=snapshot.period_start,
            basis="visit",
            target=target,
            today=snapshot.today,
        )
        stored = snapshot.groups.values(*KEYS, "customers", "revenue")
        assert direct, snapshot.period_days
        assert _canonical(stored) == _canonical(direct)
        # the stored groups cover every buyer of the period once
        buyers = CustomerInsight.objects.filter(
            merchant=merchant, last_purchase__gte=snapshot.period_start
        ).count()
        assert sum(g.customers for g in snapshot.groups.all()) == buyers


def test_the_page_shows_the_same_figures_from_the_stored_rows(cafe):
    merchant, run = cafe
    for days in market.PERIODS:
        stored = market.market_map(merchant=merchant, period_days=days)
        direct = market.market_map(merchant=merchant, period_days=days, now=run.observation_end)
        assert stored.start == direct.start and stored.end == direct.end
        assert _figures(stored) == _figures(direct)
        assert stored.buyers > 0


def test_the_page_reads_the_stored_rows_not_the_insights(cafe, client):
    merchant, _run = cafe
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER).user
    client.force_login(owner)
    url = reverse("insights:market", kwargs={"slug": merchant.slug}) + "?days=365"
    table = CustomerInsight._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert any(MarketGroup._meta.db_table in q["sql"] for q in queries.captured_queries)
    buyers = market.market_map(merchant=merchant, period_days=365).buyers
    # with the buyers' insights gone, the page still shows what the analysis stored
    CustomerInsight.objects.filter(merchant=merchant).delete()
    assert market.market_map(merchant=merchant, period_days=365).buyers == buyers
    assert client.get(url).status_code == 200


def test_a_new_spend_target_groups_the_buyers_again(cafe):
    merchant, run = cafe
    target = TargetMarket.objects.get(merchant=merchant)
    market.target_market_save(
        merchant=merchant,
        user=None,
        areas=target.areas,
        genders=target.genders,
        age_bands=target.age_bands,
        spend_basis="month",
        spend_min=Decimal("100000"),
        spend_max=None,
        payment_methods=target.payment_methods,
    )
    snapshot = MarketSnapshot.objects.get(merchant=merchant, period_days=90)
    assert (snapshot.spend_basis, snapshot.spend_min, snapshot.spend_max) == (
        "month",
        Decimal("100000"),
        None,
    )
    assert snapshot.period_end == run.observation_end
    stored = market.market_map(merchant=merchant, period_days=90)
    direct = market.market_map(merchant=merchant, period_days=90, now=run.observation_end)
    assert _figures(stored) == _figures(direct)
    assert stored.spend_basis == "month"


def test_without_stored_groups_the_page_groups_the_buyers_itself(shop):  # noqa: F811
    merchant, _run = shop
    assert not MarketSnapshot.objects.filter(merchant=merchant).exists()
    assert market.market_map(merchant=merchant, period_days=90).buyers == 5
