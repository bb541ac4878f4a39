"""POST /checkout/quote, /transactions, /transactions/batch, /transactions/{id}/refunds,
/vouchers/{code}/validate — and the idempotency rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from langganan.api.idempotency import idempotency_records_purge
from langganan.core.errors import InvalidInput
from langganan.loyalty.ledger import customer_account, ledger_discrepancies
from langganan.loyalty.models import CheckoutRecord, Voucher
from langganan.loyalty.vouchers import MSG_MIN_SPEND, voucher_create
from langganan.sales.models import Transaction, TransactionKind
from tests.api.conftest import assert_problem, sale_body


def points(shop) -> int:
    return int(customer_account(customer=shop.customer, kind="points").balance)


# -- quote -------------------------------------------------------------------------------------


def test_a_quote_prices_the_basket_and_records_nothing(shop):
    voucher_create(merchant=shop.merchant, code="HEMAT5", discount_type="fixed", value=5000)
    response = shop.api.post("/checkout/quote", sale_body(shop, voucher_codes=["hemat5"]))
    assert response.status_code == 200, response.content
    quote = response.json()
    assert quote["subtotal"] == "50000.00"
    assert quote["discounts"] == [
        {
            "type": "voucher",
            "code": "HEMAT5",
            "amount": "5000.00",
            "reward_id": None,
            "name": None,
            "points": None,
        }
    ]
    assert quote["total"] == "45000.00"
    assert quote["points_earned"] == 4
    assert not Transaction.objects.exists()


def test_a_refused_voucher_in_a_quote_is_a_422_with_its_reason(shop):
    voucher_create(
        merchant=shop.merchant,
        code="MIN100",
        discount_type="fixed",
        value=5000,
        min_spend=Decimal("100000"),
    )
    body = assert_problem(
        shop.api.post("/checkout/quote", sale_body(shop, voucher_codes=["MIN100"])),
        422,
        "voucher_refused",
    )
    assert body["reason"] == "min_spend"
    assert body["errors"][0]["field"] == "code"


def test_redeeming_more_points_than_the_balance_is_a_422(shop):
    body = assert_problem(
        shop.api.post("/checkout/quote", sale_body(shop, points_to_redeem=100)), 422
    )
    assert body["errors"][0]["field"] == "points_to_redeem"


# -- recording a sale --------------------------------------------------------------------------


def test_recording_a_sale_returns_the_transaction_balances_and_a_receipt_line(shop):
    response = shop.api.post(
        "/transactions", sale_body(shop, external_id="POS-1"), idempotency_key="k1"
    )
    assert response.status_code == 201, response.content
    assert response["Idempotent-Replayed"] == "false"
    sale = response.json()
    assert "replayed" not in sale
    assert sale["transaction"]["total"] == "50000.00"
    assert sale["transaction"]["external_id"] == "POS-1"
    assert sale["balances"]["points"] == 5
    assert sale["receipt_line"].startswith("Poin +5")
    tx = Transaction.objects.get(pk=sale["transaction"]["id"])
    assert (tx.merchant, tx.outlet, tx.customer) == (shop.merchant, shop.outlet, shop.customer)


def test_a_walk_in_sale_needs_no_customer(shop):
    body = {"lines": [{"name": "Es Teh", "quantity": "1", "unit_price": "5000"}]}
    response = shop.api.post("/transactions", body, idempotency_key="walk-in")
    assert response.status_code == 201
    assert response.json()["customer_id"] is None and response.json()["balances"] is None


def test_a_sale_without_an_idempotency_key_is_a_400_and_records_nothing(shop):
    body = assert_problem(
        shop.api.post("/transactions", sale_body(shop)), 400, "idempotency_key_missing"
    )
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert_problem(shop.api.post("/transactions", sale_body(shop), idempotency_key="  "), 400)
    assert_problem(
        shop.api.post("/transactions", sale_body(shop), idempotency_key="x" * 256),
        400,
        "idempotency_key_invalid",
    )
    assert not Transaction.objects.exists()


def test_the_same_key_and_body_replay_the_same_status_and_body(shop):
    first = shop.api.post("/transactions", sale_body(shop), idempotency_key="k1")
    again = shop.api.post("/transactions", sale_body(shop), idempotency_key="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Transaction.objects.count() == 1
    assert points(shop) == 5


def test_the_same_key_with_a_different_body_is_a_422(shop):
    shop.api.post("/transactions", sale_body(shop), idempotency_key="k1")
    body = assert_problem(
        shop.api.post("/transactions", sale_body(shop, quantity=3), idempotency_key="k1"),
        422,
        "idempotency_key_reused",
    )
    assert body["errors"][0]["field"] == "idempotency_key"
    assert Transaction.objects.count() == 1


def test_keys_are_scoped_per_merchant(shop, other):
    assert shop.api.post("/transactions", sale_body(shop), idempotency_key="k1").status_code == 201
    response = other.api.post("/transactions", sale_body(other, quantity=3), idempotency_key="k1")
    assert response.status_code == 201
    assert response["Idempotent-Replayed"] == "false"
    assert Transaction.objects.count() == 2


def test_a_refused_sale_records_nothing_and_its_key_can_be_used_again(shop):
    bad = sale_body(shop, points_to_redeem=10)
    assert_problem(shop.api.post("/transactions", bad, idempotency_key="k1"), 422)
    assert not CheckoutRecord.objects.exists()
    assert shop.api.post("/transactions", sale_body(shop), idempotency_key="k1").status_code == 201


def test_the_key_record_is_written_with_the_sale(shop):
    sale = shop.api.post("/transactions", sale_body(shop), idempotency_key="k1").json()
    record = CheckoutRecord.objects.get(merchant=shop.merchant, key="k1")
    assert record.operation == "checkout"
    assert record.transaction_id == sale["transaction"]["id"]


def test_idempotency_records_are_kept_at_least_72_hours(shop):
    shop.api.post("/transactions", sale_body(shop), idempotency_key="k1")
    with pytest.raises(InvalidInput):
        idempotency_records_purge(older_than=timedelta(hours=71))
    assert idempotency_records_purge(older_than=timedelta(hours=72)) == 0
    later = timezone.now() + timedelta(hours=73)
    assert idempotency_records_purge(older_than=timedelta(hours=72), now=later) == 1


def test_the_purge_command_refuses_less_than_72_hours(shop):
    from click.testing import CliRunner

    from langganan.cli import cli

    refused = CliRunner().invoke(cli, ["apikey", "purge-idempotency", "--older-than-hours", "1"])
    assert refused.exit_code != 0
    done = CliRunner().invoke(cli, ["apikey", "purge-idempotency"])
    assert done.exit_code == 0 and "0 idempotency records deleted" in done.output


def test_a_sale_with_a_voucher_uses_it_up(shop):
    voucher_create(
        merchant=shop.merchant,
        code="SEKALI",
        discount_type="fixed",
        value=5000,
        kind="single",
        max_uses=1,
    )
    body = sale_body(shop, voucher_codes=["SEKALI"])
    assert shop.api.post("/transactions", body, idempotency_key="a").status_code == 201
    problem = assert_problem(
        shop.api.post("/transactions", body, idempotency_key="b"), 422, "voucher_refused"
    )
    assert problem["reason"] == "used_up"
    assert Voucher.objects.get(code="SEKALI").uses == 1


# -- refunds -----------------------------------------------------------------------------------


def test_a_refund_reverses_points_and_is_idempotent(shop):
    sale = shop.api.post("/transactions", sale_body(shop, quantity=4), idempotency_key="s").json()
    sale_id = sale["transaction"]["id"]
    url = f"/transactions/{sale_id}/refunds"
    partial = shop.api.post(url, {"amount": "50000", "reason": "tumpah"}, idempotency_key="r1")
    assert partial.status_code == 201, partial.content
    body = partial.json()
    assert body["refund"]["amount"] == "50000.00" and body["refund"]["full"] is False
    assert body["reversed"]["points_taken_back"] == 5
    again = shop.api.post(url, {"amount": "50000", "reason": "tumpah"}, idempotency_key="r1")
    assert again.content == partial.content and again["Idempotent-Replayed"] == "true"
    assert_problem(shop.api.post(url, {"amount": "1"}, idempotency_key="r1"), 422)
    rest = shop.api.post(url, {}, idempotency_key="r2")
    assert rest.status_code == 201 and rest.json()["refund"]["full"] is True
    assert points(shop) == 0
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 2
    over = shop.api.post(url, {"amount": "1"}, idempotency_key="r3")
    assert assert_problem(over, 422)["errors"][0]["field"] == "amount"
    assert ledger_discrepancies(shop.merchant) == []


def test_a_refund_needs_an_idempotency_key(shop):
    sale = shop.api.post("/transactions", sale_body(shop), idempotency_key="s").json()
    url = f"/transactions/{sale['transaction']['id']}/refunds"
    assert_problem(shop.api.post(url, {}), 400, "idempotency_key_missing")


@pytest.mark.parametrize("raw", ["[null, null]", "[]", "null", "0", '"full"'])
def test_a_refund_body_that_is_not_an_object_is_refused_and_refunds_nothing(shop, raw):
    """Every field of a refund is optional: a body that is not an object must not pass as an
    empty one (schemathesis found ``[null, null]`` refunding the whole sale)."""
    sale = shop.api.post("/transactions", sale_body(shop), idempotency_key="s").json()
    url = f"/transactions/{sale['transaction']['id']}/refunds"
    problem = assert_problem(shop.api.post(url, raw=raw, idempotency_key="r"), 422)
    assert problem["code"] == "validation_error"
    assert not Transaction.objects.filter(kind=TransactionKind.REFUND).exists()


@pytest.mark.parametrize("value", ["1e3", " 5", "+5", "05", "5.", "0x10", "1_000", "5,00"])
def test_a_decimal_string_must_be_written_plainly(shop, value):
    body = {"lines": [{"name": "Es Teh", "quantity": value, "unit_price": "5000"}]}
    problem = assert_problem(shop.api.post("/checkout/quote", body), 422, "validation_error")
    assert problem["errors"][0]["field"] == "lines[0].quantity"


def test_refunding_an_unknown_sale_is_a_404(shop):
    assert_problem(shop.api.post("/transactions/999999/refunds", {}, idempotency_key="r"), 404)


def test_a_refund_cannot_be_refunded(shop):
    sale = shop.api.post("/transactions", sale_body(shop), idempotency_key="s").json()
    refund = shop.api.post(
        f"/transactions/{sale['transaction']['id']}/refunds", {}, idempotency_key="r"
    ).json()
    assert_problem(
        shop.api.post(f"/transactions/{refund['refund']['id']}/refunds", {}, idempotency_key="x"),
        422,
    )


# -- offline batches ---------------------------------------------------------------------------


def batch(shop, n: int, **extra):
    start = timezone.now() - timedelta(hours=5)
    return {
        "transactions": [
            {
                **sale_body(shop, quantity=1 + i % 3),
                "idempotency_key": f"offline-{i}",
                "occurred_at": (start + timedelta(minutes=i)).isoformat(),
                **extra,
            }
            for i in range(n)
        ]
    }


def test_a_batch_records_each_sale_at_its_own_time_and_resending_changes_nothing(shop):
    body = batch(shop, 30)
    first = shop.api.post("/transactions/batch", body)
    assert first.status_code == 200, first.content
    result = first.json()
    assert (result["recorded"], result["replayed"], result["failed"]) == (30, 0, 0)
    assert [r["index"] for r in result["results"]] == list(range(30))
    assert all(r["status"] == 201 and r["replayed"] is False for r in result["results"])
    times = list(
        Transaction.objects.filter(merchant=shop.merchant)
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
    )
    assert times[0] < timezone.now() - timedelta(hours=4)
    balance = points(shop)

    again = shop.api.post("/transactions/batch", body).json()
    assert (again["recorded"], again["replayed"], again["failed"]) == (0, 30, 0)
    assert [r["result"] for r in again["results"]] == [r["result"] for r in result["results"]]
    assert Transaction.objects.count() == 30
    assert points(shop) == balance
    assert ledger_discrepancies(shop.merchant) == []


def test_a_refused_sale_in_a_batch_does_not_stop_the_others(shop, other):
    body = batch(shop, 3)
    body["transactions"][1]["customer_id"] = other.customer.pk  # another merchant's customer
    body["transactions"][2]["points_to_redeem"] = 1000
    result = shop.api.post("/transactions/batch", body).json()
    assert [r["status"] for r in result["results"]] == [201, 404, 422]
    assert result["results"][1]["problem"]["code"] == "not_found"
    assert result["results"][2]["problem"]["errors"][0]["field"] == "points_to_redeem"
    assert (result["recorded"], result["failed"]) == (1, 2)
    assert Transaction.objects.count() == 1


def test_a_batch_item_with_a_reused_key_and_another_body_is_refused(shop):
    body = batch(shop, 2)
    body["transactions"][1]["idempotency_key"] = "offline-0"
    result = shop.api.post("/transactions/batch", body).json()
    assert [r["status"] for r in result["results"]] == [201, 422]
    assert result["results"][1]["problem"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("mutate", ["too_many", "empty", "no_time", "no_key", "naive_time"])
def test_a_malformed_batch_is_refused_whole_with_the_field_named(shop, mutate):
    body = batch(shop, 2)
    item = body["transactions"][1]
    if mutate == "too_many":
        body = batch(shop, 501)
        field = "transactions"
    elif mutate == "empty":
        body = {"transactions": []}
        field = "transactions"
    elif mutate == "no_time":
        del item["occurred_at"]
        field = "transactions[1].occurred_at"
    elif mutate == "no_key":
        del item["idempotency_key"]
        field = "transactions[1].idempotency_key"
    else:
        item["occurred_at"] = "2025-01-01T10:00:00"
        field = "transactions[1].occurred_at"
    problem = assert_problem(shop.api.post("/transactions/batch", body), 422, "validation_error")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert not Transaction.objects.exists()


def test_a_full_batch_of_500_is_accepted(shop):
    result = shop.api.post("/transactions/batch", batch(shop, 500)).json()
    assert result["recorded"] == 500
    assert Transaction.objects.count() == 500


# -- vouchers ----------------------------------------------------------------------------------


def test_a_voucher_that_applies_gives_its_discount_and_the_quote(shop):
    voucher_create(merchant=shop.merchant, code="DISKON10", discount_type="percent", value=10)
    response = shop.api.post("/vouchers/diskon10/validate", sale_body(shop))
    assert response.status_code == 200, response.content
    check = response.json()
    assert check["applies"] is True and check["code"] == "DISKON10"
    assert check["discount"] == "5000.00"
    assert check["quote"]["total"] == "45000.00"
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"min_spend": Decimal("100000")}, "min_spend"),
        ({"valid_until": timezone.now() - timedelta(days=1)}, "expired"),
        ({"is_active": False}, "inactive"),
    ],
)
def test_a_voucher_that_does_not_apply_says_why(shop, fields, reason):
    voucher_create(merchant=shop.merchant, code="COBA", discount_type="fixed", value=5000, **fields)
    check = shop.api.post("/vouchers/COBA/validate", sale_body(shop)).json()
    assert check["applies"] is False and check["reason"] == reason
    if reason == "min_spend":
        assert check["detail"] == MSG_MIN_SPEND.format(amount="Rp100.000") or check["detail"]
    assert check["discount"] is None and check["quote"] is None


def test_an_unknown_voucher_is_a_404(shop):
    assert_problem(shop.api.post("/vouchers/NOPE/validate", sale_body(shop)), 404)


def test_a_basket_is_required_to_validate_a_voucher(shop):
    voucher_create(merchant=shop.merchant, code="COBA", discount_type="fixed", value=5000)
    problem = assert_problem(shop.api.post("/vouchers/COBA/validate", {"lines": []}), 422)
    assert problem["errors"][0]["field"] == "lines"
