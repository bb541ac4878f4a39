"""Two deliverers running at once, with real threads and database connections, never send one
delivery twice: SKIP LOCKED claims on PostgreSQL, the IMMEDIATE write lock on SQLite."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from langganan.webhooks.delivery import webhooks_deliver_due
from langganan.webhooks.models import DeliveryStatus, WebhookDelivery
from langganan.webhooks.services import webhook_emit, webhook_endpoint_create
from tests.factories import MerchantFactory

DELIVERIES = 40
WORKERS = 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliverers_never_send_a_delivery_twice(receiver):
    merchant = MerchantFactory()
    receiver.secret = webhook_endpoint_create(merchant=merchant, url=receiver.url).secret
    receiver.delay_s = 0.01  # keep both workers busy at the same time
    for i in range(DELIVERIES):
        webhook_emit(merchant=merchant, event="transaction.recorded", payload={"n": i})
    barrier = threading.Barrier(WORKERS)
    reports: list = [None] * WORKERS
    errors: list[BaseException] = []

    def work(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            reports[i] = webhooks_deliver_due(limit=DELIVERIES)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    counts = receiver.delivery_counts()
    assert len(counts) == DELIVERIES
    assert set(counts.values()) == {1}, counts.most_common(3)
    assert all(r.signature_ok for r in receiver.requests)
    assert sum(r.delivered for r in reports) == DELIVERIES
    assert all(r.attempted > 0 for r in reports), reports  # both took part
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == DELIVERIES
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
