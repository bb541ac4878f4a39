"""The customer page: profile, consent, summary and transactions, for members only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
    UserFactory,
)
from tests.web.helpers import ConsentEventFactory

pytestmark = pytest.mark.django_db


def detail_url(merchant, customer) -> str:
    return reverse("web:customer_detail", kwargs={"slug": merchant.slug, "pk": customer.pk})


@pytest.fixture
def rina(merchant):
    return CustomerFactory(
        merchant=merchant,
        full_name="Rina Wati",
        gender="F",
        birth_date=date(1995, 4, 17),
        phone="+6281234567890",
        email="rina@example.id",
        address="Jl. Merdeka No. 5",
        city="Bandung",
        province="Jawa Barat",
        member_code="LG0001",
        joined_at=datetime(2025, 1, 10, 2, 0, tzinfo=UTC),
        acquisition_source="instagram",
        tags=["kopi", "pagi"],
        notes="Suka es kopi susu kurang manis.",
    )


def test_customer_page_shows_the_profile(client, merchant, member, rina):
    response = client.get(detail_url(merchant, rina))

    assert response.status_code == 200
    html = response.content.decode()
    age = response.context["age"]
    assert age == rina_age_today()
    for text in [
        "Rina Wati",
        "Mbak Rina",
        "Perempuan",
        "17 Apr 1995",
        f"{age} tahun",
        "0812-3456-7890",
        "rina@example.id",
        "Jl. Merdeka No. 5",
        "Bandung",
        "Jawa Barat",
        "LG0001",
        "10 Jan 2025, 09:00",
        "instagram",
        "kopi",
        "pagi",
        "Suka es kopi susu kurang manis.",
    ]:
        assert text in html, text


def rina_age_today() -> int:
    today = timezone.localdate()
    return today.year - 1995 - ((today.month, today.day) < (4, 17))


def test_a_chosen_greeting_wins_over_the_derived_one(client, merchant, member):
    customer = CustomerFactory(merchant=merchant, full_name="Budi", gender="M", greeting="Pak")

    response = client.get(detail_url(merchant, customer))

    assert response.context["greeting"] == "Pak"
    assert "Pak Budi" in response.content.decode()


def test_customer_page_shows_current_consent_per_channel_and_the_history(
    client, merchant, member, rina
):
    ConsentEventFactory(
        customer=rina,
        channel="whatsapp",
        granted=True,
        occurred_at=datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        source="counter",
        wording_version="wa-2026-01",
    )
    ConsentEventFactory(
        customer=rina,
        channel="whatsapp",
        granted=False,
        occurred_at=datetime(2026, 2, 7, 13, 30, tzinfo=UTC),
        source="reply-stop",
        wording_version="",
    )
    ConsentEventFactory(
        customer=rina,
        channel="email",
        granted=True,
        occurred_at=datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        source="web",
        wording_version="email-v2",
    )

    response = client.get(detail_url(merchant, rina))

    consents = dict(response.context["consents"])
    assert consents["Email"].granted is True
    assert consents["WhatsApp"].granted is False
    assert consents["SMS"] is None
    html = response.content.decode()
    assert "Persetujuan pemasaran" in html
    assert "Setuju" in html
    assert "Dicabut" in html
    assert "Belum pernah ditanya" in html
    assert "7 Feb 2026, 20:30" in html  # 13:30 UTC is 20:30 in Jakarta
    assert "reply-stop" in html
    assert "wa-2026-01" in html  # the withdrawn grant stays in the history
    assert "email-v2" in html
    history = [event.source for event in response.context["consent_history"]]
    assert history == ["reply-stop", "web", "counter"]  # newest first, then latest recorded


def test_customer_without_consent_events_shows_never_asked(client, merchant, member, rina):
    response = client.get(detail_url(merchant, rina))

    html = response.content.decode()
    assert html.count("Belum pernah ditanya") == 3
    assert "Persetujuan belum pernah ditanyakan." in html


def test_transactions_show_rupiah_jakarta_time_items_and_refunds(client, merchant, member, rina):
    outlet = OutletFactory(merchant=merchant, name="Cabang Dago")
    sale = TransactionFactory(
        merchant=merchant,
        outlet=outlet,
        customer=rina,
        occurred_at=datetime(2026, 11, 21, 20, 15, tzinfo=UTC),  # 22 Nov 03:15 in Jakarta
        total=Decimal("1250000"),
        payment_method="cash",
        channel="take_away",
    )
    LineItemFactory(
        transaction=sale, product_name="Nasi Rames", quantity=Decimal("2"), unit_price=625000
    )
    LineItemFactory(transaction=sale, product_name="Es Teh", quantity=Decimal("1.5"))
    TransactionFactory(
        merchant=merchant,
        outlet=outlet,
        customer=rina,
        kind="refund",
        refund_of=sale,
        occurred_at=datetime(2026, 11, 22, 4, 0, tzinfo=UTC),
        total=Decimal("-25000"),
        payment_method="qris",
    )
    TransactionFactory(merchant=merchant, outlet=outlet, total=Decimal("99999"))  # walk-in

    response = client.get(detail_url(merchant, rina))

    html = response.content.decode()
    assert "22 Nov 2026, 03:15" in html
    assert "22 Nov 2026, 11:00" in html
    assert "Rp 1.250.000" in html
    assert "-Rp 25.000" in html
    assert "Cabang Dago" in html
    assert "2 × Nasi Rames" in html
    assert "1,5 × Es Teh" in html
    assert "Tunai" in html
    assert "QRIS" in html
    assert "Bawa pulang" in html
    assert "Makan di tempat" in html
    assert 'class="refund"' in html
    assert "Rp 99.999" not in html
    newest_first = [t.total for t in response.context["transactions"]]
    assert newest_first == [Decimal("-25000"), Decimal("1250000")]
    summary = response.context["summary"]
    assert summary["orders"] == 1
    assert "Rp 1.225.000" in html  # net spend


def test_transactions_are_paginated_newest_first(client, merchant, member, rina, outlet):
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    for day in range(30):
        TransactionFactory(
            merchant=merchant, outlet=outlet, customer=rina, occurred_at=start + timedelta(day)
        )

    first = client.get(detail_url(merchant, rina))
    second = client.get(detail_url(merchant, rina), {"page": 2})

    assert len(first.context["transactions"]) == 25
    assert first.context["transactions"][0].occurred_at == start + timedelta(29)
    assert len(second.context["transactions"]) == 5
    assert second.context["transactions"][4].occurred_at == start
    assert 'href="?page=2#transactions"' in first.content.decode()


def test_customer_page_query_count_does_not_grow_with_transactions(
    client, merchant, member, rina, outlet, django_assert_max_num_queries
):
    for _ in range(25):
        LineItemFactory.create_batch(
            2, transaction=TransactionFactory(merchant=merchant, outlet=outlet, customer=rina)
        )
    ConsentEventFactory(customer=rina)

    with django_assert_max_num_queries(18):  # 14 + 4: the loyalty card (see loyalty.selectors)
        response = client.get(detail_url(merchant, rina))

    assert response.status_code == 200


def test_another_merchants_customer_is_not_found(client, merchant, member):
    stranger = CustomerFactory(merchant=MerchantFactory())

    response = client.get(detail_url(merchant, stranger))

    assert response.status_code == 404


def test_another_merchants_customer_under_its_own_slug_is_not_found(client, merchant, member):
    other = MerchantFactory()
    stranger = CustomerFactory(merchant=other)

    response = client.get(detail_url(other, stranger))

    assert response.status_code == 404


def test_non_member_gets_not_found(client, merchant, rina):
    client.force_login(UserFactory())

    response = client.get(detail_url(merchant, rina))

    assert response.status_code == 404


def test_missing_customer_is_not_found(client, merchant, member):
    response = client.get(f"/m/{merchant.slug}/customers/999999/")

    assert response.status_code == 404
