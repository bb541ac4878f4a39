"""Bad requests that used to give a 500 or an HTML page: every one is a problem+json now."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.test import Client

from langganan.sales.models import Transaction
from tests.api.conftest import BASE, assert_problem, sale_body

METHODS = ["get", "post", "put", "patch", "delete"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/nothing/here", "/transactions/1/nothing", "/"])
def test_an_unknown_api_path_is_a_json_404_whatever_the_method(shop, method, path):
    client = Client(enforce_csrf_checks=True)  # as a real request: the CSRF check runs
    response = client.generic(
        method.upper(),
        BASE + path,
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {shop.raw_key}"},
    )
    assert_problem(response, 404, "not_found")


def test_an_unknown_api_path_without_a_key_is_a_json_404_too(db):
    response = Client(enforce_csrf_checks=True).post(
        BASE + "/nothing", data="{}", content_type="application/json"
    )
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_method_a_path_does_not_take_is_a_405_problem(shop, method):
    client = Client(enforce_csrf_checks=True)
    response = client.generic(
        method.upper(),
        BASE + "/transactions",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {shop.raw_key}"},
    )
    body = assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"] and "POST" in body["detail"]


@pytest.mark.parametrize("path", ["/transactions", "/transactions/batch", "/customers"])
def test_a_body_over_the_limit_is_a_413_problem(shop, path):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = '{"lines": [], "pad": "' + "x" * limit + '"}'
    response = shop.api.post(path, raw=raw, idempotency_key="big")
    body = assert_problem(response, 413, "request_too_large")
    assert str(limit) in body["detail"]
    assert not Transaction.objects.exists()


def test_a_body_just_under_the_limit_is_read(shop, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    raw = json.dumps(sale_body(shop, quantity=1, external_id="x" * 10))
    assert shop.api.post("/transactions", raw=raw, idempotency_key="small").status_code == 201
    response = shop.api.post("/transactions", raw=raw + " " * 4096, idempotency_key="small2")
    assert_problem(response, 413, "request_too_large")


# -- a repeated receipt number ----------------------------------------------------------------


def test_a_repeated_receipt_number_with_a_new_key_is_a_409_naming_the_recorded_sale(shop):
    first = shop.api.post(
        "/transactions", sale_body(shop, external_id="STRUK-0001"), idempotency_key="k1"
    )
    assert first.status_code == 201, first.content
    sale = first.json()["transaction"]
    again = shop.api.post(
        "/transactions", sale_body(shop, external_id="STRUK-0001"), idempotency_key="k2"
    )
    body = assert_problem(again, 409, "receipt_exists")
    assert body["existing_transaction"]["id"] == sale["id"]
    assert body["existing_transaction"]["external_id"] == "STRUK-0001"
    assert body["existing_transaction"]["total"] == sale["total"]
    assert "STRUK-0001" in body["detail"]
    assert Transaction.objects.filter(external_id="STRUK-0001").count() == 1


def test_the_same_receipt_number_with_the_same_key_is_still_a_replay(shop):
    body = sale_body(shop, external_id="STRUK-0002")
    assert shop.api.post("/transactions", body, idempotency_key="k").status_code == 201
    replay = shop.api.post("/transactions", body, idempotency_key="k")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"


def test_a_receipt_number_of_another_merchant_is_no_conflict(shop, other):
    assert (
        shop.api.post(
            "/transactions", sale_body(shop, external_id="STRUK-9"), idempotency_key="a"
        ).status_code
        == 201
    )
    response = other.api.post(
        "/transactions", sale_body(other, external_id="STRUK-9"), idempotency_key="a"
    )
    assert response.status_code == 201, response.content


def test_the_offline_batch_refuses_a_repeated_receipt_number_per_sale(shop):
    first = shop.api.post(
        "/transactions", sale_body(shop, external_id="STRUK-0003"), idempotency_key="k1"
    )
    recorded_id = first.json()["transaction"]["id"]
    at = "2025-01-05T10:00:00+07:00"
    batch = {
        "transactions": [
            {
                **sale_body(shop, external_id="STRUK-0003"),
                "idempotency_key": "b1",
                "occurred_at": at,
            },
            {
                **sale_body(shop, external_id="STRUK-0004"),
                "idempotency_key": "b2",
                "occurred_at": at,
            },
            {
                **sale_body(shop, external_id="STRUK-0004"),
                "idempotency_key": "b3",
                "occurred_at": at,
            },
        ]
    }
    response = shop.api.post("/transactions/batch", batch)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [409, 201, 409]
    assert results[0]["problem"]["code"] == "receipt_exists"
    assert results[0]["problem"]["existing_transaction"]["id"] == recorded_id
    second_id = results[1]["result"]["transaction"]["id"]
    assert results[2]["problem"]["existing_transaction"]["id"] == second_id
    assert Transaction.objects.filter(external_id__startswith="STRUK-").count() == 2


def test_any_other_integrity_error_is_a_4xx_problem_never_a_500(shop, monkeypatch):
    from langganan.api.routers import checkout as router

    def duplicate(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: something")

    def broken(**kwargs):
        raise IntegrityError("CHECK constraint failed: something")

    monkeypatch.setattr(router, "checkout_quote", duplicate)
    assert_problem(shop.api.post("/checkout/quote", sale_body(shop)), 409, "duplicate")
    monkeypatch.setattr(router, "checkout_quote", broken)
    assert_problem(shop.api.post("/checkout/quote", sale_body(shop)), 422, "constraint_violated")


def test_an_integrity_error_in_one_sale_of_a_batch_refuses_that_sale_only(shop, monkeypatch):
    from langganan.api import services

    real = services.checkout
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["idempotency_key"])
        if kwargs["idempotency_key"] == "b1":
            raise IntegrityError("UNIQUE constraint failed: something")
        return real(**kwargs)

    monkeypatch.setattr(services, "checkout", flaky)
    at = "2025-01-05T10:00:00+07:00"
    batch = {
        "transactions": [
            {**sale_body(shop), "idempotency_key": key, "occurred_at": at} for key in ("b1", "b2")
        ]
    }
    response = shop.api.post("/transactions/batch", batch)
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == [409, 201]


def test_a_new_key_for_each_retry_never_records_the_receipt_twice(shop):
    statuses = [
        shop.api.post(
            "/transactions",
            sale_body(shop, external_id="STRUK-RETRY"),
            idempotency_key=str(uuid.uuid4()),
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 409, 409]


def test_the_idempotency_key_is_documented_as_the_server_checks_it(shop, client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ["/api/v1/transactions", "/api/v1/customers/{customer_id}/tab/payments"]:
        (header,) = [
            p for p in schema["paths"][path]["post"]["parameters"] if p["name"] == "Idempotency-Key"
        ]
        assert header["schema"]["pattern"] == r"^[\x21-\x7e]+$"
    for key in [" k1", "k 1", "k1 ", "kunci\u00e9"]:
        response = shop.api.post("/transactions", sale_body(shop), idempotency_key=key)
        assert_problem(response, 400, "idempotency_key_invalid")
    assert not Transaction.objects.exists()
