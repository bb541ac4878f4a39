"""GET /customers/lookup, POST /customers, GET /customers/{id}/ledger."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from langganan.customers.models import ConsentEvent, Customer
from langganan.insights.models import CustomerInsight, InsightRun
from langganan.loyalty.cashier import (
    ACTION_BIRTHDAY,
    ACTION_ENROL,
    ACTION_USUAL,
    ACTION_VOUCHER,
    ACTION_WIN_BACK,
)
from langganan.loyalty.models import Member, Program
from langganan.loyalty.tab import tab_set_limit
from langganan.loyalty.vouchers import voucher_create
from tests.api.conftest import assert_problem, sale_body
from tests.factories import CustomerFactory
from tests.loyalty.factories import TierFactory


def insight_for(customer, **fields):
    now = timezone.now()
    run = InsightRun.objects.create(merchant=customer.merchant, status="done")
    defaults = dict(
        orders=5,
        frequency=4,
        recency_days=30.0,
        age_days=60.0,
        days_since_last=3.0,
        total_spend=Decimal("250000"),
        monetary_value=Decimal("50000"),
        first_purchase=now - timedelta(days=60),
        last_purchase=now - timedelta(days=3),
        r_score=5,
        f_score=4,
        m_score=3,
        segment="champions",
        lifecycle="loyal",
    )
    return CustomerInsight.objects.create(
        merchant=customer.merchant, customer=customer, run=run, **{**defaults, **fields}
    )


# -- lookup ------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["national", "e164", "spaced"])
def test_lookup_by_phone_in_any_common_form_returns_the_card(shop, form):
    local = "0" + shop.customer.phone[3:]
    phone = {"national": local, "e164": shop.customer.phone, "spaced": f"{local[:4]} {local[4:]}"}
    response = shop.api.get("/customers/lookup", {"phone": phone[form]})
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["id"] == shop.customer.pk
    assert card["full_name"] == "Rina Wati"
    assert card["salutation"] == "Kak Rina"
    assert card["member"] is True
    assert card["points"] == 0 and card["points_value"] == "0.00"
    assert card["tab"] == {"owed": "0.00", "limit": "0.00"}


def test_lookup_by_member_code_ignores_case(shop):
    response = shop.api.get("/customers/lookup", {"member_code": shop.customer.member_code.lower()})
    assert response.status_code == 200
    assert response.json()["member_code"] == shop.customer.member_code


def test_an_unknown_customer_is_a_404_problem(shop):
    assert_problem(shop.api.get("/customers/lookup", {"phone": "0811 9999 0000"}), 404, "not_found")
    assert_problem(shop.api.get("/customers/lookup", {"member_code": "NOPE"}), 404)


@pytest.mark.parametrize(
    "params", [{}, {"phone": "0812", "member_code": "X"}, {"phone": "abc"}, {"phone": "12"}]
)
def test_a_lookup_needs_exactly_one_valid_key(shop, params):
    body = assert_problem(shop.api.get("/customers/lookup", params), 422)
    assert body["errors"][0]["field"] == "phone"


def test_the_card_shows_tier_points_tab_vouchers_birthday_and_insights(shop):
    customer = shop.customer
    today = timezone.localdate()
    customer.birth_date = date(1992, today.month, today.day)  # a leap year: any day exists
    customer.save()
    tier = TierFactory(program=shop.program, name="Emas")
    Member.objects.filter(customer=customer).update(tier=tier)
    assert (
        shop.api.post(
            "/transactions", sale_body(shop, quantity=4), idempotency_key="s1"
        ).status_code
        == 201
    )
    tab_set_limit(customer=customer, limit=Decimal("100000"), at=timezone.now())
    voucher_create(
        merchant=shop.merchant,
        code="ULTAH",
        customer=customer,
        discount_type="fixed",
        value=Decimal("10000"),
        kind="single",
        max_uses=1,
    )
    insight_for(
        customer,
        usual_order=[{"item": "Kopi Susu", "times": 4, "share": 0.8}],
        cross_sell=["Roti Bakar"],
        next_purchase_date=today + timedelta(days=2),
        p_alive=0.72,
        p_alive_low=0.65,
        p_alive_high=0.8,
        clv=Decimal("450000"),
        clv_low=Decimal("380000"),
        clv_high=Decimal("520000"),
        evidence={"habits": "no_pattern", "usual": "ok", "next_visit": "ok"},
    )
    card = shop.api.get("/customers/lookup", {"phone": customer.phone}).json()
    assert card["tier"] == "Emas"
    assert card["points"] == 10 and card["points_value"] == "1000.00"
    assert card["tab"] == {"owed": "0.00", "limit": "100000.00"}
    assert [v["code"] for v in card["vouchers"]] == ["ULTAH"]
    assert card["vouchers"][0]["value"] == "10000.00"
    assert card["birthday_this_week"] is True
    assert card["lifecycle"] == "loyal" and card["segment"] == "champions"
    assert card["usual_order"] == [{"item": "Kopi Susu", "times": 4, "rank": 1}]
    assert (card["p_alive"], card["p_alive_low"], card["p_alive_high"]) == (0.72, 0.65, 0.8)
    assert (card["clv"], card["clv_low"], card["clv_high"]) == (
        "450000.00",
        "380000.00",
        "520000.00",
    )
    assert card["clv_note"] is None
    assert card["evidence"] == {"habits": "no_pattern", "usual": "ok", "next_visit": "ok"}
    assert card["cross_sell"] == ["Roti Bakar"]
    assert card["next_purchase_date"] == (today + timedelta(days=2)).isoformat()
    assert card["salutation"] == f"{card['greeting']} Rina" and card["greeting"] != "Kak"
    assert card["suggested_action"] == ACTION_BIRTHDAY.format(salutation=card["salutation"])


def test_the_suggested_action_offers_the_usual_order(shop):
    insight_for(shop.customer, usual_order=[{"item": "kopi susu", "times": 6, "share": 0.9}])
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()
    assert card["suggested_action"] == ACTION_USUAL.format(item="kopi susu")
    assert card["suggested_action"] == "Tawarkan kopi susu seperti biasa"


def test_a_blank_clv_and_missing_habits_come_with_their_reasons(shop):
    few = {"habits": "few_visits", "usual": "few_visits", "next_visit": "few_visits"}
    insight_for(shop.customer, orders=1, frequency=0, p_alive=0.31, clv_note="no_repeat_buyers")
    CustomerInsight.objects.filter(customer=shop.customer).update(evidence=few)

    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()

    assert card["p_alive"] == 0.31 and card["p_alive_low"] is None
    assert card["clv"] is None and card["clv_low"] is None and card["clv_high"] is None
    assert card["clv_note"] == "no_repeat_buyers"
    assert card["evidence"] == few


def test_a_customer_without_insights_has_null_estimates(shop):
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()

    for name in ("p_alive", "p_alive_low", "p_alive_high", "clv", "clv_low", "clv_high"):
        assert card[name] is None, name
    assert card["clv_note"] is None and card["evidence"] is None


def test_the_suggested_action_offers_items_bought_equally_often_as_equals(shop):
    usual = [
        {"item": "Kopi Susu", "times": 6, "share": 0.5, "rank": 1},
        {"item": "Teh Manis", "times": 6, "share": 0.5, "rank": 1},
        {"item": "Roti", "times": 2, "share": 0.2, "rank": 2},
    ]
    insight_for(shop.customer, usual_order=usual)

    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()

    assert card["suggested_action"] == ACTION_USUAL.format(item="Kopi Susu atau Teh Manis")
    assert [(u["item"], u["rank"]) for u in card["usual_order"]] == [
        ("Kopi Susu", 1),
        ("Teh Manis", 1),
        ("Roti", 2),
    ]


def test_the_suggested_action_welcomes_back_a_lapsed_customer(shop):
    insight_for(shop.customer, lifecycle="lapsed", usual_order=[{"item": "Teh", "times": 2}])
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()
    assert card["suggested_action"] == ACTION_WIN_BACK.format(salutation="Kak Rina")


def test_the_suggested_action_reminds_of_a_voucher_about_to_expire(shop):
    voucher_create(
        merchant=shop.merchant,
        code="SEGERA",
        customer=shop.customer,
        discount_type="fixed",
        value=Decimal("5000"),
        valid_until=timezone.now() + timedelta(days=1),
    )
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()
    assert card["suggested_action"].startswith(ACTION_VOUCHER.split("{code}")[0] + "SEGERA")


def test_the_suggested_action_invites_a_customer_who_is_not_a_member(shop):
    walk_in = CustomerFactory(merchant=shop.merchant, full_name="Budi", gender="M")
    card = shop.api.get("/customers/lookup", {"phone": walk_in.phone}).json()
    assert card["member"] is False
    assert card["suggested_action"] == ACTION_ENROL.format(salutation="Kak Budi")


def test_birthday_this_week_is_false_far_from_the_birthday(shop):
    today = timezone.localdate()
    far = today + timedelta(days=120)
    shop.customer.birth_date = date(1990, far.month, min(far.day, 28))
    shop.customer.save()
    card = shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).json()
    assert card["birthday_this_week"] is False


# -- registration ------------------------------------------------------------------------------


def test_registering_at_the_counter_records_consent_and_enrols(shop):
    response = shop.api.post(
        "/customers",
        {
            "full_name": "Sari Dewi",
            "phone": "0813-1111-2222",
            "gender": "F",
            "consents": {"whatsapp": True, "email": False},
            "consent_wording_version": "v2",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+6281311112222"
    assert body["member"] is True and body["referral_code"]
    assert body["consents"] == {"whatsapp": True, "email": False}
    customer = Customer.objects.get(pk=body["id"], merchant=shop.merchant)
    assert customer.acquisition_source == "pos"
    events = {e.channel: e for e in ConsentEvent.objects.filter(customer=customer)}
    assert set(events) == {"whatsapp", "email"}
    assert events["whatsapp"].granted and not events["email"].granted
    assert events["whatsapp"].source == f"pos:{shop.outlet.code}"
    assert events["whatsapp"].wording_version == "v2"
    assert Member.objects.filter(customer=customer).exists()


def test_registering_without_a_program_does_not_enrol(shop):
    Program.objects.filter(merchant=shop.merchant).update(is_active=False)
    response = shop.api.post("/customers", {"full_name": "Andi", "phone": "081322223333"})
    assert response.status_code == 201
    assert response.json()["member"] is False
    assert not Member.objects.filter(customer_id=response.json()["id"]).exists()


def test_registering_a_phone_number_twice_is_a_409(shop):
    body = assert_problem(
        shop.api.post("/customers", {"full_name": "Rina", "phone": shop.customer.phone}), 409
    )
    assert body["errors"][0]["field"] == "phone"


def test_the_same_phone_number_may_be_registered_at_another_merchant(shop, other):
    response = other.api.post("/customers", {"full_name": "Rina", "phone": shop.customer.phone})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "A", "email": "not-an-email"}, "email"),
        ({"full_name": "A", "phone": "12"}, "phone"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "A", "consents": {"pigeon": True}}, "consents.pigeon"),
        ({"full_name": "A", "gender": "X"}, "gender"),
        ({"full_name": "A", "birth_date": "2999-01-01"}, "birth_date"),
    ],
)
def test_a_bad_registration_names_the_field_and_records_nothing(shop, body, field):
    before = Customer.objects.count()
    problem = assert_problem(shop.api.post("/customers", body), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert Customer.objects.count() == before


# -- ledger ------------------------------------------------------------------------------------


def test_the_ledger_is_paginated_newest_first(shop):
    for n in range(3):
        shop.api.post("/transactions", sale_body(shop, quantity=4), idempotency_key=f"s{n}")
    tab_set_limit(customer=shop.customer, limit=Decimal("50000"), at=timezone.now())
    shop.api.post(
        "/transactions",
        sale_body(shop, quantity=1, tab_charge="25000", payment_method="cash"),
        idempotency_key="tab",
    )
    first = shop.api.get(f"/customers/{shop.customer.pk}/ledger", {"page_size": 2}).json()
    assert first["count"] == 5 and first["next_page"] == 2
    assert len(first["items"]) == 2
    everything = shop.api.get(f"/customers/{shop.customer.pk}/ledger").json()
    times = [item["posted_at"] for item in everything["items"]]
    assert times == sorted(times, reverse=True)
    assert {i["ledger"] for i in everything["items"]} == {"points", "tab"}
    tab = shop.api.get(f"/customers/{shop.customer.pk}/ledger", {"ledger": "tab"}).json()
    assert [(i["kind"], i["amount"]) for i in tab["items"]] == [("tab", "-25000.00")]
    last = shop.api.get(f"/customers/{shop.customer.pk}/ledger", {"page_size": 2, "page": 3})
    assert last.json()["next_page"] is None and len(last.json()["items"]) == 1
    points = [i for i in everything["items"] if i["ledger"] == "points"]
    assert [i["amount"] for i in points] == ["2", "10", "10", "10"]  # a tab sale earns too


@pytest.mark.parametrize(
    "params", [{"page": 0}, {"page_size": 1000}, {"ledger": "cash"}, {"page": "x"}]
)
def test_bad_ledger_parameters_are_a_422(shop, params):
    assert_problem(shop.api.get(f"/customers/{shop.customer.pk}/ledger", params), 422)


def test_the_ledger_of_an_unknown_customer_is_a_404(shop):
    assert_problem(shop.api.get("/customers/999999/ledger"), 404)
