"""`langganan worker`: one pass of each task with --once; a django-q2 cluster otherwise."""

from __future__ import annotations

import os
import signal
import sys
import time
import types
from datetime import timedelta

import pytest
from click.testing import CliRunner
from django.utils import timezone
from django_q.models import Schedule

from langganan.campaigns.models import ChannelAccount, Message, MessageStatus, MessagingPolicy
from langganan.cli import cli
from tests.factories import MerchantFactory

from .support import consenting_customer, queue, worker_process


@pytest.fixture
def campaign_triggers(monkeypatch):
    """The campaign services' ``campaigns_run_due``, as the worker calls it: records its calls,
    or raises ``error`` when set (the real function is tested with the campaign services)."""
    calls: list = []
    module = types.ModuleType("langganan.campaigns.services")

    def campaigns_run_due(*, merchant=None, now):
        calls.append(now)
        if module.error:
            raise module.error
        return [types.SimpleNamespace(queued=3, holdout=0)]

    module.campaigns_run_due = campaigns_run_due
    module.error = None
    module.calls = calls
    monkeypatch.setitem(sys.modules, "langganan.campaigns.services", module)
    return module


def _active_campaign(merchant):
    """A campaign row the worker sees as active (its decisions come from the fake above)."""
    from langganan.campaigns.models import Campaign, MessageTemplate

    template = MessageTemplate.objects.create(merchant=merchant, name="Halo", body_id="Halo!")
    Campaign.objects.create(
        merchant=merchant,
        name="Semua",
        kind="broadcast",
        channel="sms",
        template=template,
        status="active",
    )


def _due_messages(merchant, n):
    MessagingPolicy.objects.create(merchant=merchant, quiet_start_hour=0, quiet_end_hour=0)
    due = timezone.now() - timedelta(seconds=1)
    return [queue(consenting_customer(merchant), due=due) for _ in range(n)]


@pytest.mark.django_db
def test_worker_once_runs_each_task_and_prints_a_summary(shop, channel, campaign_triggers):
    messages = _due_messages(shop, 3)
    _active_campaign(shop)

    result = CliRunner().invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"campaigns: triggers ({shop.slug}): 3 pesan diantrekan oleh 1 kampanye" in lines
    assert "campaigns: recover: 0 pengiriman terputus ditandai belum pasti" in lines
    assert "campaigns: outbox: 3 terkirim, 0 gagal" in lines
    assert len(campaign_triggers.calls) == 1
    assert sorted(o.message_id for o in channel.sent) == sorted(m.pk for m in messages)


@pytest.mark.django_db
def test_worker_once_still_delivers_when_the_campaign_triggers_fail(
    shop, channel, campaign_triggers
):
    _due_messages(shop, 2)
    _active_campaign(shop)
    campaign_triggers.error = RuntimeError("audience filter broken")

    result = CliRunner().invoke(cli, ["worker", "--once"])

    assert result.exit_code == 1
    assert (
        f"campaigns: triggers ({shop.slug}): failed: RuntimeError: audience filter broken"
        in result.output
    )
    assert "campaigns: outbox: 2 terkirim" in result.output
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_django_q2_cluster_that_sends_the_outbox(sms_gateway):
    from django_q.tasks import async_task

    merchant = MerchantFactory()
    ChannelAccount.objects.create(
        merchant=merchant,
        channel="sms",
        settings={"url": sms_gateway.url, "api_key": sms_gateway.api_key},
    )
    messages = _due_messages(merchant, 3)

    process = worker_process("worker")
    try:
        deadline = time.monotonic() + 60
        while Schedule.objects.count() < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        # what the "campaigns: outbox" schedule enqueues every minute, without the wait
        async_task("langganan.campaigns.worker.deliver_outbox")
        while sum(sms_gateway.counts().values()) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        while (
            Message.objects.filter(status=MessageStatus.SENT).count() < 3
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert "campaigns: outbox created" in out, (out, err)
    assert "Stopped." in out, (out, err)
    assert set(Schedule.objects.values_list("name", flat=True)) >= {
        "campaigns: outbox",
        "campaigns: triggers",
        "campaigns: recover",
    }
    assert sorted(int(ref) for ref in sms_gateway.counts()) == sorted(m.pk for m in messages)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3
