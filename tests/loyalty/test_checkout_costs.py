"""What a sale and a cashier's card cost in queries, and the balances a sale answers with.

The checkout keeps the customer's accounts it locked and moves their balances with its own
postings, so the answer's balances are not read again; these tests prove they are the ones in
the database, also when another service posted to the same accounts during the sale.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.models import Account, CashbackRule, Program
from langganan.loyalty.referrals import referral_register
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db
JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=JKT)

#: Upper bounds (statements, savepoints included) that a regression would break.
MEMBER_SALE_QUERIES = 35
WALK_IN_SALE_QUERIES = 13


@pytest.fixture
def shop():
    outlet = OutletFactory()
    merchant = outlet.merchant
    program = ProgramFactory(merchant=merchant, max_redeem_share=Decimal("0.5"))
    CashbackRule.objects.create(
        program=program, name="5%", min_spend=Decimal("10000"), rate=Decimal("0.05")
    )
    coffee = ProductFactory(merchant=merchant, name="Kopi susu", price=Decimal("25000"))
    member = MemberFactory(customer=CustomerFactory(merchant=merchant))
    return {
        "merchant": merchant,
        "outlet": outlet,
        "program": program,
        "coffee": coffee,
        "member": member,
    }


def _sale(shop, key, customer_id, **kwargs):
    return co.checkout(
        merchant=shop["merchant"],
        outlet=shop["outlet"],
        idempotency_key=key,
        request=CheckoutRequest(
            lines=[BasketLine(product_id=shop["coffee"].pk, quantity=Decimal("4"))],
            customer_id=customer_id,
            occurred_at=AT,
            **kwargs,
        ),
    )


def _in_database(customer) -> dict:
    rows = {a.kind: a for a in Account.objects.filter(customer=customer)}
    return {
        "points": int(rows["points"].balance),
        "store_credit": f"{rows['credit'].balance:.2f}",
        "tab_owed": f"{max(Decimal(0), -rows['tab'].balance):.2f}",
        "tab_limit": f"{-rows['tab'].floor:.2f}",
    }


def test_the_balances_answered_are_those_in_the_database(shop):
    customer = shop["member"].customer
    first = _sale(shop, "k1", customer.pk)
    assert first["points_earned"] == 10 and first["cashback"] == "5000.00"
    assert first["balances"] == _in_database(customer)
    second = _sale(shop, "k2", customer.pk, points_to_redeem=10, store_credit=Decimal("1000"))
    assert second["balances"] == _in_database(customer)
    assert ledger_discrepancies(shop["merchant"]) == []


def test_a_referral_reward_during_the_sale_is_in_the_balances_answered(shop):
    Program.objects.filter(pk=shop["program"].pk).update(
        referral_referrer_points=30, referral_referred_points=20, referral_min_spend=0
    )
    friend = MemberFactory(customer=CustomerFactory(merchant=shop["merchant"]))
    referral_register(member=friend, code=shop["member"].referral_code)
    result = _sale(shop, "k1", friend.customer_id)
    assert result["balances"]["points"] == 10 + 20
    assert result["balances"] == _in_database(friend.customer)


def test_a_members_sale_costs_a_bounded_number_of_queries(shop, django_assert_max_num_queries):
    customer = shop["member"].customer
    _sale(shop, "warm", customer.pk)  # the accounts exist from now on
    with django_assert_max_num_queries(MEMBER_SALE_QUERIES):
        _sale(shop, "k1", customer.pk)


def test_a_walk_in_sale_costs_a_bounded_number_of_queries(shop, django_assert_max_num_queries):
    _sale(shop, "warm", None)
    with django_assert_max_num_queries(WALK_IN_SALE_QUERIES):
        _sale(shop, "k1", None)
