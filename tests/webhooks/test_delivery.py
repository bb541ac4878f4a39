"""Sending the outbox to a real local HTTP server: signatures, retries with backoff, failure."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from langganan.core.errors import Conflict, NotFound
from langganan.webhooks import delivery as delivery_module
from langganan.webhooks.delivery import (
    ERR_LEASE_EXPIRED,
    LEASE,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    DeliveryReport,
    _claim,
    _record,
    webhooks_deliver_due,
)
from langganan.webhooks.models import DeliveryStatus, WebhookDelivery
from langganan.webhooks.services import (
    webhook_delivery_retry,
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
)
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def _endpoint(merchant, receiver, **kwargs):
    endpoint = webhook_endpoint_create(merchant=merchant, url=receiver.url, **kwargs)
    receiver.secret = endpoint.secret
    return endpoint


def _emit(merchant, event="customer.created", **payload):
    return webhook_emit(merchant=merchant, event=event, payload=payload or {"id": 1})


def _later(delivery, **delta):
    return delivery.next_attempt_at + timedelta(**delta)


def test_a_due_delivery_is_sent_once_signed_and_marked_delivered(merchant, receiver):
    _endpoint(merchant, receiver)
    [made] = _emit(merchant, "transaction.recorded", total="25000.00")

    report = webhooks_deliver_due()
    again = webhooks_deliver_due()

    assert report == DeliveryReport(attempted=1, delivered=1)
    assert again == DeliveryReport()
    [got] = receiver.requests
    assert got.signature_ok
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Langganan-Event"] == "transaction.recorded"
    assert got.headers["X-Langganan-Delivery"] == str(made.event_id)
    assert abs(int(got.headers["X-Langganan-Timestamp"]) - time.time()) < 60
    assert got.headers["X-Langganan-Signature"].startswith("v1=")
    assert got.json == {
        "id": str(made.event_id),
        "event": "transaction.recorded",
        "created_at": made.created_at.isoformat(),
        "merchant": merchant.slug,
        "data": {"total": "25000.00"},
    }
    made.refresh_from_db()
    assert made.status == DeliveryStatus.DELIVERED
    assert made.attempts == 1
    assert made.last_status_code == 200
    assert made.delivered_at is not None


def test_a_server_answering_500_then_200_gets_it_on_the_second_attempt(merchant, receiver):
    _endpoint(merchant, receiver)
    receiver.statuses = [500, 200]
    [made] = _emit(merchant)
    start = timezone.now()

    first = webhooks_deliver_due(now=start)
    made.refresh_from_db()
    assert first == DeliveryReport(attempted=1, retrying=1)
    assert made.status == DeliveryStatus.PENDING
    assert made.attempts == 1
    assert made.last_status_code == 500
    assert made.last_error == "HTTP 500: receiver says no"
    assert RETRY_DELAYS[0] <= made.next_attempt_at - start <= RETRY_DELAYS[0] * 1.1

    too_early = webhooks_deliver_due(now=made.next_attempt_at - timedelta(seconds=1))
    assert too_early == DeliveryReport()

    second = webhooks_deliver_due(now=made.next_attempt_at)
    made.refresh_from_db()
    assert second == DeliveryReport(attempted=1, delivered=1)
    assert made.status == DeliveryStatus.DELIVERED
    assert made.attempts == 2
    assert made.last_status_code == 200
    assert made.last_error == ""
    assert len(receiver.requests) == 2
    assert len(receiver.delivery_counts()) == 1  # the same event id both times
    assert receiver.requests[0].body == receiver.requests[1].body


def test_a_down_server_is_retried_on_the_backoff_schedule_then_failed(merchant, down_url):
    webhook_endpoint_create(merchant=merchant, url=down_url)
    [made] = _emit(merchant)
    now = timezone.now()

    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = webhooks_deliver_due(now=now)
        made.refresh_from_db()
        assert made.attempts == attempt
        assert made.last_status_code is None
        assert "refused" in made.last_error.lower(), made.last_error
        if attempt < MAX_ATTEMPTS:
            assert report == DeliveryReport(attempted=1, retrying=1)
            assert made.status == DeliveryStatus.PENDING
            delay = made.next_attempt_at - now
            base = RETRY_DELAYS[attempt - 1]
            assert base <= delay <= base * 1.1, (attempt, delay)
            now = made.next_attempt_at
        else:
            assert report == DeliveryReport(attempted=1, failed=1)
            assert made.status == DeliveryStatus.FAILED

    assert webhooks_deliver_due(now=now + timedelta(days=30)) == DeliveryReport()
    assert MAX_ATTEMPTS == 7
    assert [d.total_seconds() for d in RETRY_DELAYS] == [60, 300, 1800, 7200, 21600, 43200]


def test_a_failed_delivery_can_be_retried_with_a_fresh_set_of_attempts(merchant, receiver):
    _endpoint(merchant, receiver)
    [made] = _emit(merchant)
    WebhookDelivery.objects.filter(pk=made.pk).update(
        status=DeliveryStatus.FAILED, attempts=MAX_ATTEMPTS
    )

    webhook_delivery_retry(delivery_id=made.pk, merchant=merchant)
    report = webhooks_deliver_due()

    made.refresh_from_db()
    assert report == DeliveryReport(attempted=1, delivered=1)
    assert made.status == DeliveryStatus.DELIVERED
    assert made.attempts == 1


def test_only_a_failed_delivery_of_ones_own_merchant_can_be_retried(merchant, receiver):
    _endpoint(merchant, receiver)
    [made] = _emit(merchant)

    with pytest.raises(Conflict):
        webhook_delivery_retry(delivery_id=made.pk)
    WebhookDelivery.objects.filter(pk=made.pk).update(status=DeliveryStatus.FAILED)
    with pytest.raises(NotFound):
        webhook_delivery_retry(delivery_id=made.pk, merchant=MerchantFactory())


def test_a_timeout_is_a_failed_attempt(merchant, receiver, monkeypatch):
    monkeypatch.setattr(delivery_module, "TIMEOUT_S", 0.2)
    _endpoint(merchant, receiver)
    receiver.delay_s = 1.0
    [made] = _emit(merchant)

    report = webhooks_deliver_due()

    made.refresh_from_db()
    assert report == DeliveryReport(attempted=1, retrying=1)
    assert made.last_status_code is None
    assert "timed out" in made.last_error.lower(), made.last_error


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(merchant, receiver):
    _endpoint(merchant, receiver)
    receiver.statuses = [302]
    [made] = _emit(merchant)

    webhooks_deliver_due()

    made.refresh_from_db()
    assert len(receiver.requests) == 1
    assert made.status == DeliveryStatus.PENDING
    assert made.last_status_code == 302
    assert "redirects are not followed" in made.last_error


def test_a_receiver_that_rejects_the_signature_gets_it_again_later(merchant, receiver):
    _endpoint(merchant, receiver)
    receiver.secret = "whsec_not_the_one"  # the server checks with the wrong secret: 400
    [made] = _emit(merchant)

    webhooks_deliver_due()

    made.refresh_from_db()
    assert not receiver.requests[0].signature_ok
    assert made.last_status_code == 400
    assert made.status == DeliveryStatus.PENDING


def test_a_paused_endpoints_deliveries_wait_until_it_is_resumed(merchant, receiver):
    endpoint = _endpoint(merchant, receiver)
    [made] = _emit(merchant)
    webhook_endpoint_set_active(endpoint_id=endpoint.pk, is_active=False)

    assert webhooks_deliver_due() == DeliveryReport()
    webhook_endpoint_set_active(endpoint_id=endpoint.pk, is_active=True)
    assert webhooks_deliver_due() == DeliveryReport(attempted=1, delivered=1)


def test_a_pass_sends_at_most_limit_deliveries_oldest_first(merchant, receiver):
    _endpoint(merchant, receiver)
    made = [_emit(merchant, id=i)[0] for i in range(5)]

    assert webhooks_deliver_due(limit=3).attempted == 3
    assert [r.json["data"]["id"] for r in receiver.requests] == [0, 1, 2]
    assert webhooks_deliver_due(limit=3).attempted == 2
    assert len(receiver.delivery_counts()) == len({d.event_id for d in made}) == 5


def test_each_endpoint_receives_only_its_merchants_deliveries(receiver):
    mine, other = MerchantFactory(), MerchantFactory()
    _endpoint(mine, receiver)
    _emit(mine, name="Sri")
    _emit(other, name="Budi")  # the other merchant has no endpoint: nothing for anyone

    webhooks_deliver_due()

    assert [r.json["merchant"] for r in receiver.requests] == [mine.slug]
    assert [r.json["data"] for r in receiver.requests] == [{"name": "Sri"}]


def test_each_endpoint_gets_requests_signed_with_its_own_secret(merchant):
    """Two servers, two secrets: each verifies with its own."""
    received: dict[str, list[bool]] = {"a": [], "b": []}
    secrets: dict[str, str] = {}
    servers = []

    from langganan.webhooks.signing import webhook_signature_verify

    def handler(name):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received[name].append(
                    webhook_signature_verify(
                        secret=secrets[name],
                        timestamp=self.headers["X-Langganan-Timestamp"],
                        body=body,
                        signature=self.headers["X-Langganan-Signature"],
                    )
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    for name in ("a", "b"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(name))
        Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        secrets[name] = webhook_endpoint_create(merchant=merchant, url=url).secret
    try:
        _emit(merchant)
        assert webhooks_deliver_due() == DeliveryReport(attempted=2, delivered=2)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert received == {"a": [True], "b": [True]}


def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_next_attempt(merchant, receiver):
    _endpoint(merchant, receiver)
    _emit(merchant)
    now = timezone.now()

    slow, _ = _claim(now)  # this worker hangs past its lease
    assert _claim(now) == (None, False)  # meanwhile it is not due for anyone else
    fast, _ = _claim(now + LEASE)
    assert _record(fast, status_code=200, error="", now=now + LEASE) == DeliveryStatus.DELIVERED
    assert _record(slow, status_code=None, error="timed out", now=now + LEASE) == ""

    stored = WebhookDelivery.objects.get()
    assert stored.status == DeliveryStatus.DELIVERED
    assert stored.attempts == 2


def test_a_last_attempt_whose_worker_died_is_failed_when_its_lease_runs_out(merchant, receiver):
    _endpoint(merchant, receiver)
    [made] = _emit(merchant)
    WebhookDelivery.objects.filter(pk=made.pk).update(attempts=MAX_ATTEMPTS)

    report = webhooks_deliver_due()

    made.refresh_from_db()
    assert report == DeliveryReport(attempted=1, failed=1)
    assert made.status == DeliveryStatus.FAILED
    assert made.last_error == ERR_LEASE_EXPIRED
    assert receiver.requests == []


def test_claims_skip_rows_locked_by_another_worker_where_the_database_can(merchant, receiver):
    """PostgreSQL claims with FOR UPDATE … SKIP LOCKED; SQLite has no row locks (its
    IMMEDIATE transactions serialise the workers) and gets no locking clause."""
    _endpoint(merchant, receiver)
    _emit(merchant)

    with CaptureQueriesContext(connection) as queries:
        report = webhooks_deliver_due()

    assert report.delivered == 1
    claims = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    if connection.vendor == "postgresql":
        assert claims and all("SKIP LOCKED" in sql for sql in claims)
        assert all('FOR UPDATE OF "webhooks_webhookdelivery"' in sql for sql in claims)
    else:
        assert claims == []


def test_the_body_is_compact_utf8_json(merchant, receiver):
    _endpoint(merchant, receiver)
    _emit(merchant, name="Bu Sri ☕")

    webhooks_deliver_due()

    body = receiver.requests[0].body
    assert "Bu Sri ☕".encode() in body
    assert json.loads(body)["data"] == {"name": "Bu Sri ☕"}
