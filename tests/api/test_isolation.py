"""A key reaches only its own merchant: another merchant's customer, sale or voucher is a 404
on every endpoint, never a 403 that would confirm it exists."""

from __future__ import annotations

from langganan.loyalty.vouchers import voucher_create
from langganan.sales.models import Transaction
from tests.api.conftest import assert_problem, sale_body


def theirs(shop, other) -> dict:
    """Objects of ``other`` (a sale, a voucher) next to ``shop``'s own basket."""
    sale = other.api.post("/transactions", sale_body(other), idempotency_key="theirs").json()
    voucher_create(merchant=other.merchant, code="MILIKLAIN", discount_type="fixed", value=1000)
    return {"sale_id": sale["transaction"]["id"], "code": "MILIKLAIN"}


def test_lookup_of_another_merchants_customer_is_a_404(shop, other):
    assert_problem(shop.api.get("/customers/lookup", {"phone": other.customer.phone}), 404)
    assert_problem(
        shop.api.get("/customers/lookup", {"member_code": other.customer.member_code}), 404
    )


def test_the_ledger_of_another_merchants_customer_is_a_404(shop, other):
    assert_problem(shop.api.get(f"/customers/{other.customer.pk}/ledger"), 404)


def test_a_quote_for_another_merchants_customer_or_voucher_is_a_404(shop, other):
    ids = theirs(shop, other)
    body = sale_body(shop, customer_id=other.customer.pk)
    assert_problem(shop.api.post("/checkout/quote", body), 404)
    body = sale_body(shop, voucher_codes=[ids["code"]])
    assert_problem(shop.api.post("/checkout/quote", body), 404)


def test_a_sale_for_another_merchants_customer_or_voucher_is_a_404(shop, other):
    ids = theirs(shop, other)
    body = sale_body(shop, customer_id=other.customer.pk)
    assert_problem(shop.api.post("/transactions", body, idempotency_key="x1"), 404)
    body = sale_body(shop, voucher_codes=[ids["code"]])
    assert_problem(shop.api.post("/transactions", body, idempotency_key="x2"), 404)
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 0


def test_a_batch_sale_for_another_merchants_customer_is_a_404_item(shop, other):
    item = {
        **sale_body(shop, customer_id=other.customer.pk),
        "idempotency_key": "b1",
        "occurred_at": "2025-06-01T10:00:00+07:00",
    }
    result = shop.api.post("/transactions/batch", {"transactions": [item]}).json()
    assert result["results"][0]["status"] == 404
    assert result["results"][0]["problem"]["status"] == 404


def test_refunding_another_merchants_sale_is_a_404(shop, other):
    ids = theirs(shop, other)
    url = f"/transactions/{ids['sale_id']}/refunds"
    assert_problem(shop.api.post(url, {}, idempotency_key="r"), 404)
    assert Transaction.objects.filter(refund_of_id=ids["sale_id"]).count() == 0


def test_validating_another_merchants_voucher_is_a_404(shop, other):
    ids = theirs(shop, other)
    assert_problem(shop.api.post(f"/vouchers/{ids['code']}/validate", sale_body(shop)), 404)
    body = sale_body(shop, customer_id=other.customer.pk)
    voucher_create(merchant=shop.merchant, code="MILIKKU", discount_type="fixed", value=1000)
    assert_problem(shop.api.post("/vouchers/MILIKKU/validate", body), 404)


def test_the_same_idempotency_key_of_another_merchant_replays_nothing_of_theirs(shop, other):
    theirs_sale = other.api.post("/transactions", sale_body(other), idempotency_key="k").json()
    mine = shop.api.post("/transactions", sale_body(shop), idempotency_key="k")
    assert mine["Idempotent-Replayed"] == "false"
    assert mine.json()["transaction"]["id"] != theirs_sale["transaction"]["id"]
