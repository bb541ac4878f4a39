"""Webhook events of complaints: a new one, one that went overdue (once, from the scheduled
job), and a resolution — queued in the outbox with the cause, delivered signed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from langganan.care.events import complaints_overdue_announce
from langganan.care.models import RecoveryKind, Status
from langganan.care.services import complaint_recover, complaint_set_status
from langganan.core.jobs import registry
from langganan.webhooks.delivery import webhooks_deliver_due
from langganan.webhooks.models import WebhookDelivery
from langganan.webhooks.services import webhook_endpoint_create
from tests.care.helpers import T0, complaint
from tests.factories import CustomerFactory, MerchantFactory
from tests.webhooks.conftest import receiver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _payloads(merchant, event):
    return [d.payload for d in WebhookDelivery.objects.filter(merchant=merchant, event=event)]


@pytest.fixture
def hooked(merchant):
    webhook_endpoint_create(merchant=merchant, url="https://pos.example/hooks")
    return merchant


def test_a_new_complaint_emits_complaint_created_without_its_text_or_contact(hooked):
    customer = CustomerFactory(merchant=hooked)
    c = complaint(hooked, customer=customer, text="Kopinya dingin", contact_phone="0812 3456 7890")
    [payload] = _payloads(hooked, "complaint.created")
    assert payload["complaint_id"] == c.pk and payload["status"] == "new"
    assert payload["category"] == "taste" and payload["customer_id"] == customer.pk
    assert payload["resolution_due"] == (T0 + timedelta(hours=72)).isoformat()
    assert "dingin" not in str(payload) and "81234567890" not in str(payload)


def test_resolving_emits_complaint_resolved_with_the_recovery_cost(hooked):
    c = complaint(hooked, customer=CustomerFactory(merchant=hooked))
    complaint_recover(
        complaint=c, kind=RecoveryKind.CREDIT, key="k", by=None, amount=Decimal("10000"), at=T0
    )
    complaint_set_status(complaint=c, status=Status.IN_PROGRESS, by=None, at=T0)
    assert _payloads(hooked, "complaint.resolved") == []
    complaint_set_status(complaint=c, status=Status.RESOLVED, by=None, at=T0 + timedelta(hours=1))
    [payload] = _payloads(hooked, "complaint.resolved")
    assert payload["status"] == "resolved" and payload["recovery_cost"] == "10000.00"
    assert payload["resolved_at"] == (T0 + timedelta(hours=1)).isoformat()


def test_an_overdue_complaint_is_announced_once_and_a_timely_one_not_at_all(hooked):
    late = complaint(hooked, at=T0)
    fresh = complaint(hooked, at=T0 + timedelta(hours=23))
    now = T0 + timedelta(hours=25)  # the first response (24 h) of the first is late
    assert complaints_overdue_announce(merchant=hooked, now=now) == 1
    assert complaints_overdue_announce(merchant=hooked, now=now + timedelta(minutes=15)) == 0
    [payload] = _payloads(hooked, "complaint.overdue")
    assert payload["complaint_id"] == late.pk and payload["overdue"] == "response"
    late.refresh_from_db()
    assert late.overdue_announced_at == now
    fresh.refresh_from_db()
    assert fresh.overdue_announced_at is None


def test_another_merchants_overdue_complaints_are_not_announced_to_this_one(hooked):
    other = MerchantFactory()
    complaint(other, at=T0)
    assert complaints_overdue_announce(merchant=hooked, now=T0 + timedelta(days=5)) == 0
    assert WebhookDelivery.objects.filter(event="complaint.overdue").count() == 0


def test_the_worker_has_a_schedule_that_announces_overdue_complaints(hooked):
    job = registry.job_get("care.overdue")
    assert job.every_minutes == 15 and job.per_merchant
    complaint(hooked, at=T0)
    result = job.func(merchant=hooked, now=T0 + timedelta(days=4))
    assert result.counts == {"overdue": 1}
    assert "1 keluhan baru terlambat" in str(registry.describe(job, result.counts)) or (
        "1 complaint newly overdue" in str(registry.describe(job, result.counts))
    )


def test_the_events_are_delivered_signed_to_the_endpoint(merchant, receiver):  # noqa: F811
    endpoint = webhook_endpoint_create(
        merchant=merchant, url=receiver.url, events=["complaint.created", "complaint.overdue"]
    )
    receiver.secret = endpoint.secret
    complaint(merchant, at=T0)
    complaints_overdue_announce(merchant=merchant, now=T0 + timedelta(days=4))
    report = webhooks_deliver_due(limit=10)
    assert report.delivered == 2
    events = sorted(r.json["event"] for r in receiver.requests)
    assert events == ["complaint.created", "complaint.overdue"]
    assert all(r.signature_ok for r in receiver.requests)
