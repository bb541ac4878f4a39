"""The customer page: profile, consent, summary and transactions, for members only."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from langganan.analytics.labels import suggest_action
from langganan.insights.models import CustomerInsight, InsightRun
from langganan.insights.summary import accuracy_lines
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
    return reverse("customers:customer_detail", kwargs={"slug": merchant.slug, "pk": customer.pk})


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
        "Instagram",
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

    # 14 + 4: the loyalty card (see loyalty.selectors) + 1: the audit event (privacy.audit)
    # + 3: complaints and feedback (care.figures.customer_care_summary: her complaints, her
    # answers; the menu's badge of new complaints)
    with django_assert_max_num_queries(22):
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


# -- the insight card: probability active, CLV, habits, the usual, one action, accuracy --------


def insight_for(customer, run=None, **fields):
    """A stored insight of ``customer`` (a loyal regular unless ``fields`` say otherwise)."""
    now = timezone.now()
    run = run or insight_run(customer.merchant)
    defaults = dict(
        orders=12,
        frequency=11,
        recency_days=80.0,
        age_days=90.0,
        days_since_last=10.0,
        total_spend=Decimal("540000"),
        monetary_value=Decimal("45000"),
        first_purchase=now - timedelta(days=90),
        last_purchase=now - timedelta(days=10),
        r_score=5,
        f_score=5,
        m_score=4,
        segment="champions",
        rfm_segment="champions",
        lifecycle="loyal",
        p_alive=0.724,
        p_alive_low=0.65,
        p_alive_high=0.80,
        expected_purchases_30=2.5,
        expected_purchases_90=7.1,
        clv=Decimal("450000"),
        clv_low=Decimal("380000"),
        clv_high=Decimal("520000"),
        next_purchase_date=date(2026, 5, 18),
        typical_weekday=0,
        typical_hour=8,
        time_of_month="start",
        median_gap_days=7.0,
        evidence={"habits": "ok", "usual": "ok", "next_visit": "ok"},
        usual_order=[
            {"item": "Kopi Susu", "times": 6, "share": 0.5, "rank": 1},
            {"item": "Teh Manis", "times": 6, "share": 0.5, "rank": 1},
            {"item": "Roti Bakar", "times": 3, "share": 0.25, "rank": 2},
        ],
    )
    return CustomerInsight.objects.create(
        merchant=customer.merchant, customer=customer, run=run, **{**defaults, **fields}
    )


def insight_run(merchant):
    holdout = {
        "mae": 0.4,
        "expected_back": 100,
        "came_back": 83,
        "days": 90,
        "total_predicted": 210.0,
        "total_actual": 200.0,
    }
    return InsightRun.objects.create(
        merchant=merchant,
        status="done",
        customers=500,
        observation_end=datetime(2026, 5, 10, 10, 0, tzinfo=UTC),
        models_fitted={
            "choice": {
                "model": "mbg_cnbd",
                "criterion": "holdout_mae",
                "holdout": {"mbg_cnbd": holdout, "bg_nbd": {**holdout, "mae": 0.5}},
            }
        },
    )


def page_text(response) -> str:
    """The page as a person reads it: no tags, single spaces."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    text = re.sub(r"\s+", " ", html_lib.unescape(text))
    return re.sub(r"\( ", "(", re.sub(r" \)", ")", text))


def in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})


def test_the_card_shows_chance_active_and_clv_with_their_ranges(client, merchant, member, rina):
    insight_for(rina)

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "Peluang masih aktif 72% (kisaran 65–80%)" in text
    assert "Kemungkinan ia masih akan datang lagi" in text
    assert "Rp 450.000 (kisaran Rp 380.000 – Rp 520.000)" in text
    assert "berlangganan" not in text
    assert "72,4" not in text and "72.4" not in text


def test_the_card_in_english(client, merchant, member, rina):
    insight_for(rina)
    in_english(client)

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "Chance they are still active 72% (range 65–80%)" in text
    assert "Rp 450.000 (range Rp 380.000 – Rp 520.000)" in text
    assert "Kopi Susu or Teh Manis (6×) · Roti Bakar (3×)" in text
    assert "Monday, around 8:00 · at the start of the month" in text
    assert "How accurate is this estimate?" in text
    assert "Of 100 customers we expected back within those 90 days, 83 came (83%)." in text
    assert "Suggestion: Reward them" in text
    assert "kisaran" not in text and "Peluang" not in text


def test_the_usual_order_shows_items_bought_equally_often_as_equals(client, merchant, member, rina):
    insight_for(rina)

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "Kopi Susu atau Teh Manis (6×) · Roti Bakar (3×)" in text
    assert "Biasanya datang Senin, sekitar pukul 8.00 · awal bulan" in text
    assert "18 Mei 2026" in text


def test_only_the_segments_action_is_suggested(client, merchant, member, rina):
    insight_for(rina, segment="at_risk", lifecycle="at_risk")

    text = page_text(client.get(detail_url(merchant, rina)))

    assert f"Saran: {suggest_action('at_risk', 'id', kind='segment')}" in text
    assert suggest_action("at_risk", "id", kind="stage") not in text
    assert text.count("Saran:") == 1


def test_the_accuracy_line_gives_the_first_two_sentences(client, merchant, member, rina):
    insight = insight_for(rina)
    lines = accuracy_lines(insight.run, "id")

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "Seberapa tepat perkiraan ini?" in text
    assert lines[0] in text and lines[1] in text
    assert "Dari 100 pelanggan yang kami perkirakan datang lagi" in text
    assert lines[2] not in text


def test_a_customer_with_one_visit_shows_not_enough_data_and_why(client, merchant, member, rina):
    few = {"habits": "few_visits", "usual": "few_visits", "next_visit": "few_visits"}
    insight_for(
        rina,
        orders=1,
        frequency=0,
        lifecycle="new",
        segment="new",
        p_alive=0.84,
        p_alive_low=None,
        p_alive_high=None,
        next_purchase_date=None,
        typical_weekday=None,
        typical_hour=None,
        time_of_month="",
        median_gap_days=None,
        usual_order=[],
        evidence=few,
    )

    text = page_text(client.get(detail_url(merchant, rina)))

    assert text.count("belum cukup data (baru 1 kali datang)") == 3
    assert "Peluang masih aktif 84% Kemungkinan" in text  # no range when there is none
    in_english(client)
    english = page_text(client.get(detail_url(merchant, rina)))
    assert english.count("not enough data yet (only 1 visit so far)") == 3


def test_a_lapsed_one_time_buyer_is_not_shown_as_certainly_active(client, merchant, member, rina):
    insight_for(
        rina,
        orders=1,
        frequency=0,
        lifecycle="lapsed",
        segment="lost",
        p_alive=0.31,
        p_alive_low=0.25,
        p_alive_high=0.38,
        next_purchase_date=None,
        usual_order=[],
        evidence={"habits": "few_visits", "usual": "few_visits", "next_visit": "few_visits"},
    )

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "Peluang masih aktif 31% (kisaran 25–38%)" in text
    assert "100%" not in text


def test_a_probability_near_certain_is_never_rounded_to_100(client, merchant, member, rina):
    insight_for(rina, p_alive=0.998, p_alive_low=0.99, p_alive_high=0.9996)

    text = page_text(client.get(detail_url(merchant, rina)))

    assert "99% (kisaran 99–99%)" in text
    assert "100%" not in text


@pytest.mark.parametrize(
    ("note", "indonesian", "english"),
    [
        (
            "no_repeat_buyers",
            "belum bisa dihitung: belum ada pelanggan yang datang lagi",
            "cannot be computed yet: no customer has come back yet",
        ),
        (
            "no_spend",
            "belum bisa dihitung: belum ada data belanja",
            "cannot be computed yet: no spending recorded yet",
        ),
    ],
)
def test_a_blank_clv_says_why(client, merchant, member, rina, note, indonesian, english):
    insight_for(rina, clv=None, clv_low=None, clv_high=None, clv_note=note)

    text = page_text(client.get(detail_url(merchant, rina)))

    assert f"Nilai pelanggan (CLV), 12 bulan ke depan {indonesian}" in text
    in_english(client)
    assert english in page_text(client.get(detail_url(merchant, rina)))


@pytest.mark.parametrize(
    ("evidence", "shown"),
    [
        (
            {"habits": "no_pattern", "usual": "no_pattern", "next_visit": "overdue"},
            [
                "Perkiraan pembelian berikutnya belum ada perkiraan (sudah lewat waktunya datang)",
                "Biasanya datang belum cukup data (belum ada pola)",
                "Pesanan biasa belum cukup data (belum ada pola)",
            ],
        ),
        (
            {"habits": "ok", "usual": "ok", "next_visit": "far"},
            ["Perkiraan pembelian berikutnya belum ada perkiraan (lebih dari 4 bulan lagi)"],
        ),
    ],
)
def test_blank_habits_and_next_visit_say_why(client, merchant, member, rina, evidence, shown):
    blank = {"typical_weekday": None, "typical_hour": None, "time_of_month": ""}
    usual = [] if evidence["usual"] != "ok" else None
    fields = {**(blank if evidence["habits"] != "ok" else {}), "next_purchase_date": None}
    if usual is not None:
        fields["usual_order"] = usual
    insight_for(rina, evidence=evidence, lifecycle="at_risk", segment="at_risk", **fields)

    text = page_text(client.get(detail_url(merchant, rina)))

    for sentence in shown:
        assert sentence in text


def test_the_page_shows_no_raw_codes(client, merchant, member, rina):
    insight_for(rina, clv=None, clv_note="no_repeat_buyers", p_alive=None)

    text = page_text(client.get(detail_url(merchant, rina)))

    for code in ("no_repeat_buyers", "few_visits", "no_pattern", "mbg_cnbd", "champions"):
        assert code not in text


def test_sources_are_named_not_shown_as_codes(client, merchant, member):
    """Issue 20, point 6: ``counter`` and ``gofood`` read as a merchant says them."""
    from django.urls import reverse

    from langganan.customers.services import consent_record
    from tests.factories import CustomerFactory

    customer = CustomerFactory(merchant=merchant, acquisition_source="gofood")
    consent_record(customer=customer, channel="whatsapp", granted=True, source="counter")

    html = client.get(
        reverse("customers:customer_detail", args=[merchant.slug, customer.pk])
    ).content.decode()

    assert "GoFood" in html and "di kasir" in html
    assert ">gofood<" not in html and "· counter" not in html and ">counter<" not in html
