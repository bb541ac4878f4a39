"""The demo café's messages use what we know: each customer's usual order and her own outlet.

The demo is built as ``langganan demo`` builds it, then analysed as ``langganan analyze`` does;
the messages still queued must agree with what the analysis stores on her page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db.models import Count, Max

from langganan.campaigns.models import Campaign, Message, MessageStatus
from langganan.campaigns.personalise import usual_order_text
from langganan.campaigns.services import campaign_run
from langganan.demo.generator import demo_merchant_build
from langganan.demo.simulation import JAKARTA
from langganan.insights.models import CustomerInsight
from langganan.insights.services import insights_refresh
from langganan.sales.models import Transaction

END = date(2025, 6, 30)
N = 400
SEED = 5
FALLBACK = "menu favoritmu"

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    merchant = demo_merchant_build(slug="demo", n_customers=N, seed=SEED, end=END).merchant
    insights_refresh(merchant=merchant, observation_end=datetime.combine(END, time(), JAKARTA))
    return merchant


def most_visited_outlet(merchant) -> dict[int, str]:
    """customer → the outlet of most of her visits, on a tie the one visited last."""
    best: dict[int, tuple[int, datetime, str]] = {}
    for customer_id, name, visits, last in (
        Transaction.objects.filter(merchant=merchant, kind="sale", customer__isnull=False)
        .values_list("customer_id", "outlet__name")
        .annotate(visits=Count("id"), last=Max("occurred_at"))
    ):
        if customer_id not in best or (visits, last) > best[customer_id][:2]:
            best[customer_id] = (visits, last, name)
    return {customer_id: key[2] for customer_id, key in best.items()}


def rank_one(usual: list[dict]) -> set[str]:
    return {u["item"] for u in usual if u["rank"] == 1}


def check_messages(messages, merchant) -> tuple[int, int]:
    """Assert each message names the usual order (when known) and the customer's own outlet;
    return how many named a usual order and how many fell back."""
    usual = dict(
        CustomerInsight.objects.filter(merchant=merchant).values_list("customer_id", "usual_order")
    )
    outlet_of = most_visited_outlet(merchant)
    outlet_names = set(merchant.outlets.values_list("name", flat=True))
    named = fallback = 0
    for message in messages:
        known = usual.get(message.customer_id) or []
        if known:
            assert FALLBACK not in message.body, message.body
            assert usual_order_text(known) in message.body, (known, message.body)
            assert any(item in message.body for item in rank_one(known))
            named += 1
        else:
            assert FALLBACK in message.body, message.body
            fallback += 1
        mentioned = {name for name in outlet_names if name in message.body}
        assert mentioned == {outlet_of[message.customer_id]}, (mentioned, message.body)
    return named, fallback


def test_queued_demo_reminders_name_the_usual_order_and_the_customers_own_outlet(demo):
    queued = list(
        Message.objects.filter(
            merchant=demo,
            status=MessageStatus.QUEUED,
            campaign__kind__in=["reminder", "winback"],
        )
    )
    assert queued
    named, fallback = check_messages(queued, demo)
    assert named > fallback  # the demo's reminders go to regulars, whose usual is known
    assert {m.body.split("!")[0].split()[1] for m in queued} <= {"Kak", "Mas", "Mbak", "Pak", "Bu"}


def test_a_winback_run_on_the_analysed_demo_names_the_usual_order_and_own_outlet(demo):
    winback = Campaign.objects.get(merchant=demo, kind="winback")
    before = set(Message.objects.filter(campaign=winback).values_list("id", flat=True))
    now = datetime.combine(END, time(10), JAKARTA) + timedelta(days=1)
    report = campaign_run(campaign=winback, now=now)
    assert report.queued > 0
    new = Message.objects.filter(campaign=winback).exclude(id__in=before)
    named, _fallback = check_messages(new, demo)
    assert named > 0
    for message in new:
        assert message.body.split(",")[0].split()[0] in {"Kak", "Mas", "Mbak", "Pak", "Bu"}
