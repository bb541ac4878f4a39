"""Fast inserts: the rows read back equal what was written, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from langganan.campaigns.models import Message
from langganan.core.bulk import CHUNK, db_value, insert_rows
from langganan.customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 2, 21, 30, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_inserted_rows_read_back_with_their_times_and_json(merchant):
    customer = CustomerFactory(merchant=merchant)
    columns = (
        "merchant",
        "customer",
        "channel",
        "manual",
        "to",
        "language",
        "subject",
        "body",
        "template_name",
        "template_params",
        "status",
        "attempts",
        "next_attempt_at",
        "provider_id",
        "last_error",
        "created_at",
    )

    def rows():
        for i in range(CHUNK + 7):  # more than one chunk
            # reading the database while the rows are produced must work (COPY is chunked)
            assert Customer.objects.filter(pk=customer.pk).exists() if i % CHUNK == 0 else True
            yield (
                merchant.pk,
                customer.pk,
                "sms",
                False,
                "+6281234567890",
                "id",
                "",
                f"Halo {i} — ✓",
                "",
                db_value(Message, "template_params", ["Kak", str(i)]),
                "queued",
                0,
                db_value(Message, "next_attempt_at", AT + timedelta(seconds=i)),
                "",
                "",
                db_value(Message, "created_at", AT),
            )

    assert insert_rows(Message, columns, rows()) == CHUNK + 7
    last = Message.objects.order_by("-next_attempt_at").first()
    assert last.body == f"Halo {CHUNK + 6} — ✓"
    assert last.template_params == ["Kak", str(CHUNK + 6)]
    assert last.next_attempt_at == AT + timedelta(seconds=CHUNK + 6)
    assert last.created_at == AT
    assert Message.objects.count() == CHUNK + 7


def test_nothing_to_insert_is_zero_rows():
    assert insert_rows(Message, ("body",), iter(())) == 0
