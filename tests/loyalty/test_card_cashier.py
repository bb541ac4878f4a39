"""The cashier's customer card (loyalty.cashier): the engine's estimates come with it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from langganan.insights.models import CustomerInsight, InsightRun
from langganan.loyalty.cashier import ACTION_USUAL, customer_card_get, usual_ranked
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


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


def test_the_card_carries_probability_active_clv_their_ranges_and_the_evidence():
    customer = CustomerFactory(member_code="LG0042")
    evidence = {"habits": "few_visits", "usual": "ok", "next_visit": "overdue"}
    insight_for(
        customer,
        p_alive=0.72,
        p_alive_low=0.65,
        p_alive_high=0.8,
        clv=Decimal("450000"),
        clv_low=Decimal("380000"),
        clv_high=Decimal("520000"),
        evidence=evidence,
    )

    card = customer_card_get(merchant=customer.merchant, member_code="LG0042")

    assert (card.p_alive, card.p_alive_low, card.p_alive_high) == (0.72, 0.65, 0.8)
    assert (card.clv, card.clv_low, card.clv_high) == (
        Decimal("450000"),
        Decimal("380000"),
        Decimal("520000"),
    )
    assert card.clv_note == ""
    assert card.evidence == evidence
    assert card.lifecycle == "loyal" and card.segment == "champions"  # kept


def test_a_blank_clv_keeps_its_reason():
    customer = CustomerFactory(member_code="LG0043")
    insight_for(customer, clv=None, clv_note="no_spend")

    card = customer_card_get(merchant=customer.merchant, member_code="LG0043")

    assert card.clv is None and card.clv_note == "no_spend"


def test_without_an_insight_the_estimates_are_empty():
    customer = CustomerFactory(member_code="LG0044")

    card = customer_card_get(merchant=customer.merchant, member_code="LG0044")

    assert card.p_alive is None and card.clv is None
    assert card.clv_note == "" and card.evidence == {}


def test_the_usual_order_offers_items_bought_equally_often_as_equals():
    customer = CustomerFactory(member_code="LG0045")
    insight_for(
        customer,
        usual_order=[
            {"item": "Kopi Susu", "times": 6, "share": 0.5, "rank": 1},
            {"item": "Teh Manis", "times": 6, "share": 0.5, "rank": 1},
        ],
    )

    card = customer_card_get(merchant=customer.merchant, member_code="LG0045")

    assert card.suggested_action == ACTION_USUAL.format(item="Kopi Susu atau Teh Manis")


def test_usual_ranked_ties_equal_counts_when_no_rank_was_stored():
    rows = usual_ranked(
        [
            {"item": "Roti", "times": 2},
            {"item": "Kopi Susu", "times": 6},
            {"item": "Teh Manis", "times": 6},
            {"item": ""},
        ]
    )

    assert [(r["item"], r["rank"]) for r in rows] == [
        ("Kopi Susu", 1),
        ("Teh Manis", 1),
        ("Roti", 2),
    ]
