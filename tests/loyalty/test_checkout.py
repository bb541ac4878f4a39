"""The checkout service: one database transaction per sale, idempotent by key."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import Conflict, InvalidInput
from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, RefundRequest
from langganan.loyalty.ledger import customer_account, ledger_discrepancies
from langganan.loyalty.models import CashbackRule, Journal, Member, PointLot, Tier
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db
JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=JKT)


@pytest.fixture
def shop():
    outlet = OutletFactory()
    merchant = outlet.merchant
    program = ProgramFactory(merchant=merchant, max_redeem_share=Decimal("0.5"))
    coffee = ProductFactory(merchant=merchant, name="Kopi susu", price=Decimal("25000"))
    cake = ProductFactory(merchant=merchant, name="Bolu", price=Decimal("15000"))
    member = MemberFactory(customer=CustomerFactory(merchant=merchant))
    return {
        "merchant": merchant,
        "outlet": outlet,
        "program": program,
        "coffee": coffee,
        "cake": cake,
        "member": member,
        "customer": member.customer,
    }


def _request(shop, **kwargs):
    base = {
        "lines": [BasketLine(product_id=shop["coffee"].pk, quantity=Decimal("2"))],
        "customer_id": shop["customer"].pk,
        "occurred_at": AT,
    }
    base.update(kwargs)
    return CheckoutRequest(**base)


def _checkout(shop, key="k1", **kwargs):
    return co.checkout(
        merchant=shop["merchant"],
        outlet=shop["outlet"],
        idempotency_key=key,
        request=_request(shop, **kwargs),
    )


def test_a_member_checkout_records_the_sale_and_earns_points(shop):
    result = _checkout(shop)
    sale = Transaction.objects.get(pk=result["transaction"]["id"])
    assert sale.total == Decimal("50000") and sale.items.count() == 1
    assert result["points_earned"] == 5  # 1 point per full Rp 10.000
    assert result["balances"]["points"] == 5
    assert result["receipt_line"].startswith("Poin +5")
    assert (result["balances"]["tab_owed"], result["balances"]["tab_limit"]) == ("0.00", "0.00")
    assert ledger_discrepancies(shop["merchant"]) == []


def test_a_quote_records_nothing(shop):
    quote = co.checkout_quote(merchant=shop["merchant"], request=_request(shop))
    assert quote["total"] == "50000.00" and quote["points_earned"] == 5
    assert not Transaction.objects.exists() and not Journal.objects.exists()


def test_the_same_key_and_request_replays_the_result_and_records_nothing_more(shop):
    first = _checkout(shop)
    again = _checkout(shop)
    assert again["replayed"] is True and first["replayed"] is False
    assert {k: v for k, v in again.items() if k != "replayed"} == {
        k: v for k, v in first.items() if k != "replayed"
    }
    assert Transaction.objects.count() == 1
    assert customer_account(customer=shop["customer"], kind="points").balance == 5


def test_the_same_key_with_a_different_request_is_refused(shop):
    _checkout(shop)
    with pytest.raises(Conflict) as err:
        _checkout(shop, payment_method="qris")
    assert err.value.message == co.ERR_KEY_REUSED
    assert Transaction.objects.count() == 1


def test_a_walk_in_earns_nothing_and_needs_no_customer(shop):
    result = _checkout(shop, customer_id=None)
    assert result["points_earned"] == 0 and result["balances"] is None
    assert Transaction.objects.get().customer is None


def test_a_customer_who_is_not_a_member_earns_nothing(shop):
    other = CustomerFactory(merchant=shop["merchant"])
    result = _checkout(shop, customer_id=other.pk)
    assert result["points_earned"] == 0 and result["member"] is False


def test_points_pay_at_most_the_programs_share_of_the_bill(shop):
    _checkout(shop, key="earn", lines=[BasketLine(product_id=shop["coffee"].pk, quantity=40)])
    # 1,000,000 → 100 points; the bill below is 50,000, half of it = 250 points at Rp 100
    assert customer_account(customer=shop["customer"], kind="points").balance == 100
    with pytest.raises(InvalidInput) as err:
        _checkout(shop, key="too-many", points_to_redeem=251)
    assert "250" in err.value.message or "at most" in err.value.message
    result = _checkout(shop, key="ok", points_to_redeem=100)
    assert result["total"] == "40000.00"  # 50,000 - 100 × Rp 100
    assert result["balances"]["points"] == 4  # 0 left + 4 earned on 40,000
    assert ledger_discrepancies(shop["merchant"]) == []


def test_redeeming_more_points_than_the_balance_is_refused_and_nothing_is_recorded(shop):
    with pytest.raises(InvalidInput):
        _checkout(shop, points_to_redeem=10)
    assert not Transaction.objects.exists()


def test_cashback_goes_to_store_credit_and_credit_pays_a_later_bill(shop):
    CashbackRule.objects.create(
        program=shop["program"], name="5%", min_spend=Decimal("50000"), rate=Decimal("0.05")
    )
    first = _checkout(shop)
    assert first["cashback"] == "2500.00"
    assert first["balances"]["store_credit"] == "2500.00"
    second = _checkout(shop, key="k2", store_credit=Decimal("2500"))
    assert second["paid"]["store_credit"] == "2500.00"
    assert second["paid"]["payment_method"] == "47500.00"
    # earned on the money paid, not on the credit: 47,500 → 4 points
    assert second["points_earned"] == 4


def test_a_tab_charge_is_refused_beyond_the_limit(shop):
    with pytest.raises(InvalidInput):
        _checkout(shop, tab_charge=Decimal("1"))
    tab = customer_account(customer=shop["customer"], kind="tab")
    type(tab).objects.filter(pk=tab.pk).update(floor=Decimal("-60000"))
    result = _checkout(shop, key="k2", tab_charge=Decimal("50000"))
    assert result["balances"]["tab_owed"] == "50000.00"
    with pytest.raises(InvalidInput):
        _checkout(shop, key="k3", tab_charge=Decimal("10000.01"))


def test_a_tier_upgrade_happens_at_the_sale_that_qualifies(shop):
    gold = Tier.objects.create(
        program=shop["program"],
        name="Gold",
        rank=2,
        min_spend=Decimal("100000"),
        earn_multiplier=Decimal("2"),
    )
    first = _checkout(shop)
    assert first["tier"] is None
    second = _checkout(shop, key="k2")
    assert second["tier"] == {"name": "Gold", "changed": True}
    assert Member.objects.get(pk=shop["member"].pk).tier == gold
    third = _checkout(shop, key="k3")
    assert third["points_earned"] == 10  # Gold doubles the points


def test_a_partial_refund_takes_back_points_in_proportion_and_only_once(shop):
    sale = _checkout(shop, lines=[BasketLine(product_id=shop["coffee"].pk, quantity=4)])
    assert sale["points_earned"] == 10
    sale_id = sale["transaction"]["id"]
    half = co.refund(
        merchant=shop["merchant"],
        outlet=None,
        idempotency_key="r1",
        request=RefundRequest(sale_id=sale_id, amount=Decimal("50000"), occurred_at=AT),
    )
    assert half["reversed"]["points_taken_back"] == 5
    rest = co.refund(
        merchant=shop["merchant"],
        outlet=None,
        idempotency_key="r2",
        request=RefundRequest(sale_id=sale_id, occurred_at=AT),
    )
    assert rest["reversed"]["points_taken_back"] == 5 and rest["refund"]["full"] is True
    assert customer_account(customer=shop["customer"], kind="points").balance == 0
    with pytest.raises(InvalidInput):  # nothing left to refund
        co.refund(
            merchant=shop["merchant"],
            outlet=None,
            idempotency_key="r3",
            request=RefundRequest(sale_id=sale_id, occurred_at=AT),
        )
    assert ledger_discrepancies(shop["merchant"]) == []


def test_a_refund_gives_back_redeemed_points_in_proportion(shop):
    _checkout(shop, key="earn", lines=[BasketLine(product_id=shop["coffee"].pk, quantity=40)])
    paid = _checkout(shop, key="redeem", points_to_redeem=100)
    result = co.refund(
        merchant=shop["merchant"],
        outlet=None,
        idempotency_key="r1",
        request=RefundRequest(sale_id=paid["transaction"]["id"], occurred_at=AT),
    )
    assert result["reversed"]["points_given_back"] == 100
    assert result["reversed"]["points_taken_back"] == 4
    assert result["balances"]["points"] == 100
    lots = PointLot.objects.filter(account__customer=shop["customer"])
    assert sum(lot.remaining for lot in lots) == 100


def test_a_refund_of_another_merchants_sale_is_not_found(shop):
    sale = _checkout(shop)
    other = OutletFactory()
    with pytest.raises(co.NotFound):
        co.refund(
            merchant=other.merchant,
            outlet=None,
            idempotency_key="x",
            request=RefundRequest(sale_id=sale["transaction"]["id"]),
        )


def test_a_reward_adds_its_item_free_and_costs_its_points(shop):
    from langganan.loyalty.models import Reward

    _checkout(shop, key="earn", lines=[BasketLine(product_id=shop["coffee"].pk, quantity=40)])
    reward = Reward.objects.create(
        program=shop["program"], name="Bolu gratis", points_cost=30, product=shop["cake"]
    )
    result = _checkout(shop, key="reward", reward_ids=[reward.pk])
    assert result["total"] == "50000.00"  # the cake is free, the two coffees are paid
    assert {
        "type": "reward",
        "reward_id": reward.pk,
        "name": "Bolu gratis",
        "points": 30,
        "amount": "15000.00",
    } in result["discounts"]
    assert result["balances"]["points"] == 100 - 30 + 5
    sale = Transaction.objects.get(pk=result["transaction"]["id"])
    assert sale.items.count() == 2


def test_a_reward_needs_enough_points(shop):
    from langganan.loyalty.models import Reward

    reward = Reward.objects.create(program=shop["program"], name="Bolu", points_cost=30)
    with pytest.raises(InvalidInput):
        _checkout(shop, reward_ids=[reward.pk])
    assert not Transaction.objects.exists()


def test_a_voucher_discounts_the_bill_and_a_full_refund_gives_its_use_back(shop):
    from langganan.loyalty.models import Voucher

    voucher = Voucher.objects.create(
        merchant=shop["merchant"],
        code="HEMAT5",
        name="Hemat",
        kind="single",
        max_uses=1,
        discount_type="fixed",
        value=Decimal("5000"),
    )
    result = _checkout(shop, voucher_codes=["hemat5"])
    assert result["total"] == "45000.00"
    assert result["discounts"][0] == {"type": "voucher", "code": "HEMAT5", "amount": "5000.00"}
    voucher.refresh_from_db()
    assert voucher.uses == 1
    with pytest.raises(InvalidInput):  # single use: already used
        _checkout(shop, key="again", voucher_codes=["HEMAT5"])
    co.refund(
        merchant=shop["merchant"],
        outlet=None,
        idempotency_key="r",
        request=RefundRequest(sale_id=result["transaction"]["id"], occurred_at=AT),
    )
    voucher.refresh_from_db()
    assert voucher.uses == 0
    assert _checkout(shop, key="third", voucher_codes=["HEMAT5"])["total"] == "45000.00"
