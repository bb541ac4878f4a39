"""The customer list's new audience keys: stage, a move between stages, member, payment method,
consent — each keeps exactly the right customers (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from langganan.campaigns.audiences import audience_ids, filters_clean
from langganan.core.errors import InvalidInput
from langganan.customers.services import consent_record
from langganan.loyalty.models import Member
from langganan.sales.models import TransactionPayment
from tests.campaigns.core.conftest import insight_for
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def ids(merchant, **filters):
    return set(audience_ids(merchant=merchant, filters=filters))


def test_stage_splits_lapsed_into_lapsed_and_lost(merchant):
    loyal = CustomerFactory(merchant=merchant)
    insight_for(loyal, lifecycle="loyal", p_alive=0.9)
    lapsed = CustomerFactory(merchant=merchant)
    insight_for(lapsed, lifecycle="lapsed", p_alive=0.3)
    lost = CustomerFactory(merchant=merchant)
    insight_for(lost, lifecycle="lapsed", p_alive=0.01)

    assert ids(merchant, stage=["lost"]) == {lost.pk}
    assert ids(merchant, stage=["lapsed"]) == {lapsed.pk}
    assert ids(merchant, stage=["loyal", "lost"]) == {loyal.pk, lost.pk}


def test_moved_from_reads_the_stage_at_the_period_start(merchant):
    moved = CustomerFactory(merchant=merchant)
    insight_for(moved, lifecycle="at_risk", p_alive=0.5, stages_before={"30": "loyal"})
    stayed = CustomerFactory(merchant=merchant)
    insight_for(stayed, lifecycle="loyal", p_alive=0.9, stages_before={"30": "loyal"})
    newcomer = CustomerFactory(merchant=merchant)
    insight_for(newcomer, lifecycle="new", p_alive=0.9, stages_before={"365": "new"})
    other_period = CustomerFactory(merchant=merchant)
    insight_for(other_period, lifecycle="at_risk", p_alive=0.5, stages_before={"7": "loyal"})

    assert ids(merchant, moved_from="loyal", period=30) == {moved.pk}
    assert ids(merchant, moved_from="loyal", stage=["at_risk"], period=30) == {moved.pk}
    assert ids(merchant, moved_from="loyal", stage=["lapsed"], period=30) == set()
    assert ids(merchant, moved_from="none", period=30) == {newcomer.pk, other_period.pk}


def test_member_and_payment_method_and_consent(merchant, outlet):
    member = CustomerFactory(merchant=merchant)
    Member.objects.create(merchant=merchant, customer=member, referral_code="R1")
    other = CustomerFactory(merchant=merchant)
    sale = TransactionFactory(merchant=merchant, outlet=outlet, customer=other)
    TransactionPayment.objects.filter(transaction=sale).delete()
    TransactionPayment.objects.create(transaction=sale, method="qris", amount=sale.total)
    consent_record(customer=other, channel="whatsapp", granted=True, source="counter")

    assert ids(merchant, member="1") == {member.pk}
    assert ids(merchant, member="0") == {other.pk}
    assert ids(merchant, payment_methods=["qris"]) == {other.pk}
    assert ids(merchant, payment_methods=["cash"]) == set()
    assert ids(merchant, consent="whatsapp") == {other.pk}


def test_bad_new_keys_are_refused_and_period_goes_with_its_move():
    for bad in (
        {"stage": ["sleepy"]},
        {"moved_from": "x"},
        {"period": 12, "moved_from": "loyal"},
        {"member": "maybe"},
        {"payment_methods": ["gold"]},
    ):
        with pytest.raises(InvalidInput):
            filters_clean(bad)
    assert filters_clean({"moved_from": "loyal"}) == {"moved_from": "loyal", "period": 30}
    assert filters_clean({"period": "30"}) == {}


def test_a_city_matches_whatever_its_case_and_surrounding_spaces(merchant):
    bandung = CustomerFactory(merchant=merchant, city=" bandung ")
    also = CustomerFactory(merchant=merchant, city="BANDUNG")
    CustomerFactory(merchant=merchant, city="Bandung Barat")

    assert ids(merchant, cities=["Bandung"]) == {bandung.pk, also.pk}
    assert ids(merchant, cities=["  Bandung  "]) == {bandung.pk, also.pk}
