"""The overview (Ringkasan) at /m/<merchant>/: owners and managers land on it, a cashier gets
403; it shows what the analysis stored for the chosen period, each count linking to the customer
list filtered to exactly those customers, in Indonesian (English when switched), and loads no
script from another host."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from langganan.core.models import Role
from langganan.insights.models import InsightRun, PeriodOverview
from langganan.web.charts import plotly_static_path
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
FINISHED = datetime(2026, 12, 5, 3, 0, tzinfo=ZoneInfo("UTC"))  # 10.00 in Jakarta
END = datetime(2026, 12, 5, 0, 0, tzinfo=JAKARTA)


def figure(current, previous, last_year) -> dict:
    return {"current": current, "previous": previous, "last_year": last_year}


#: PeriodOverview.data as the contract of issue 17 describes it
DATA = {
    "figures": {
        "buyers": figure(120, 100, None),
        "new_customers": figure(14, 20, 10),
        "returning_revenue_share": figure(0.62, 0.58, None),
        "revenue": figure("12500000.00", "10000000.00", None),
        "average_basket": figure("25000.00", "25000.00", None),
        "visits_per_customer": figure(1.8, 1.5, None),
        "members": figure(80, 75, 40),
        "points_liability": figure("1250000.00", "1000000.00", None),
        "open_tab": figure("300000.00", None, None),
    },
    "stages": {
        "current": {"new": 14, "active": 50, "loyal": 30, "at_risk": 12, "lapsed": 40, "lost": 9},
        "previous": {"new": 20, "active": 45, "loyal": 37, "at_risk": 8, "lapsed": 38, "lost": 5},
    },
    "moves": [
        {"from": "none", "to": "new", "customers": 14},
        {"from": "loyal", "to": "at_risk", "customers": 7},
        {"from": "active", "to": "loyal", "customers": 3},
    ],
    "rfm_grid": [
        {"r": 5, "f": 4, "customers": 11, "average_monetary": "125000.00"},
        {"r": 1, "f": 1, "customers": 30, "average_monetary": "20000.00"},
    ],
    "segments": [
        {"segment": "champions", "customers": 11, "revenue_share": 0.4, "average_clv": "900000"},
        {"segment": "hibernating", "customers": 30, "revenue_share": 0.05, "average_clv": None},
    ],
    "clv_histogram": [
        {"low": 0, "high": 50000, "customers": 20},
        {"low": 50000, "high": 100000, "customers": 5},
    ],
    "p_alive_histogram": [
        {"low": 0.0, "high": 0.1, "customers": 9},
        {"low": 0.9, "high": 1.0, "customers": 25},
    ],
    "weekday_hour": [
        {"weekday": 0, "hour": 8, "visits": 10},
        {"weekday": 5, "hour": 9, "visits": 25},
    ],
    "day_of_month": [
        {"day": 1, "visits": 30, "revenue": "750000.00"},
        {"day": 15, "visits": 10, "revenue": "250000.00"},
    ],
    "payments": [
        {"method": "cash", "sales": 60, "revenue": "1500000.00"},
        {"method": "qris", "sales": 40, "revenue": "1000000.00"},
    ],
    "payments_by_segment": [
        {"segment": "champions", "method": "qris", "sales": 30, "revenue": "750000.00"},
        {"segment": "champions", "method": "cash", "sales": 10, "revenue": "250000.00"},
    ],
    "first_product_repeat": [
        {"product": "Kopi Susu Gula Aren", "customers": 40, "returned": 30, "repeat_rate": 0.75}
    ],
}


@pytest.fixture
def run(merchant):
    return InsightRun.objects.create(
        merchant=merchant,
        status=InsightRun.Status.DONE,
        finished_at=FINISHED,
        observation_end=END,
        revenue_mix=[
            {
                "month": "2026-11-01T00:00:00",
                "new_revenue": 2000000.0,
                "returning_revenue": 3000000.0,
                "revenue": 5000000.0,
                "returning_revenue_share": 0.6,
                "new_customers": 10,
                "returning_customers": 40,
            }
        ],
        cohorts=[
            {"cohort_month": "2026-10-01T00:00:00", "months_since": 0, "cohort_size": 20,
             "customers": 20, "revenue": 1.0, "retention": 1.0},
            {"cohort_month": "2026-10-01T00:00:00", "months_since": 1, "cohort_size": 20,
             "customers": 9, "revenue": 1.0, "retention": 0.45},
        ],
        rules=[
            {"antecedent": ["Teh Tarik"], "consequent": "Roti Bakar", "support": 0.02,
             "confidence": 0.52, "lift": 14.87, "count": 353},
        ],
    )  # fmt: skip


@pytest.fixture
def stored(run):
    """The overview the analysis stored for each period; the buyers figure tells them apart."""
    for days in PeriodOverview.PERIODS:
        data = copy.deepcopy(DATA)
        data["figures"]["buyers"]["current"] = 1000 + days
        PeriodOverview.objects.create(
            merchant=run.merchant,
            run=run,
            period_days=days,
            period_start=END - timedelta(days=days),
            period_end=END,
            data=data,
        )
    return run


def login(client, merchant, role=Role.OWNER):
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return membership


def home(merchant) -> str:
    return reverse("web:merchant_home", kwargs={"slug": merchant.slug})


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def charts(html: str) -> dict[str, dict]:
    found = re.findall(r'<script id="([\w-]+-spec)" type="application/json">(.*?)</script>', html)
    return {name: json.loads(body) for name, body in found}


def test_owner_and_manager_land_on_the_overview_and_a_cashier_at_the_counter(
    client, merchant, stored
):
    for role in (Role.OWNER, Role.MANAGER):
        login(client, merchant, role)
        assert client.get(reverse("web:home"))["Location"] == home(merchant)
        response = client.get(home(merchant))
        assert response.status_code == 200
        assert "Ringkasan" in response.content.decode()
    login(client, merchant, Role.CASHIER)
    counter = reverse("counter:screen", kwargs={"slug": merchant.slug})
    assert client.get(reverse("web:home"))["Location"] == counter
    assert client.get(home(merchant)).status_code == 403


def test_another_merchants_overview_is_a_404(client, merchant, stored):
    login(client, merchant)
    assert client.get(home(MerchantFactory())).status_code == 404


def test_the_period_is_30_days_unless_another_is_picked(client, merchant, stored):
    login(client, merchant)

    def buyers(suffix: str = "") -> str:
        html = client.get(home(merchant) + suffix).content.decode()
        return re.search(r'data-figure="buyers">.*?figure-value"><a[^>]*>([^<]+)<', html, re.S)[1]

    assert buyers() == "1.030"
    assert buyers("?period=7") == "1.007"
    assert buyers("?period=90") == "1.090"
    assert buyers("?period=365") == "1.365"
    assert buyers("?period=12") == buyers("?period=x") == "1.030"
    html = client.get(home(merchant) + "?period=7").content.decode()
    assert '<a href="?period=7" aria-current="page">7 hari</a>' in html
    assert '<a href="?period=365">1 tahun</a>' in html


def test_it_says_when_the_insights_were_computed_in_the_merchants_time(client, merchant, stored):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    assert "Dihitung 5 Des 2026 10.00" in html


def test_key_figures_in_rupiah_with_their_change(client, merchant, stored):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    assert "Rp 12.500.000" in html and "Rp 25.000" in html and "Rp 1.250.000" in html
    assert "+930%" in html  # buyers 1.030 against 100
    assert "+40%" in html  # new customers 14 against last year's 10
    assert "+4,0 poin" in html  # returning share 62 % against 58 %
    assert "1,8" in html  # visits per customer


def test_each_stage_count_opens_the_list_of_that_stage(client, merchant, stored):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    stage_links = {query(u)["stage"][0]: u for u in links(html) if set(query(u)) == {"stage"}}
    assert set(stage_links) == {"new", "active", "loyal", "at_risk", "lapsed", "lost"}
    customers = reverse("customers:customer_list", kwargs={"slug": merchant.slug})
    assert stage_links["loyal"] == customers + "?stage=loyal"
    for label in ("Baru", "Aktif", "Setia", "Berisiko", "Tidur", "Hilang"):
        assert label in html


def test_the_loyal_who_started_coming_less_often_stand_out_and_link_to_who_they_are(
    client, merchant, stored
):
    login(client, merchant)
    html = client.get(home(merchant) + "?period=90").content.decode()
    moved = [u for u in links(html) if "moved_from" in u]
    assert {(query(u)["moved_from"][0], query(u)["stage"][0]) for u in moved} == {
        ("none", "new"),
        ("loyal", "at_risk"),
        ("active", "loyal"),
    }
    assert all(query(u)["period"] == ["90"] for u in moved)
    row = re.search(r'<tr class="highlight">(.*?)</tr>', html, re.S).group(1)
    assert "Setia" in row and "Berisiko" in row and ">7<" in row
    headline = re.search(r'class="card headline.*?</section>', html, re.S).group(0)
    assert "7" in headline and "pelanggan setia" in headline and "moved_from=loyal" in headline


def test_rfm_cells_segments_bins_and_payments_link_to_exactly_those_customers(
    client, merchant, stored
):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    queries = [query(u) for u in links(html) if "?" in u]
    assert {"r_scores": ["5"], "f_scores": ["4"]} in queries
    assert {"segments": ["champions"]} in queries
    assert {"clv_min": ["50000"], "clv_max": ["100000"]} in queries
    assert {"p_alive_min": ["0.9"], "p_alive_max": ["1"]} in queries
    assert {"payment_methods": ["qris"]} in queries
    assert {"segments": ["champions"], "payment_methods": ["qris"]} in queries
    assert {"member": ["1"]} in queries
    assert "Juara" in html and "Tunai" in html  # labels, never codes
    assert "Teh Tarik" in html and "14,9×" in html and "Kopi Susu Gula Aren" in html


def test_charts_are_built_on_the_server_with_indonesian_separators_and_cell_links(
    client, merchant, stored
):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    specs = charts(html)
    assert len(specs) >= 8
    for spec in specs.values():
        assert spec["layout"]["separators"] == ",."
        assert spec["config"]["locale"] == "id" and spec["config"]["responsive"] is True
    rfm = next(s for name, s in specs.items() if name.startswith("rfm-"))
    cells = rfm["data"][0]["customdata"]
    assert any(url.endswith("?r_scores=5&f_scores=4") for row in cells for url in row)
    locale = json.loads(re.search(r'id="chart-locale"[^>]*>(.*?)</script>', html).group(1))
    assert locale["format"]["shortMonths"][11] == "Des"


def test_no_script_or_style_comes_from_another_host_and_plotly_is_served_here(
    client, merchant, stored
):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(
        s.startswith(("/", "data:")) and not s.startswith("//") for s in sources
    ), sources
    plotly = "/static/" + plotly_static_path()
    assert plotly in sources
    assert finders.find(plotly_static_path()).endswith("plotly/package_data/plotly.min.js")
    served = client.get(plotly)
    assert served.status_code == 200
    assert "immutable" in served["Cache-Control"]  # its URL names the version: fetched once
    assert b"plotly" in b"".join(served.streaming_content)[:2000]


def test_english_when_switched(client, merchant, stored):
    login(client, merchant, Role.MANAGER)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(home(merchant)).content.decode()
    assert "Overview" in html and "Key figures" in html and "Computed 5 Dec 2026 10:00" in html
    assert "Loyal" in html and "At Risk" in html
    assert all(s["layout"]["separators"] == ".," for s in charts(html).values())


def test_without_an_analysis_it_says_what_to_do(client, merchant):
    login(client, merchant)
    html = client.get(home(merchant)).content.decode()
    assert "Belum ada analisis" in html
    run_now = reverse("jobs:run", kwargs={"slug": merchant.slug, "name": "insights.nightly"})
    assert f'action="{run_now}"' in html
    assert "Jalankan analisis sekarang" in html
    assert "plotly" not in html
