"""POST /transactions with ``payments`` (a split payment), ``payment_method: tab`` and a
``note``; the OpenAPI document describes them."""

from __future__ import annotations

from decimal import Decimal

from langganan.loyalty.ledger import customer_account
from langganan.loyalty.models import Account
from langganan.sales.models import Transaction, TransactionPayment
from tests.api.conftest import assert_problem, sale_body


def _rows(sale_id: int) -> dict[str, Decimal]:
    return dict(
        TransactionPayment.objects.filter(transaction_id=sale_id).values_list("method", "amount")
    )


def test_a_split_payment_is_recorded_with_one_row_per_method(shop):
    payments = [{"method": "qris", "amount": "30000"}, {"method": "cash", "amount": "20000"}]
    response = shop.api.post(
        "/transactions",
        sale_body(shop, payments=payments, note="es batu sedikit"),
        idempotency_key="split-1",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["paid"]["payments"] == [
        {"method": "qris", "amount": "30000.00"},
        {"method": "cash", "amount": "20000.00"},
    ]
    assert body["paid"]["method"] == "qris"
    assert body["transaction"]["payment_method"] == "qris"
    assert body["transaction"]["note"] == "es batu sedikit"
    sale = Transaction.objects.get(pk=body["transaction"]["id"])
    assert _rows(sale.pk) == {"qris": Decimal("30000"), "cash": Decimal("20000")}
    assert sale.note == "es batu sedikit"


def test_payments_that_do_not_add_up_are_a_422_problem_in_english_and_indonesian(shop):
    payments = [{"method": "qris", "amount": "30000"}, {"method": "cash", "amount": "10000"}]
    body = assert_problem(
        shop.api.post("/transactions", sale_body(shop, payments=payments), idempotency_key="s"),
        422,
        "invalid",
    )
    assert body["detail"] == "the payments add up to Rp 40000.00 but Rp 50000.00 is to be paid"
    assert body["detail_id"] == "Jumlah pembayaran Rp 40.000, padahal yang harus dibayar Rp 50.000."
    assert body["errors"] == [{"field": "payments", "detail": body["detail"]}]
    assert not Transaction.objects.exists()


def test_a_payment_of_zero_or_an_unknown_method_is_a_validation_problem(shop):
    for payment in ({"method": "qris", "amount": "0"}, {"method": "barter", "amount": "5"}):
        body = assert_problem(
            shop.api.post(
                "/transactions", sale_body(shop, payments=[payment]), idempotency_key="v"
            ),
            422,
            "validation_error",
        )
        assert body["errors"][0]["field"].startswith("payments[0].")
    assert not Transaction.objects.exists()


def test_a_replay_returns_the_same_payments_and_a_changed_split_is_refused(shop):
    payments = [{"method": "e_wallet", "amount": "25000"}, {"method": "cash", "amount": "25000"}]
    first = shop.api.post(
        "/transactions", sale_body(shop, payments=payments), idempotency_key="same"
    )
    again = shop.api.post(
        "/transactions", sale_body(shop, payments=payments), idempotency_key="same"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["paid"]["payments"] == first.json()["paid"]["payments"]
    assert again.json()["transaction"] == first.json()["transaction"]
    assert TransactionPayment.objects.count() == 2
    changed = [{"method": "qris", "amount": "25000"}, {"method": "cash", "amount": "25000"}]
    assert_problem(
        shop.api.post("/transactions", sale_body(shop, payments=changed), idempotency_key="same"),
        422,
        "idempotency_key_reused",
    )
    assert Transaction.objects.count() == 1


def test_kasbon_by_the_api_charges_the_tab_within_its_limit(shop):
    tab = customer_account(customer=shop.customer, kind="tab")
    Account.objects.filter(pk=tab.pk).update(floor=Decimal("-60000"))
    response = shop.api.post(
        "/transactions", sale_body(shop, payment_method="tab"), idempotency_key="kasbon"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["transaction"]["payment_method"] == "tab"
    assert body["balances"]["tab_owed"] == "50000.00"
    assert _rows(body["transaction"]["id"]) == {"tab": Decimal("50000")}
    over = assert_problem(
        shop.api.post(
            "/transactions", sale_body(shop, payment_method="tab"), idempotency_key="kasbon-2"
        ),
        422,
    )
    assert over["errors"][0]["field"] == "tab_charge"
    assert Transaction.objects.count() == 1


def test_the_openapi_document_describes_payments_and_the_note(shop):
    schema = shop.api.client.get("/api/v1/openapi.json").json()
    checkout_in = schema["components"]["schemas"]["CheckoutIn"]["properties"]
    assert "payments" in checkout_in and "note" in checkout_in
    assert "amount due" in checkout_in["payments"]["description"]
    payment_in = schema["components"]["schemas"]["PaymentIn"]
    assert "tab" in payment_in["properties"]["method"]["enum"]
    assert set(payment_in["required"]) == {"method", "amount"}
    assert "detail_id" in schema["components"]["schemas"]["ProblemOut"]["properties"]


def test_a_split_sale_costs_no_more_queries_than_a_one_method_sale(
    shop, django_assert_max_num_queries
):
    from tests.api.test_costs import API_MEMBER_SALE_QUERIES, _warm

    _warm(shop)
    payments = [
        {"method": "qris", "amount": "20000"},
        {"method": "cash", "amount": "20000"},
        {"method": "e_wallet", "amount": "10000"},
    ]
    with django_assert_max_num_queries(API_MEMBER_SALE_QUERIES):
        response = shop.api.post(
            "/transactions", sale_body(shop, payments=payments), idempotency_key="split-cost"
        )
    assert response.status_code == 201, response.content
    assert len(response.json()["paid"]["payments"]) == 3
