"""Requests racing each other through the API, with real threads and connections.

Run on SQLite (writers queue on the write lock) and PostgreSQL (row and advisory locks).
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from langganan.loyalty.ledger import customer_account, ledger_discrepancies
from langganan.loyalty.models import CheckoutRecord, Voucher, VoucherRedemption
from langganan.loyalty.vouchers import voucher_create
from langganan.sales.models import Transaction
from tests.api.conftest import Api, make_shop, sale_body

THREADS = 20

pytestmark = pytest.mark.django_db(transaction=True)


def race(raw_key: str, send, n: int = THREADS) -> list:
    """Run ``send(api, i)`` in ``n`` threads started together, each with its own client and
    database connection; return the responses in thread order."""
    responses: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        close_old_connections()
        api = Api(raw_key)
        try:
            barrier.wait()
            responses[i] = send(api, i)
        except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
            responses[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in responses if isinstance(r, Exception)], responses
    return responses


@pytest.fixture
def shop(ledger_cleanup):
    return make_shop()


def test_twenty_requests_with_one_key_record_one_sale_and_identical_answers(shop):
    responses = race(
        shop.raw_key,
        lambda api, i: api.post("/transactions", sale_body(shop), idempotency_key="same"),
    )
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    ok = [r for r in responses if r.status_code == 201]
    assert ok, statuses
    assert all(r.content == ok[0].content for r in ok)
    assert Counter(r["Idempotent-Replayed"] for r in ok)["false"] == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["code"] == "idempotency_key_in_use"
        assert refused["Content-Type"] == "application/problem+json"
    if connection.vendor == "sqlite":  # one writer at a time: every retry waits and replays
        assert statuses == {201: THREADS}
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 1
    assert CheckoutRecord.objects.filter(merchant=shop.merchant).count() == 1
    assert customer_account(customer=shop.customer, kind="points").balance == 5
    assert ledger_discrepancies(shop.merchant) == []
    # a retry after the race replays the same answer
    later = Api(shop.raw_key).post("/transactions", sale_body(shop), idempotency_key="same")
    assert later.status_code == 201 and later.content == ok[0].content


def test_racing_redemptions_of_more_than_half_the_balance_let_exactly_one_through(shop):
    earn = shop.api.post("/transactions", sale_body(shop, quantity=40), idempotency_key="earn")
    assert earn.json()["balances"]["points"] == 100
    body = sale_body(shop, quantity=1, points_to_redeem=60)
    responses = race(
        shop.raw_key,
        lambda api, i: api.post("/transactions", body, idempotency_key=f"redeem-{i}"),
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 422: THREADS - 1}, statuses
    sale = next(r for r in responses if r.status_code == 201).json()
    balance = customer_account(customer=shop.customer, kind="points").balance
    assert balance == 100 - 60 + sale["points_earned"] == sale["balances"]["points"]
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 2
    assert ledger_discrepancies(shop.merchant) == []


def test_racing_sales_with_one_single_use_voucher_redeem_it_exactly_once(shop):
    voucher_create(
        merchant=shop.merchant,
        code="SEKALI",
        discount_type="fixed",
        value=Decimal("5000"),
        kind="single",
        max_uses=1,
    )
    body = sale_body(shop, voucher_codes=["SEKALI"])
    responses = race(
        shop.raw_key,
        lambda api, i: api.post("/transactions", body, idempotency_key=f"v-{i}"),
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 422: THREADS - 1}, statuses
    refused = [r.json() for r in responses if r.status_code == 422]
    assert {(p["code"], p["reason"]) for p in refused} == {("voucher_refused", "used_up")}
    voucher = Voucher.objects.get(merchant=shop.merchant, code="SEKALI")
    assert voucher.uses == 1
    assert VoucherRedemption.objects.filter(voucher=voucher).count() == 1
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 1


def test_a_batch_sent_twice_at_once_records_each_sale_once(shop):
    items = [
        {
            **sale_body(shop),
            "idempotency_key": f"off-{i}",
            "occurred_at": f"2025-06-01T10:{i:02d}:00+07:00",
        }
        for i in range(10)
    ]
    responses = race(
        shop.raw_key,
        lambda api, i: api.post("/transactions/batch", {"transactions": items}),
        n=4,
    )
    assert all(r.status_code == 200 for r in responses)
    for result in (r.json() for r in responses):
        assert {row["status"] for row in result["results"]} <= {201, 409}
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 10
    again = shop.api.post("/transactions/batch", {"transactions": items}).json()
    assert again["replayed"] == 10
    assert ledger_discrepancies(shop.merchant) == []


def test_a_retry_while_the_first_request_is_still_running_is_a_409_or_waits(shop, monkeypatch):
    """PostgreSQL: the first request holds the key's advisory lock until it commits, so a
    retry meanwhile is a 409. SQLite runs one writer at a time: the retry waits for the first
    to commit and then replays it."""
    from langganan.loyalty import checkout as co

    inside, release = threading.Event(), threading.Event()
    real_effects = co._checkout_effects

    def slow_effects(**kwargs):
        inside.set()
        assert release.wait(10)
        return real_effects(**kwargs)

    monkeypatch.setattr(co, "_checkout_effects", slow_effects)
    first: list = []

    def send_first() -> None:
        close_old_connections()
        try:
            first.append(
                Api(shop.raw_key).post("/transactions", sale_body(shop), idempotency_key="k")
            )
        finally:
            connection.close()

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        assert inside.wait(10)
        if connection.vendor == "sqlite":
            threading.Timer(1.0, release.set).start()
            retry = Api(shop.raw_key).post("/transactions", sale_body(shop), idempotency_key="k")
            assert retry.status_code == 201, retry.content
            assert retry["Idempotent-Replayed"] == "true"
        else:
            retry = Api(shop.raw_key).post("/transactions", sale_body(shop), idempotency_key="k")
            assert retry.status_code == 409, retry.content
            assert retry.json()["code"] == "idempotency_key_in_use"
            other_key = Api(shop.raw_key).post("/checkout/quote", sale_body(shop))
            assert other_key.status_code == 200  # only that key is busy
    finally:
        release.set()
        thread.join()
    assert first[0].status_code == 201
    replay = Api(shop.raw_key).post("/transactions", sale_body(shop), idempotency_key="k")
    assert replay.status_code == 201 and replay.content == first[0].content
    assert replay["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 1


def test_twenty_keys_racing_with_one_receipt_number_record_one_sale_and_name_it(shop):
    """A till that lost its key and retries with new ones, all at once: one sale is recorded,
    every other answer is a 409 receipt_exists naming it — never a 500 from the unique index."""
    responses = race(
        shop.raw_key,
        lambda api, i: api.post(
            "/transactions", sale_body(shop, external_id="STRUK-77"), idempotency_key=f"k{i}"
        ),
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: THREADS - 1}, statuses
    (recorded,) = [r.json()["transaction"]["id"] for r in responses if r.status_code == 201]
    for refused in (r for r in responses if r.status_code == 409):
        body = refused.json()
        assert body["code"] == "receipt_exists"
        assert body["existing_transaction"]["id"] == recorded
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 1
    assert CheckoutRecord.objects.filter(merchant=shop.merchant).count() == 1
    assert ledger_discrepancies(shop.merchant) == []
