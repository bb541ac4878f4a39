"""The customer map against the target market: figures checked against the factory rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from langganan.core.models import Role
from langganan.core.money import format_rupiah
from langganan.customers.forms import CustomerFilterForm, form_data
from langganan.insights import market
from langganan.insights.models import CustomerInsight, InsightRun, PeriodOverview, TargetMarket
from tests.factories import CustomerFactory, MembershipFactory


def years_ago(years: int):
    """A birth date that makes someone ``years`` old today (ten days past the birthday)."""
    return market._years_before(timezone.localdate(), years) - timedelta(days=10)


#: (city, province, gender, age or None, orders, total spend, days since the last purchase)
PEOPLE = [
    ("Bandung", "Jawa Barat", "F", 28, 4, "400000", 10),
    ("Bandung", "Jawa Barat", "F", 30, 2, "100000", 20),
    ("Jakarta", "DKI Jakarta", "M", 20, 5, "150000", 30),
    ("bandung ", "Jawa Barat", "", None, 1, "20000", 5),
    ("Cimahi", "Jawa Barat", "M", 60, 3, "90000", 60),
    ("Surabaya", "Jawa Timur", "F", 40, 3, "900000", 200),
]


def insight_for(customer, run, orders: int, total: str, days_ago: int, age_days: float = 200):
    now = timezone.now()
    return CustomerInsight.objects.create(
        merchant=customer.merchant,
        customer=customer,
        run=run,
        orders=orders,
        frequency=orders - 1,
        recency_days=age_days - days_ago,
        age_days=age_days,
        days_since_last=days_ago,
        total_spend=Decimal(total),
        monetary_value=Decimal(total) / orders,
        first_purchase=now - timedelta(days=age_days),
        last_purchase=now - timedelta(days=days_ago),
        r_score=3,
        f_score=3,
        m_score=3,
        segment="loyal",
        lifecycle="active",
    )


@pytest.fixture
def shop(merchant):
    run = InsightRun.objects.create(merchant=merchant, status=InsightRun.Status.DONE)
    for city, province, gender, age, orders, total, days_ago in PEOPLE:
        customer = CustomerFactory(
            merchant=merchant,
            city=city,
            province=province,
            gender=gender,
            birth_date=years_ago(age) if age else None,
        )
        insight_for(customer, run, orders, total, days_ago)
    return merchant, run


def buyers(days: int):
    return [p for p in PEOPLE if p[6] <= days]


def dim(result, code):
    return next(d for d in result.dimensions if d.code == code)


def test_buyers_by_area_merge_spellings_and_leave_out_older_buyers(shop):
    merchant, _run = shop
    result = market.market_map(merchant=merchant, period_days=90)
    expected = {}
    for city, *_rest, _orders, total, _days in buyers(90):
        key = city.strip().casefold()
        n, r = expected.get(key, (0, Decimal(0)))
        expected[key] = (n + 1, r + Decimal(total))
    rows = {row.key: (row.customers, row.revenue) for row in dim(result, "area").rows}
    assert rows == expected
    assert result.buyers == len(buyers(90))
    assert result.revenue == sum(Decimal(p[5]) for p in buyers(90))
    total = sum(Decimal(p[5]) for p in buyers(90))
    bandung = next(r for r in dim(result, "area").rows if r.key == "bandung")
    assert bandung.revenue_share == pytest.approx(float(expected["bandung"][1] / total))
    assert bandung.customer_share == pytest.approx(expected["bandung"][0] / len(buyers(90)))
    # the year includes the customer who last bought 200 days ago
    assert market.market_map(merchant=merchant, period_days=365).buyers == len(buyers(365))


def test_gender_age_and_spend_bands_match_a_direct_count(shop):
    merchant, _run = shop
    result = market.market_map(merchant=merchant, period_days=90)
    genders = {row.key: row.customers for row in dim(result, "gender").rows}
    expected_genders = {}
    for p in buyers(90):
        key = p[2] or market.UNKNOWN
        expected_genders[key] = expected_genders.get(key, 0) + 1
    assert genders == expected_genders

    def band_of(age):
        if age is None:
            return market.UNKNOWN
        for code, low, high in market.AGE_BANDS:
            if (low is None or age >= low) and (high is None or age <= high):
                return code

    ages = {row.key: (row.customers, row.revenue) for row in dim(result, "age").rows}
    expected_ages = {}
    for p in buyers(90):
        n, r = expected_ages.get(band_of(p[3]), (0, Decimal(0)))
        expected_ages[band_of(p[3])] = (n + 1, r + Decimal(p[5]))
    assert ages == expected_ages

    bands = market.SPEND_BANDS["visit"]
    expected_spend = {}
    for p in buyers(90):
        per_visit = Decimal(p[5]) / p[4]
        index = max(i for i, low in enumerate(bands) if per_visit >= low)
        expected_spend[str(index)] = expected_spend.get(str(index), 0) + 1
    assert {row.key: row.customers for row in dim(result, "spend").rows} == expected_spend


def test_target_shares_and_the_largest_gap_in_words(shop):
    merchant, _run = shop
    TargetMarket.objects.create(
        merchant=merchant,
        areas=["Jakarta"],
        genders=["M"],
        age_bands=["18_24"],
        spend_min=Decimal("25000"),
        spend_max=Decimal("60000"),
    )
    result = market.market_map(merchant=merchant, period_days=90)
    people = buyers(90)
    total = sum(Decimal(p[5]) for p in people)
    area = dim(result, "area")
    in_area = [p for p in people if p[0].strip().casefold() == "jakarta"]
    assert area.in_customers == pytest.approx(len(in_area) / len(people))
    assert area.in_revenue == pytest.approx(float(sum(Decimal(p[5]) for p in in_area) / total))
    spend = dim(result, "spend")
    in_spend = [p for p in people if Decimal("25000") <= Decimal(p[5]) / p[4] <= Decimal("60000")]
    assert spend.in_customers == pytest.approx(len(in_spend) / len(people))
    assert spend.in_revenue == pytest.approx(float(sum(Decimal(p[5]) for p in in_spend) / total))
    # the largest out-of-target age band by revenue, named in Indonesian
    by_age: dict[str, Decimal] = {}
    for p in people:
        if p[3] is None:
            continue
        label = market.age_label(
            next(c for c, lo, hi in market.AGE_BANDS if (lo or 0) <= p[3] <= (hi or 200))
        )
        by_age[label] = by_age.get(label, Decimal(0)) + Decimal(p[5])
    by_age.pop("18–24", None)
    top_label, top_revenue = max(by_age.items(), key=lambda item: item[1])
    share = round(float(top_revenue / total) * 100)
    with translation.override("id"):
        gaps = market.market_gaps(result)
    expected = f"{share}% pendapatan datang dari pelanggan usia {top_label}; target Anda 18–24."
    assert expected in gaps
    with translation.override("en"):
        english = market.market_gaps(market.market_map(merchant=merchant, period_days=90))
    assert f"{share}% of revenue comes from customers aged {top_label}" in " ".join(english)


def test_payment_methods_come_from_the_stored_overview(shop):
    merchant, run = shop
    now = timezone.now()
    rows = [
        {"segment": "loyal", "method": "qris", "sales": 7, "revenue": "350000.00"},
        {"segment": "new", "method": "qris", "sales": 1, "revenue": "50000.00"},
        {"segment": "loyal", "method": "cash", "sales": 5, "revenue": "100000.00"},
    ]
    PeriodOverview.objects.create(
        merchant=merchant,
        run=run,
        period_days=90,
        period_start=now - timedelta(days=90),
        period_end=now,
        data={"payments_by_segment": rows},
    )
    TargetMarket.objects.create(merchant=merchant, payment_methods=["cash"])
    payment = dim(market.market_map(merchant=merchant, period_days=90), "payment")
    got = {row.key: (row.customers, row.revenue) for row in payment.rows}
    assert got == {"qris": (8, Decimal("400000")), "cash": (5, Decimal("100000"))}
    assert payment.in_revenue == pytest.approx(100000 / 500000)
    # without a stored overview for the period, the part says so instead of computing
    assert not dim(market.market_map(merchant=merchant, period_days=30), "payment").available


def test_the_page_shows_the_gap_and_links_counts_to_the_filtered_list(shop, client):
    merchant, _run = shop
    TargetMarket.objects.create(merchant=merchant, genders=["M"])
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    html = client.get(reverse("insights:market", kwargs={"slug": merchant.slug})).content.decode()
    assert "Peta pelanggan vs target pasar" in html
    assert "pendapatan datang dari Perempuan; target Anda Laki-laki" in html
    result = market.market_map(merchant=merchant, period_days=90)
    bandung = next(r for r in dim(result, "area").rows if r.key == "bandung")
    query = parse_qs(urlparse(bandung.url).query)
    assert query["cities"] == ["Bandung"] and query["last_purchase_max_days"] == ["90"]
    assert "last_purchase_days" not in query
    assert bandung.url.replace("&", "&amp;") in html
    age = next(r for r in dim(result, "age").rows if r.key == "25_34")
    assert parse_qs(urlparse(age.url).query)["age_min"] == ["25"]
    assert parse_qs(urlparse(age.url).query)["age_max"] == ["34"]
    assert parse_qs(urlparse(age.url).query)["last_purchase_max_days"] == ["90"]
    # the youngest and oldest bands are open on one side; "not recorded" cannot be filtered
    ages = {row.key: parse_qs(urlparse(row.url).query) for row in dim(result, "age").rows}
    assert ages["55p"]["age_min"] == ["55"] and "age_max" not in ages["55p"]
    assert next(r for r in dim(result, "age").rows if r.key == market.UNKNOWN).url == ""
    # the list's own filter form reads these links as the same filters
    expected = {
        bandung.url: {"cities": ["Bandung"], "last_purchase_max_days": 90},
        age.url: {"age_min": 25, "age_max": 34, "last_purchase_max_days": 90},
    }
    for url, filters in expected.items():
        data = form_data(QueryDict(urlparse(url).query))
        form = CustomerFilterForm(data, merchant=merchant)
        assert form.is_valid(), form.errors
        assert form.filters() == filters
    for raw in ("25_34", "msgid", "in_target"):
        assert raw not in html
    revenue = sum(Decimal(p[5]) for p in buyers(90))
    assert format_rupiah(revenue) in html and format_rupiah(revenue).startswith("Rp ")
    assert f"{revenue:,.0f}".replace(",", ".") in html  # thousands with dots


def test_target_settings_are_saved_and_shown_again(merchant, client):
    manager = MembershipFactory(merchant=merchant, role=Role.MANAGER)
    client.force_login(manager.user)
    url = reverse("insights:target", kwargs={"slug": merchant.slug})
    assert "Pengaturan target pasar" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "areas": "Bandung, Cimahi\nbandung",
            "genders": ["F"],
            "age_bands": ["18_24", "25_34"],
            "spend_basis": "month",
            "spend_min": "100.000",
            "spend_max": "Rp 500.000",
            "payment_methods": ["qris", "e_wallet"],
            "price_whatsapp": "600",
        },
    )
    assert response.status_code == 302
    target = TargetMarket.objects.get(merchant=merchant)
    assert target.areas == ["Bandung", "Cimahi"]
    assert target.age_bands == ["18_24", "25_34"] and target.spend_basis == "month"
    assert target.spend_min == Decimal("100000") and target.spend_max == Decimal("500000")
    assert target.price_whatsapp == Decimal("600") and target.price_sms is None
    assert target.updated_by == manager.user
    html = client.get(url).content.decode()
    assert "100.000" in html and "Cimahi" in html
    bad = client.post(url, {"spend_basis": "visit", "spend_min": "90.000", "spend_max": "10.000"})
    assert bad.status_code == 200
    assert TargetMarket.objects.get(merchant=merchant).spend_min == Decimal("100000")


def test_a_cashier_gets_403_and_another_merchant_is_a_404(shop, client):
    merchant, _run = shop
    other = MembershipFactory(role=Role.OWNER).merchant
    TargetMarket.objects.create(merchant=other, areas=["Medan"])
    cashier = MembershipFactory(merchant=merchant, role=Role.CASHIER)
    client.force_login(cashier.user)
    for name in ("insights:market", "insights:target"):
        assert client.get(reverse(name, kwargs={"slug": merchant.slug})).status_code == 403
    assert (
        client.post(reverse("insights:target", kwargs={"slug": merchant.slug}), {}).status_code
        == 403
    )
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    for name in ("insights:market", "insights:target"):
        assert client.get(reverse(name, kwargs={"slug": other.slug})).status_code == 404
    response = client.post(
        reverse("insights:target", kwargs={"slug": other.slug}),
        {"areas": "Bali", "spend_basis": "visit"},
    )
    assert response.status_code == 404
    assert TargetMarket.objects.get(merchant=other).areas == ["Medan"]


def test_the_settings_page_shows_a_target_saved_by_someone_no_longer_here(merchant, client):
    """``updated_by`` is emptied when that user is deleted, or was never set (the command
    line): the page still opens and says when, not who."""
    TargetMarket.objects.create(merchant=merchant, areas=["Bandung"], updated_by=None)
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    response = client.get(reverse("insights:target", kwargs={"slug": merchant.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Terakhir diubah" in html and " oleh " not in html and "Bandung" in html
