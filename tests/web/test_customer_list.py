"""The customer list: search, pagination, order counts, and who may see it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def list_url(merchant, **params) -> str:
    url = reverse("customers:customer_list", kwargs={"slug": merchant.slug})
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def names_on(response) -> list[str]:
    return [customer.full_name for customer in response.context["customers"]]


def test_member_sees_the_customers_of_the_merchant(client, merchant, member):
    CustomerFactory(
        merchant=merchant,
        full_name="Rina Wati",
        gender="F",
        phone="+6281234567890",
        member_code="LG0001",
        city="Bandung",
        joined_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC),  # 2 Mar 03:00 in Jakarta
    )
    CustomerFactory(merchant=MerchantFactory(), full_name="Orang Lain")

    response = client.get(list_url(merchant))

    assert response.status_code == 200
    html = response.content.decode()
    assert names_on(response) == ["Rina Wati"]
    assert "Kak Rina" in html
    assert "0812-3456-7890" in html
    assert "LG0001" in html
    assert "Bandung" in html
    assert "2 Mar 2026" in html
    assert "Orang Lain" not in html
    assert ">Pelanggan<" in html


def test_list_shows_number_of_orders_and_last_purchase_without_refunds(client, merchant, member):
    rina = CustomerFactory(merchant=merchant, full_name="Rina")
    CustomerFactory(merchant=merchant, full_name="Sari")
    sale = TransactionFactory(
        merchant=merchant, customer=rina, occurred_at=datetime(2026, 5, 1, 3, tzinfo=UTC)
    )
    TransactionFactory(
        merchant=merchant, customer=rina, occurred_at=datetime(2026, 6, 9, 18, tzinfo=UTC)
    )
    TransactionFactory(
        merchant=merchant,
        customer=rina,
        kind="refund",
        refund_of=sale,
        total=Decimal("-25000"),
        occurred_at=datetime(2026, 7, 1, 3, tzinfo=UTC),
    )

    response = client.get(list_url(merchant))

    rows = {c.full_name: c for c in response.context["customers"]}
    assert rows["Rina"].order_count == 2
    assert rows["Sari"].order_count == 0
    assert rows["Sari"].last_purchase_at is None
    html = response.content.decode()
    assert "10 Jun 2026" in html  # 18:00 UTC on 9 June is 01:00 on 10 June in Jakarta
    assert "1 Jul 2026" not in html


@pytest.mark.parametrize("query", ["rina", "RINA WA"])
def test_search_by_name(client, merchant, member, query):
    CustomerFactory(merchant=merchant, full_name="Rina Wati")
    CustomerFactory(merchant=merchant, full_name="Budi Santoso")

    response = client.get(list_url(merchant), {"q": query})

    assert names_on(response) == ["Rina Wati"]


@pytest.mark.parametrize(
    "query", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "3456-78", "0812 3456"]
)
def test_search_by_phone_in_any_common_form(client, merchant, member, query):
    CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")
    CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6285711112222")

    response = client.get(list_url(merchant), {"q": query})

    assert names_on(response) == ["Rina Wati"]


def test_search_by_member_code(client, merchant, member):
    CustomerFactory(merchant=merchant, full_name="Rina Wati", member_code="WBS-0042")
    CustomerFactory(merchant=merchant, full_name="Budi Santoso", member_code="WBS-0043")

    response = client.get(list_url(merchant), {"q": "wbs-0042"})

    assert names_on(response) == ["Rina Wati"]
    assert 'value="wbs-0042"' in response.content.decode()


def test_search_without_results_says_so(client, merchant, member):
    CustomerFactory(merchant=merchant, full_name="Rina Wati")

    response = client.get(list_url(merchant), {"q": "zzz"})

    assert names_on(response) == []
    assert "Tidak ada pelanggan yang cocok dengan “zzz”" in response.content.decode()


def test_search_does_not_find_another_merchants_customer(client, merchant, member):
    CustomerFactory(merchant=MerchantFactory(), full_name="Rina Wati", phone="+6281234567890")

    response = client.get(list_url(merchant), {"q": "0812-3456-7890"})

    assert names_on(response) == []


def test_pagination_shows_25_per_page(client, merchant, member):
    CustomerFactory.create_batch(30, merchant=merchant)

    first = client.get(list_url(merchant))
    second = client.get(list_url(merchant, page=2))

    assert len(first.context["customers"]) == 25
    assert len(second.context["customers"]) == 5
    assert "Halaman 2 dari 2" in second.content.decode()
    assert set(names_on(first)).isdisjoint(names_on(second))


def test_pagination_links_keep_the_search(client, merchant, member):
    for n in range(30):
        CustomerFactory(merchant=merchant, full_name=f"Rina {n:02d}")
    CustomerFactory(merchant=merchant, full_name="Budi")

    response = client.get(list_url(merchant), {"q": "rina"})

    html = response.content.decode()
    assert re.search(r'href="\?q=rina&(amp;)?page=2"', html)
    second = client.get(list_url(merchant), {"q": "rina", "page": 2})
    assert len(second.context["customers"]) == 5


def test_a_page_past_the_end_shows_the_last_page(client, merchant, member):
    CustomerFactory.create_batch(3, merchant=merchant)

    response = client.get(list_url(merchant, page=99))

    assert response.status_code == 200
    assert len(response.context["customers"]) == 3


def test_another_merchants_list_is_not_found(client, merchant, member):
    other = MerchantFactory()
    CustomerFactory(merchant=other)

    response = client.get(list_url(other))

    assert response.status_code == 404


def test_unknown_merchant_is_not_found(client, merchant, member):
    response = client.get("/m/tidak-ada/customers/")

    assert response.status_code == 404


def test_logged_in_user_without_membership_gets_not_found(client, merchant):
    CustomerFactory(merchant=merchant)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.get(list_url(merchant))

    assert response.status_code == 404


def test_a_manager_may_see_the_list(client, merchant):
    membership = MembershipFactory(merchant=merchant, role="manager")
    client.force_login(membership.user)

    assert client.get(list_url(merchant)).status_code == 200


def test_a_cashier_may_not_browse_the_list(client, merchant):
    CustomerFactory(merchant=merchant, full_name="Rina Wati")
    membership = MembershipFactory(merchant=merchant, role="cashier")
    client.force_login(membership.user)

    response = client.get(list_url(merchant), {"q": "Rina"})

    assert response.status_code == 403
    assert "Rina Wati" not in response.content.decode()


def _list_with_customers(client, merchant, outlet, count: int, django_assert_max_num_queries):
    for _ in range(count):
        customer = CustomerFactory(merchant=merchant)
        TransactionFactory.create_batch(2, merchant=merchant, outlet=outlet, customer=customer)
    # the page, its count, and the filter form's tiers, products and categories
    with django_assert_max_num_queries(11) as queries:
        response = client.get(list_url(merchant))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_list_does_a_fixed_number_of_queries(
    client, merchant, outlet, member, django_assert_max_num_queries
):
    few = _list_with_customers(client, merchant, outlet, 2, django_assert_max_num_queries)
    many = _list_with_customers(client, merchant, outlet, 30, django_assert_max_num_queries)

    assert few == many
