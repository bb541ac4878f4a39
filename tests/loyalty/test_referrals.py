"""Referrals: registering who brought a member, and rewarding both once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection, transaction

from langganan.core.errors import Conflict, InvalidInput
from langganan.loyalty import referrals as r
from langganan.loyalty.ledger import balance_of, customer_account, ledger_discrepancies
from langganan.loyalty.models import Journal, Member, Referral
from langganan.loyalty.referrals import referral_register, referral_reward_if_due
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, OutletFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=JKT)
D = Decimal


def member_of(merchant, **kwargs) -> Member:
    return MemberFactory(customer=CustomerFactory(merchant=merchant), **kwargs)


def points(member: Member) -> int:
    return int(balance_of(customer_account(customer=member.customer, kind="points")))


def sale(member: Member, total="50000", at=AT, kind="sale", refund_of=None) -> Transaction:
    return Transaction.objects.create(
        refund_of=refund_of,
        merchant_id=member.merchant_id,
        outlet=OutletFactory(merchant=member.merchant),
        customer=member.customer,
        kind=kind,
        occurred_at=at,
        total=D(total),
        payment_method="cash",
    )


@pytest.fixture
def program(db):
    return ProgramFactory(
        referral_referrer_points=100,
        referral_referred_points=50,
        referral_min_spend=D("50000"),
    )


@pytest.fixture
def pair(program):
    """(referrer, referred), registered."""
    referrer = member_of(program.merchant, referral_code="AYU777")
    referred = member_of(program.merchant)
    referral_register(member=referred, code="AYU777")
    return referrer, referred


# -- registering -------------------------------------------------------------------------------


def test_a_member_registers_another_members_code_trimmed_and_in_any_capitals(program):
    referrer = member_of(program.merchant, referral_code="AYU777")
    referred = member_of(program.merchant)
    referral = referral_register(member=referred, code="  ayu777 ")
    assert (referral.referrer, referral.referred, referral.merchant) == (
        referrer,
        referred,
        program.merchant,
    )
    assert referral.rewarded_at is None
    assert referred.referred_by == referrer
    assert Member.objects.get(pk=referred.pk).referred_by_id == referrer.pk


def test_an_unknown_code_is_refused(program):
    member = member_of(program.merchant)
    other_merchants_member = MemberFactory(referral_code="LAIN01")
    for code in ("NOPE", "", other_merchants_member.referral_code):
        with pytest.raises(InvalidInput) as err:
            referral_register(member=member, code=code)
        assert err.value.message == r.ERR_REFERRAL_CODE_UNKNOWN
    assert not Referral.objects.exists()


def test_a_member_cannot_use_their_own_code(program):
    member = member_of(program.merchant, referral_code="DIRI01")
    with pytest.raises(InvalidInput) as err:
        referral_register(member=member, code="diri01")
    assert err.value.message == r.ERR_REFERRAL_OWN_CODE
    assert not Referral.objects.exists()


def test_a_member_is_referred_only_once(pair):
    referrer, referred = pair
    another = member_of(referred.merchant, referral_code="BUDI02")
    with pytest.raises(Conflict) as err:
        referral_register(member=referred, code="BUDI02")
    assert err.value.message == r.ERR_REFERRAL_ALREADY
    assert Referral.objects.get().referrer == referrer
    assert another.referrals_made.count() == 0


def test_referrals_cannot_go_in_a_circle(pair):
    referrer, referred = pair
    third = member_of(referred.merchant)
    referral_register(member=third, code=referred.referral_code)  # referrer → referred → third
    for code in (referred.referral_code, third.referral_code):
        with pytest.raises(InvalidInput) as err:
            referral_register(member=referrer, code=code)
        assert err.value.message == r.ERR_REFERRAL_CIRCULAR
    assert Referral.objects.count() == 2


# -- rewarding ---------------------------------------------------------------------------------


def test_the_first_qualifying_purchase_rewards_both_members_once(pair):
    referrer, referred = pair
    first = sale(referred, total="50000")  # exactly the minimum spend
    assert referral_reward_if_due(member=referred, transaction_obj=first, at=AT) is True
    assert (points(referrer), points(referred)) == (100, 50)
    referral = Referral.objects.get()
    assert (referral.rewarded_at, referral.transaction) == (AT, first)
    keys = set(Journal.objects.filter(kind="referral").values_list("key", flat=True))
    assert keys == {f"referral:{referral.pk}:referrer", f"referral:{referral.pk}:referred"}
    assert set(Journal.objects.values_list("transaction", flat=True)) == {first.pk}

    assert referral_reward_if_due(member=referred, transaction_obj=first, at=AT) is False
    second = sale(referred, total="90000", at=AT + timedelta(days=1))
    assert referral_reward_if_due(member=referred, transaction_obj=second, at=AT) is False
    assert (points(referrer), points(referred)) == (100, 50)
    assert ledger_discrepancies(referred.merchant) == []


def test_a_purchase_below_the_minimum_spend_does_not_count(pair):
    referrer, referred = pair
    small = sale(referred, total="49999.99")
    assert referral_reward_if_due(member=referred, transaction_obj=small, at=AT) is False
    assert Referral.objects.get().rewarded_at is None
    later = sale(referred, total="60000", at=AT + timedelta(hours=2))
    assert referral_reward_if_due(member=referred, transaction_obj=later, at=AT) is True
    assert (points(referrer), points(referred)) == (100, 50)


def test_no_reward_when_an_earlier_purchase_already_qualified(pair):
    referrer, referred = pair
    sale(referred, total="80000", at=AT - timedelta(days=30))  # a regular before enrolling
    today = sale(referred, total="80000")
    assert referral_reward_if_due(member=referred, transaction_obj=today, at=AT) is False
    assert Referral.objects.get().rewarded_at is None
    assert (points(referrer), points(referred)) == (0, 0)


def test_a_member_who_was_not_referred_earns_no_referral_reward(program):
    member = member_of(program.merchant)
    assert referral_reward_if_due(member=member, transaction_obj=sale(member), at=AT) is False
    assert not Journal.objects.exists()


def test_nothing_is_due_when_the_program_gives_no_referral_points(pair, program):
    program.referral_referrer_points = program.referral_referred_points = 0
    program.save()
    _, referred = pair
    assert referral_reward_if_due(member=referred, transaction_obj=sale(referred), at=AT) is False
    assert Referral.objects.get().rewarded_at is None
    assert not Journal.objects.exists()


def test_only_the_side_with_points_gets_a_journal(pair, program):
    program.referral_referrer_points = 0
    program.save()
    referrer, referred = pair
    assert referral_reward_if_due(member=referred, transaction_obj=sale(referred), at=AT) is True
    assert (points(referrer), points(referred)) == (0, 50)
    assert Journal.objects.get().key.endswith(":referred")


def test_a_refund_never_rewards(pair):
    _, referred = pair
    small = sale(referred, total="10000", at=AT - timedelta(hours=1))
    refund = sale(referred, total="-10000", kind="refund", refund_of=small)
    assert referral_reward_if_due(member=referred, transaction_obj=refund, at=AT) is False


def test_another_customers_sale_is_refused(pair):
    referrer, referred = pair
    with pytest.raises(InvalidInput) as err:
        referral_reward_if_due(member=referred, transaction_obj=sale(referrer), at=AT)
    assert err.value.message == r.ERR_REFERRAL_WRONG_SALE
    assert Referral.objects.get().rewarded_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_purchases_reward_exactly_once(ledger_cleanup):
    program = ProgramFactory(referral_referrer_points=100, referral_referred_points=50)
    referrer = member_of(program.merchant, referral_code="AYU777")
    referred = member_of(program.merchant)
    referral_register(member=referred, code="AYU777")
    outlet = OutletFactory(merchant=program.merchant)
    outcomes: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def checkout() -> None:
        close_old_connections()
        try:
            barrier.wait()
            with transaction.atomic():
                tx = Transaction.objects.create(
                    merchant=program.merchant,
                    outlet=outlet,
                    customer=referred.customer,
                    occurred_at=AT,
                    total=D("75000"),
                    payment_method="cash",
                )
                result: object = referral_reward_if_due(member=referred, transaction_obj=tx, at=AT)
        except Exception as exc:  # reported in the assertion
            result = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=checkout) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [False] * 9 + [True]
    assert (points(referrer), points(referred)) == (100, 50)
    assert Journal.objects.filter(kind="referral").count() == 2
    assert ledger_discrepancies(program.merchant) == []
