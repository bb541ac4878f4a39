"""Two outbox workers running at once, with real threads and database connections, never send
one message twice: SKIP LOCKED claims on PostgreSQL, the IMMEDIATE write lock on SQLite."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from langganan.campaigns.delivery import outbox_deliver_due
from langganan.campaigns.models import Message, MessageStatus

from .support import NOON, consenting_customer, queue

MESSAGES = 40
WORKERS = 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_never_send_a_message_twice(shop, channel):
    for _ in range(MESSAGES):
        queue(consenting_customer(shop))
    channel.delay_s = 0.01  # keep both workers busy at the same time
    barrier = threading.Barrier(WORKERS)
    reports: list = [None] * WORKERS
    errors: list[BaseException] = []

    def work(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            reports[i] = outbox_deliver_due(now=NOON, limit=MESSAGES, worker_id=f"w{i}")
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
    counts = channel.ids()
    assert len(counts) == MESSAGES
    assert set(counts.values()) == {1}, counts.most_common(3)
    assert sum(r.sent for r in reports) == MESSAGES
    assert all(r.handled > 0 for r in reports), reports  # both took part
    assert Message.objects.filter(status=MessageStatus.SENT).count() == MESSAGES
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
