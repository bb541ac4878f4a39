"""Errors are RFC 9457 problems; no input, however malformed, gives a 500."""

from __future__ import annotations

import json
import random

import pytest

from langganan.sales.models import Transaction
from tests.api.conftest import assert_problem, sale_body

SEED = 20250105


def test_a_validation_error_names_each_field(shop):
    body = {
        "lines": [{"product_id": shop.coffee.pk, "quantity": -1}, {"quantity": "abc"}],
        "payment_method": "gold",
        "points_to_redeem": -5,
    }
    problem = assert_problem(
        shop.api.post("/transactions", body, idempotency_key="k"), 422, "validation_error"
    )
    fields = {e["field"] for e in problem["errors"]}
    assert {
        "lines[0].quantity",
        "lines[1].quantity",
        "payment_method",
        "points_to_redeem",
    } <= fields
    assert problem["type"] == "urn:langganan:problem:validation_error"
    assert problem["title"] and problem["detail"]


MALFORMED_BODIES = [
    "{bad json",
    "",
    "null",
    "[]",
    "42",
    '"text"',
    '{"lines": "kopi"}',
    '{"lines": [null]}',
    '{"lines": [{"quantity": 1e400}]}',
    '{"lines": [{"quantity": NaN}]}',
    '{"lines": [{"quantity": "Infinity"}]}',
    '{"lines": [{"quantity": 1, "unit_price": 1e30}]}',
    '{"lines": [{"quantity": 99999, "unit_price": 99999999999}]}',
    '{"lines": [{"quantity": 1, "unit_price": "0.001"}]}',
    '{"lines": [{"quantity": 0}]}',
    '{"lines": [{"quantity": -3, "unit_price": 100}]}',
    '{"lines": [{"product_id": 99999999999999999999999, "quantity": 1}]}',
    '{"lines": [{"product_id": 9223372036854775807, "quantity": 1}]}',
    '{"lines": [{"product_id": -1, "quantity": 1}]}',
    '{"lines": [{"product_id": "abc", "quantity": 1}]}',
    '{"lines": [{"name": "kopi\\u0000susu", "quantity": 1}]}',
    '{"lines": [{"name": "\\ud800", "quantity": 1}]}',
    '{"lines": [{"name": "' + "x" * 5000 + '", "quantity": 1}]}',
    '{"lines": [{"quantity": 1}], "customer_id": 9223372036854775807}',
    '{"lines": [{"quantity": 1}], "customer_id": true}',
    '{"lines": [{"quantity": 1}], "voucher_codes": ["\\u0000"]}',
    '{"lines": [{"quantity": 1}], "voucher_codes": "ABC"}',
    '{"lines": [{"quantity": 1}], "reward_ids": [9223372036854775807]}',
    '{"lines": [{"quantity": 1}], "points_to_redeem": 1e100}',
    '{"lines": [{"quantity": 1}], "occurred_at": "0001-01-01T00:00:00+14:00"}',
    '{"lines": [{"quantity": 1}], "occurred_at": "9999-12-31T23:59:59-12:00"}',
    '{"lines": [{"quantity": 1}], "occurred_at": "yesterday"}',
    '{"lines": [{"quantity": 1}], "external_id": {"a": 1}}',
    '{"lines": [{"quantity": 1, "unit_price": 1}], "store_credit": 1, "tab_charge": 1}',
    '{"lines": [{"quantity": 1, "unit_price": 1}], "tab_charge": "-5"}',
]


@pytest.mark.parametrize("raw", MALFORMED_BODIES)
@pytest.mark.parametrize(
    "path", ["/transactions", "/checkout/quote", "/vouchers/ABC/validate", "/customers"]
)
def test_malformed_bodies_get_a_4xx_problem_never_a_500(shop, raw, path):
    response = shop.api.post(path, raw=raw, idempotency_key="fuzz")
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert not Transaction.objects.exists()


def test_random_json_bodies_never_give_a_500(shop):
    rng = random.Random(SEED)
    print(f"seed {SEED}")
    atoms = [
        None,
        True,
        -1,
        0,
        1,
        2**70,
        -(2**70),
        1.5,
        1e308,
        "",
        "x",
        "\u0000",
        "0812",
        "2025-01-01T00:00:00+07:00",
        [],
        {},
        shop.coffee.pk,
        shop.customer.pk,
        "99.999",
    ]
    keys = [
        "lines",
        "quantity",
        "unit_price",
        "product_id",
        "customer_id",
        "voucher_codes",
        "points_to_redeem",
        "store_credit",
        "tab_charge",
        "occurred_at",
        "discount",
        "name",
        "payment_method",
        "amount",
        "full_name",
        "phone",
        "consents",
        "transactions",
        "idempotency_key",
        "birth_date",
    ]

    def value(depth: int):
        roll = rng.random()
        if depth < 3 and roll < 0.2:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        if depth < 3 and roll < 0.45:
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 5))}
        return rng.choice(atoms)

    paths = [
        "/transactions",
        "/checkout/quote",
        "/vouchers/ABC/validate",
        "/customers",
        "/transactions/batch",
        "/transactions/1/refunds",
    ]
    for n in range(300):
        body = {rng.choice(keys): value(0) for _ in range(rng.randint(0, 6))}
        if rng.random() < 0.5:
            body["lines"] = [
                {rng.choice(keys): value(2) for _ in range(rng.randint(0, 4))}
                for _ in range(rng.randint(0, 3))
            ]
        path = rng.choice(paths)
        response = shop.api.post(path, raw=json.dumps(body), idempotency_key=f"f{n}")
        assert response.status_code < 500, (path, body, response.content)


@pytest.mark.parametrize(
    "query",
    [
        "phone=%00",
        "member_code=%00",
        "member_code=%ED%A0%80",  # an encoded lone surrogate
        "member_code=%FF%FE",  # not UTF-8
        "phone=" + "9" * 10000,
        "phone=%2B62%20812%20%27%20OR%201%3D1%20--",
        "phone=1&phone=2",
    ],
)
def test_malformed_queries_never_give_a_500(shop, query):
    response = shop.api.get(f"/customers/lookup?{query}")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "path",
    [
        "/customers/abc/ledger",
        "/customers/0/ledger",
        "/customers/99999999999999999999999/ledger",
        "/customers/-1/ledger",
    ],
)
def test_bad_ids_in_the_path_never_give_a_500(shop, path):
    response = shop.api.get(path)
    assert response.status_code in (404, 422), response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/transactions/abc/refunds",
        "/transactions/99999999999999999999/refunds",
        "/vouchers/%00/validate",
        "/vouchers/" + "A" * 100 + "/validate",
    ],
)
def test_bad_path_values_on_posts_never_give_a_500(shop, path):
    response = shop.api.post(path, sale_body(shop), idempotency_key="k")
    assert response.status_code in (404, 422), response.content


def test_an_unknown_endpoint_is_a_404_problem(shop):
    assert_problem(shop.api.get("/nothing/here"), 404, "not_found")


def test_an_unexpected_error_is_logged_and_a_500_problem(shop, monkeypatch, caplog):
    from langganan.api.routers import checkout as router

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(router, "checkout_quote", broken)
    response = shop.api.post("/checkout/quote", sale_body(shop))
    body = assert_problem(response, 500, "server_error")
    assert "boom" not in body["detail"]
    assert "boom" in caplog.text


def test_the_openapi_document_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/v1/complaints",
        "/api/v1/feedback",
        "/api/v1/customers/lookup",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}/ledger",
        "/api/v1/customers/{customer_id}/tab/payments",
        "/api/v1/checkout/quote",
        "/api/v1/transactions",
        "/api/v1/transactions/batch",
        "/api/v1/transactions/{transaction_id}/refunds",
        "/api/v1/vouchers/{code}/validate",
    }
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert {"401", "404", "422", "500"} <= set(responses)
            for status, answer in responses.items():
                media = "application/problem+json" if int(status) >= 400 else "application/json"
                assert media in answer["content"], (status, answer)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"]["type"] == "http"
    assert schemes["ApiKeyAuth"]["scheme"] == "bearer"
    post = schema["paths"]["/api/v1/transactions"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
