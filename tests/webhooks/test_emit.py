"""Emitting events into the outbox, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from langganan.core.errors import InvalidInput
from langganan.webhooks.models import EVENTS, DeliveryStatus, Event, WebhookDelivery
from langganan.webhooks.services import (
    ERR_PAYLOAD_TYPE,
    ERR_UNKNOWN_EVENT,
    SECRET_PREFIX,
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
)
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

URL = "https://pos.example.id/hooks"


def test_the_seven_events_are_known():
    assert EVENTS == (
        "customer.created",
        "transaction.recorded",
        "tier.changed",
        "points.expiring",
        "complaint.created",
        "complaint.overdue",
        "complaint.resolved",
    )


def test_an_endpoint_gets_a_fresh_secret_and_its_events(merchant):
    a = webhook_endpoint_create(merchant=merchant, url=URL, events=["tier.changed"])
    b = webhook_endpoint_create(merchant=merchant, url=URL)

    assert a.secret.startswith(SECRET_PREFIX) and len(a.secret) > 40
    assert a.secret != b.secret
    assert a.events == ["tier.changed"]
    assert b.events == []


def test_an_endpoint_with_an_unknown_event_or_a_non_http_url_is_refused(merchant):
    with pytest.raises(InvalidInput) as unknown:
        webhook_endpoint_create(merchant=merchant, url=URL, events=["customer.deleted"])
    with pytest.raises(InvalidInput) as scheme:
        webhook_endpoint_create(merchant=merchant, url="file:///etc/passwd")

    assert unknown.value.message.startswith(ERR_UNKNOWN_EVENT.split("{")[0])
    assert unknown.value.field == "events"
    assert scheme.value.field == "url"


def test_emit_writes_one_pending_delivery_per_endpoint_sharing_one_event_id(merchant):
    first = webhook_endpoint_create(merchant=merchant, url=URL)
    second = webhook_endpoint_create(merchant=merchant, url=URL + "/2")

    made = webhook_emit(merchant=merchant, event=Event.CUSTOMER_CREATED, payload={"id": 7})

    assert {d.endpoint_id for d in made} == {first.pk, second.pk}
    assert len({d.event_id for d in made}) == 1
    assert all(d.status == DeliveryStatus.PENDING and d.attempts == 0 for d in made)
    assert all(d.merchant_id == merchant.pk and d.payload == {"id": 7} for d in made)


def test_emit_with_no_endpoint_writes_nothing(merchant):
    assert webhook_emit(merchant=merchant, event="customer.created", payload={}) == []
    assert not WebhookDelivery.objects.exists()


def test_an_unknown_event_is_refused_with_a_clear_error(merchant):
    webhook_endpoint_create(merchant=merchant, url=URL)

    with pytest.raises(InvalidInput) as refused:
        webhook_emit(merchant=merchant, event="customer.deleted", payload={})

    assert refused.value.message == ERR_UNKNOWN_EVENT.format(
        event="customer.deleted", known=", ".join(EVENTS)
    )
    assert not WebhookDelivery.objects.exists()


def test_the_payload_is_made_json_decimal_as_text_and_datetimes_in_iso_8601(merchant):
    webhook_endpoint_create(merchant=merchant, url=URL)
    jakarta = ZoneInfo("Asia/Jakarta")

    [made] = webhook_emit(
        merchant=merchant,
        event="transaction.recorded",
        payload={
            "total": Decimal("25000.00"),
            "at": datetime(2025, 1, 31, 19, 30, tzinfo=jakarta),
            "items": [{"price": Decimal("12500.50"), "on": date(2025, 1, 31)}],
            "ref": uuid.UUID(int=1),
        },
    )
    made.refresh_from_db()

    assert made.payload == {
        "total": "25000.00",
        "at": "2025-01-31T19:30:00+07:00",
        "items": [{"price": "12500.50", "on": "2025-01-31"}],
        "ref": "00000000-0000-0000-0000-000000000001",
    }


def test_a_payload_that_cannot_be_json_is_refused(merchant):
    webhook_endpoint_create(merchant=merchant, url=URL)

    with pytest.raises(InvalidInput) as not_dict:
        webhook_emit(merchant=merchant, event="tier.changed", payload=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        webhook_emit(merchant=merchant, event="tier.changed", payload={"x": object()})
    with pytest.raises(InvalidInput):
        webhook_emit(merchant=merchant, event="tier.changed", payload={"x": float("nan")})

    assert not_dict.value.message == ERR_PAYLOAD_TYPE
    assert not WebhookDelivery.objects.exists()


def test_emit_inside_a_transaction_that_rolls_back_leaves_no_delivery(merchant):
    webhook_endpoint_create(merchant=merchant, url=URL)

    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(merchant=merchant, event="customer.created", payload={"id": 1})
        assert WebhookDelivery.objects.count() == 1  # visible inside the transaction
        raise RuntimeError("the cause of the event failed")

    assert not WebhookDelivery.objects.exists()


def test_each_endpoint_gets_only_the_events_it_subscribes_to(merchant):
    tiers = webhook_endpoint_create(merchant=merchant, url=URL, events=["tier.changed"])
    sales = webhook_endpoint_create(
        merchant=merchant, url=URL, events=["transaction.recorded", "customer.created"]
    )
    everything = webhook_endpoint_create(merchant=merchant, url=URL)

    for event in EVENTS:
        webhook_emit(merchant=merchant, event=event, payload={})

    def events_of(endpoint):
        return set(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True)
        )

    assert events_of(tiers) == {"tier.changed"}
    assert events_of(sales) == {"transaction.recorded", "customer.created"}
    assert events_of(everything) == set(EVENTS)


def test_a_paused_endpoint_gets_no_new_events(merchant):
    endpoint = webhook_endpoint_create(merchant=merchant, url=URL)
    webhook_endpoint_set_active(endpoint_id=endpoint.pk, is_active=False, merchant=merchant)

    assert webhook_emit(merchant=merchant, event="customer.created", payload={}) == []


def test_an_endpoint_gets_only_its_own_merchants_events(merchant):
    other = MerchantFactory()
    mine = webhook_endpoint_create(merchant=merchant, url=URL)
    theirs = webhook_endpoint_create(merchant=other, url=URL)

    webhook_emit(merchant=merchant, event="customer.created", payload={"name": "Sri"})
    webhook_emit(merchant=other, event="customer.created", payload={"name": "Budi"})

    assert list(mine.deliveries.values_list("payload__name", flat=True)) == ["Sri"]
    assert list(theirs.deliveries.values_list("payload__name", flat=True)) == ["Budi"]
