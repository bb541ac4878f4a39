"""Killing the worker mid-run loses no message and sends none twice.

A real worker process sends SMS messages through a real HTTP gateway (a local server that
records each message as it arrives and answers after 50 ms). The worker is killed with SIGKILL
while the gateway holds a message, then started again and left to finish. The gateway must have
received no message twice, every message must be sent or — at most the one in flight when the
worker died — unknown, and none may be left behind.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from langganan.campaigns.delivery import LEASE, outbox_recover_stale
from langganan.campaigns.models import ChannelAccount, Message, MessageStatus, MessagingPolicy
from tests.factories import MerchantFactory

from .support import consenting_customer, queue, worker_process

MESSAGES = 30
KILL_AT = 8  # the worker dies while the gateway holds the 8th message


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_run_loses_no_message_and_sends_none_twice(sms_gateway):
    merchant = MerchantFactory()
    MessagingPolicy.objects.create(merchant=merchant, quiet_start_hour=0, quiet_end_hour=0)
    ChannelAccount.objects.create(
        merchant=merchant,
        channel="sms",
        settings={"url": sms_gateway.url, "api_key": sms_gateway.api_key, "sender": "WARUNG"},
    )
    due = timezone.now() - timedelta(seconds=1)
    ids = {queue(consenting_customer(merchant), due=due).pk for _ in range(MESSAGES)}
    sms_gateway.delay_s = 0.05
    sms_gateway.signal_after = KILL_AT

    first = worker_process()
    try:
        assert sms_gateway.arrived.wait(timeout=60), first.communicate(timeout=5)
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    received_before_restart = sum(sms_gateway.counts().values())

    second = worker_process()
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err

    received = sms_gateway.counts()
    statuses = Counter(Message.objects.values_list("status", flat=True))
    in_flight = set(
        Message.objects.filter(status=MessageStatus.SENDING).values_list("pk", flat=True)
    )
    recovered = outbox_recover_stale(now=timezone.now() + LEASE + timedelta(seconds=1))
    sent = set(Message.objects.filter(status=MessageStatus.SENT).values_list("pk", flat=True))
    unknown = set(Message.objects.filter(status=MessageStatus.UNKNOWN).values_list("pk", flat=True))
    print(
        f"received before restart: {received_before_restart}, statuses after restart: "
        f"{dict(statuses)}, second run: {out.strip()}"
    )

    assert KILL_AT <= received_before_restart < MESSAGES  # killed mid-run
    assert received.most_common(1)[0][1] == 1, received.most_common(3)  # none twice
    assert {int(ref) for ref in received} <= ids
    assert sent | unknown == ids and not sent & unknown  # none lost
    assert len(unknown) <= 1 and unknown == in_flight and recovered == len(unknown)
    assert {int(ref) for ref in received} - unknown == sent  # each sent one arrived once
    assert sms_gateway.bad_auth == 0
    provider_ids = dict(Message.objects.filter(pk__in=sent).values_list("pk", "provider_id"))
    assert all(provider_ids[pk] == f"gw-{pk}" for pk in sent)
