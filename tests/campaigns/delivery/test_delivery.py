"""The outbox worker: claim, check consent and quiet hours at send time, send, record; retries
with backoff; interrupted sends become unknown and are resent only by staff."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection

from langganan.campaigns import delivery
from langganan.campaigns.channels import SendError
from langganan.campaigns.delivery import (
    LEASE,
    MAX_ATTEMPTS,
    message_requeue,
    outbox_deliver_due,
    outbox_recover_stale,
)
from langganan.campaigns.models import ChannelAccount, MessageStatus, MessagingPolicy
from langganan.campaigns.optout import opt_out_read
from langganan.core.errors import Conflict, NotFound
from langganan.customers.services import consent_record
from tests.factories import MerchantFactory

from .support import JAKARTA, NOON, consenting_customer, queue

pytestmark = pytest.mark.django_db


def test_a_due_message_is_sent_once_and_its_provider_id_recorded(shop, channel):
    message = queue(consenting_customer(shop), subject="", body="Halo Kak Rina")

    report = outbox_deliver_due(now=NOON)
    again = outbox_deliver_due(now=NOON + timedelta(hours=1))

    message.refresh_from_db()
    assert (report.sent, report.handled, again.handled) == (1, 1, 0)
    assert message.status == MessageStatus.SENT
    assert message.sent_at == NOON
    assert message.provider_id == f"rec-{message.pk}"
    assert message.attempts == 1
    assert message.last_error == ""
    assert [o.message_id for o in channel.sent] == [message.pk]
    assert channel.sent[0].to == message.to
    assert channel.sent[0].body == "Halo Kak Rina"
    assert channel.settings_seen == [{"url": "http://sms.invalid/", "api_key": "k"}]


def test_each_message_carries_a_signed_opt_out_link_for_its_customer_and_channel(shop, channel):
    message = queue(consenting_customer(shop))

    outbox_deliver_due(now=NOON)

    link = channel.sent[0].opt_out_url
    prefix = f"{settings.PUBLIC_BASE_URL}/c/optout/"
    assert link.startswith(prefix) and link.endswith("/")
    assert opt_out_read(link[len(prefix) : -1]) == (message.customer_id, "sms")


def test_whatsapp_template_and_its_parameters_are_passed_to_the_channel(shop, channel):
    ChannelAccount.objects.create(merchant=shop, channel="whatsapp", settings={})
    customer = consenting_customer(shop, channel="whatsapp")
    queue(
        customer,
        channel="whatsapp",
        template_name="promo_ultah",
        template_params=["Kak Rina", 50],
        language="en",
    )

    outbox_deliver_due(now=NOON)

    sent = channel.sent[0]
    assert (sent.template_name, sent.template_params, sent.language) == (
        "promo_ultah",
        ["Kak Rina", "50"],
        "en",
    )


@pytest.mark.django_db(transaction=True)
def test_the_claim_is_committed_before_the_provider_is_called(shop, channel):
    message = queue(consenting_customer(shop))
    seen = []

    def look(outgoing):
        message.refresh_from_db()
        seen.append((connection.in_atomic_block, message.status, message.attempts))
        seen.append(message.claimed_at == NOON)

    channel.during_send = look

    outbox_deliver_due(now=NOON)

    assert seen == [(False, MessageStatus.SENDING, 1), True]


def test_consent_withdrawn_after_queueing_suppresses_the_message_unsent(shop, channel):
    customer = consenting_customer(shop)
    message = queue(customer)
    consent_record(customer=customer, channel="sms", granted=False, source="link")

    report = outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert report.suppressed == 1
    assert message.status == MessageStatus.SUPPRESSED
    assert message.last_error == delivery.ERR_CONSENT_WITHDRAWN
    assert channel.sent == []


def test_consent_for_another_channel_does_not_allow_this_one(shop, channel):
    customer = consenting_customer(shop, channel="email")
    message = queue(customer, channel="sms")

    outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert channel.sent == []


def test_inside_quiet_hours_a_message_waits_until_they_end_without_using_an_attempt(shop, channel):
    late = datetime(2025, 3, 10, 22, 30, tzinfo=JAKARTA)
    message = queue(consenting_customer(shop), due=late - timedelta(minutes=5))

    report = outbox_deliver_due(now=late)

    message.refresh_from_db()
    assert report.deferred == 1
    assert channel.sent == []
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 0
    assert message.claimed_at is None
    assert message.next_attempt_at == datetime(2025, 3, 11, 8, 0, tzinfo=JAKARTA)

    assert outbox_deliver_due(now=datetime(2025, 3, 11, 7, 59, tzinfo=JAKARTA)).handled == 0
    assert outbox_deliver_due(now=message.next_attempt_at).sent == 1


def test_the_merchants_own_quiet_hours_apply(shop, channel):
    MessagingPolicy.objects.create(merchant=shop, quiet_start_hour=11, quiet_end_hour=13)
    message = queue(consenting_customer(shop))

    outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert message.next_attempt_at == datetime(2025, 3, 10, 13, 0, tzinfo=JAKARTA)
    assert channel.sent == []


def test_without_an_active_channel_account_the_message_fails_with_a_clear_error(channel, db):
    merchant = MerchantFactory()
    ChannelAccount.objects.create(merchant=merchant, channel="sms", is_active=False)
    message = queue(consenting_customer(merchant))

    report = outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert report.failed == 1
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "no active sms channel account for this merchant"
    assert channel.sent == []


def test_an_account_whose_adapter_cannot_be_built_fails_its_messages_unsent(shop, monkeypatch):
    from langganan.campaigns.channels import base

    def broken(settings):
        raise KeyError("url")

    monkeypatch.setitem(base.ADAPTERS, "sms", broken)
    message = queue(consenting_customer(shop))

    outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "the sms channel account cannot be used: KeyError: 'url'"


def test_a_retryable_error_queues_the_message_again_after_a_backoff(shop, channel):
    channel.script = [SendError("gateway busy", retryable=True)]
    message = queue(consenting_customer(shop))

    report = outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert report.retried == 1
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error == "gateway busy"
    assert NOON + timedelta(minutes=1) <= message.next_attempt_at
    assert message.next_attempt_at <= NOON + timedelta(minutes=1.1)

    assert outbox_deliver_due(now=message.next_attempt_at).sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")


def test_retryable_errors_give_up_after_the_last_attempt_with_growing_waits(shop, channel):
    MessagingPolicy.objects.create(merchant=shop, quiet_start_hour=0, quiet_end_hour=0)
    channel.script = [SendError("timeout", retryable=True) for _ in range(MAX_ATTEMPTS)]
    message = queue(consenting_customer(shop))
    now, waits = NOON, []

    for _ in range(MAX_ATTEMPTS):
        assert outbox_deliver_due(now=now).handled == 1
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at

    assert len(channel.sent) == MAX_ATTEMPTS
    assert message.status == MessageStatus.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert message.last_error == f"timeout (gave up after {MAX_ATTEMPTS} attempts)"
    assert waits[:-1] == sorted(waits[:-1]) and waits[0] >= timedelta(minutes=1)
    assert outbox_deliver_due(now=now + timedelta(days=2)).handled == 0


def test_a_non_retryable_error_fails_the_message_at_once(shop, channel):
    channel.script = [SendError("HTTP 400: invalid number", retryable=False)]
    message = queue(consenting_customer(shop))

    report = outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert report.failed == 1
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert message.last_error == "HTTP 400: invalid number"


def test_an_adapter_breaking_off_unexpectedly_leaves_the_message_unknown_not_resent(shop, channel):
    channel.script = [RuntimeError("connection reset after the request was written")]
    message = queue(consenting_customer(shop))

    report = outbox_deliver_due(now=NOON)
    later = outbox_deliver_due(now=NOON + timedelta(days=1))

    message.refresh_from_db()
    assert (report.unknown, later.handled) == (1, 0)
    assert message.status == MessageStatus.UNKNOWN
    assert message.last_error.startswith("sending broke off unexpectedly, it may have gone out")
    assert len(channel.sent) == 1


def test_manual_future_and_finished_messages_are_not_claimed(shop, channel):
    customer = consenting_customer(shop)
    queue(customer, channel="whatsapp", manual=True)
    queue(customer, due=NOON + timedelta(seconds=1))
    queue(customer, status=MessageStatus.SENT)
    queue(customer, status=MessageStatus.FAILED)

    assert outbox_deliver_due(now=NOON).handled == 0
    assert channel.sent == []


def test_a_pass_sends_at_most_limit_messages_oldest_due_first(shop, channel):
    customer = consenting_customer(shop)
    newer = queue(customer, due=NOON - timedelta(minutes=1))
    older = queue(customer, due=NOON - timedelta(minutes=2))
    queue(customer, due=NOON - timedelta(seconds=10))

    report = outbox_deliver_due(now=NOON, limit=2)

    assert report.sent == 2
    assert [o.message_id for o in channel.sent] == [older.pk, newer.pk]


def test_a_stale_claim_becomes_unknown_and_is_never_resent_on_its_own(shop, channel):
    customer = consenting_customer(shop)
    stale = queue(customer, status=MessageStatus.SENDING, claimed_at=NOON - LEASE, attempts=1)
    fresh = queue(customer, status=MessageStatus.SENDING, claimed_at=NOON - timedelta(minutes=1))

    recovered = outbox_recover_stale(now=NOON + timedelta(seconds=1))
    report = outbox_deliver_due(now=NOON + timedelta(days=1))

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert recovered == 1
    assert stale.status == MessageStatus.UNKNOWN
    assert stale.last_error == delivery.ERR_INTERRUPTED
    assert fresh.status == MessageStatus.SENDING
    assert report.handled == 0 and channel.sent == []


def test_an_outcome_arriving_after_its_claim_was_marked_unknown_is_still_recorded(shop, channel):
    message = queue(consenting_customer(shop))
    channel.during_send = lambda outgoing: outbox_recover_stale(now=NOON + 2 * LEASE)

    report = outbox_deliver_due(now=NOON)

    message.refresh_from_db()
    assert report.sent == 1
    assert message.status == MessageStatus.SENT


def test_a_message_sent_again_by_staff_meanwhile_is_not_overwritten_by_the_old_claim(shop, channel):
    message = queue(consenting_customer(shop))

    def staff_resend(outgoing):
        outbox_recover_stale(now=NOON + 2 * LEASE)
        message_requeue(message_id=message.pk, now=NOON)

    channel.during_send = staff_resend

    report = outbox_deliver_due(now=NOON, limit=1)

    message.refresh_from_db()
    assert report.handled == 0
    assert (message.status, message.attempts, message.claimed_at) == ("queued", 0, None)


def test_staff_can_send_an_unknown_or_failed_message_again(shop, channel):
    customer = consenting_customer(shop)
    unknown = queue(customer, status=MessageStatus.UNKNOWN, attempts=1, claimed_at=NOON)
    failed = queue(customer, status=MessageStatus.FAILED, attempts=MAX_ATTEMPTS)

    for message in (unknown, failed):
        requeued = message_requeue(message_id=message.pk, merchant=shop, now=NOON)
        assert (requeued.status, requeued.attempts, requeued.next_attempt_at) == (
            MessageStatus.QUEUED,
            0,
            NOON,
        )
    assert outbox_deliver_due(now=NOON).sent == 2


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "delivered", "suppressed"])
def test_only_failed_or_unknown_messages_can_be_sent_again(shop, status):
    message = queue(consenting_customer(shop), status=status)

    with pytest.raises(Conflict) as caught:
        message_requeue(message_id=message.pk)

    assert caught.value.message == delivery.ERR_REQUEUE_STATUS.format(id=message.pk, status=status)


def test_another_merchants_message_is_not_found(shop):
    message = queue(consenting_customer(shop), status=MessageStatus.FAILED)

    with pytest.raises(NotFound) as caught:
        message_requeue(message_id=message.pk, merchant=MerchantFactory())

    assert caught.value.message == delivery.ERR_MESSAGE_NOT_FOUND.format(id=message.pk)
