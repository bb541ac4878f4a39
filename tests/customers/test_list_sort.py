"""The whole customer list sorted by a stored insight column is cut into pages from the insight
alone (customers.listing.InsightOrdered): every page holds exactly the customers, in exactly
the order, of the queryset's own sort (nulls and customers without an insight last, ties by
id), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from langganan.core.models import Role
from langganan.customers import listing
from langganan.insights.models import CustomerInsight, InsightRun
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 1, 12, tzinfo=ZoneInfo("Asia/Jakarta"))


def _insight(customer, run, i: int) -> CustomerInsight:
    last = NOW - timedelta(days=i % 7)  # ties: seven distinct times
    return CustomerInsight.objects.create(
        merchant=customer.merchant,
        customer=customer,
        run=run,
        orders=1 + i % 4,
        frequency=i % 4,
        recency_days=10.0,
        age_days=30.0,
        days_since_last=float(i % 7),
        total_spend=Decimal(10000 * (i % 5)),
        monetary_value=Decimal(0),
        first_purchase=last - timedelta(days=30),
        last_purchase=last,
        r_score=3,
        f_score=3,
        m_score=3,
        segment="loyal",
        lifecycle="active",
        p_alive=None if i % 3 == 0 else (i % 10) / 10,
        clv=None if i % 4 == 0 else Decimal(5000 * (i % 6)),
    )


@pytest.fixture
def crowd(merchant):
    run = InsightRun.objects.create(merchant=merchant, status="done")
    customers = [CustomerFactory(merchant=merchant) for _ in range(40)]
    for i, customer in enumerate(customers):
        if i % 5 != 2:  # every fifth customer has no insight
            _insight(customer, run, i)
    # another merchant's customers never show
    other = MerchantFactory()
    other_run = InsightRun.objects.create(merchant=other, status="done")
    for i in range(5):
        _insight(CustomerFactory(merchant=other), other_run, i)
    return merchant


@pytest.mark.parametrize("sort", sorted(f"{s}{k}" for k in listing.INSIGHT_SORTS for s in "-+"))
def test_every_slice_equals_the_querysets_order(crowd, sort):
    sort = sort.lstrip("+")
    merchant = crowd
    customers = listing.customer_list(merchant=merchant, filters={}, sort=sort)
    expected = list(customers.values_list("pk", flat=True))
    source = listing.customer_page_source(customers, merchant=merchant, filters={}, sort=sort)
    assert isinstance(source, listing.InsightOrdered)
    assert source.count() == len(expected) == 40
    for size in (7, 25):
        pages = [source[start : start + size] for start in range(0, 45, size)]
        assert [c.pk for page in pages for c in page] == expected, (sort, size)
    assert [c.pk for c in source[30:40]] == expected[30:40]


def test_a_filtered_or_searched_list_or_another_sort_keeps_the_queryset(crowd):
    merchant = crowd
    customers = listing.customer_list(merchant=merchant, filters={}, sort="-clv")
    for kwargs in (
        {"filters": {"segments": ["loyal"]}, "sort": "-clv"},
        {"filters": {}, "query": "a", "sort": "-clv"},
        {"filters": {}, "sort": "name"},
        {"filters": {}, "sort": "-points"},
    ):
        assert listing.customer_page_source(customers, merchant=merchant, **kwargs) is customers


def test_the_page_sorted_by_last_purchase_lists_the_same_customers(crowd, client):
    merchant = crowd
    client.force_login(MembershipFactory(merchant=merchant, role=Role.OWNER).user)
    url = reverse("customers:customer_list", kwargs={"slug": merchant.slug})
    expected = list(
        listing.customer_list(merchant=merchant, filters={}, sort="-last_purchase").values_list(
            "pk", flat=True
        )
    )
    response = client.get(url, {"sort": "-last_purchase", "page": 2})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 40
    assert [c.pk for c in response.context["customers"]] == expected[25:40]
