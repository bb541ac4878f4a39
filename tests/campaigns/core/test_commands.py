"""`langganan campaigns list|preview|run-due` and `langganan worker --once` on real campaigns."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from django.utils import timezone

from langganan.campaigns.models import ChannelAccount, Message, MessageStatus, MessagingPolicy
from langganan.campaigns.services import campaign_activate, campaign_create, template_create
from langganan.cli import cli
from langganan.customers.services import consent_record
from tests.campaigns.delivery.support import sms_gateway_start
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def gateway():
    gateway, server = sms_gateway_start()
    yield gateway
    server.shutdown()


@pytest.fixture
def sms_campaign(merchant, gateway):
    # quiet hours off, so the test sends at any time of day
    MessagingPolicy.objects.create(merchant=merchant, quiet_start_hour=0, quiet_end_hour=0)
    ChannelAccount.objects.create(
        merchant=merchant,
        channel="sms",
        settings={"url": gateway.url, "api_key": gateway.api_key, "sender": "WARUNG"},
    )
    rina = CustomerFactory(merchant=merchant, full_name="Rina Wati")
    consent_record(
        customer=rina,
        channel="sms",
        granted=True,
        source="counter",
        occurred_at=timezone.now() - timedelta(days=1),
    )
    CustomerFactory(merchant=merchant)  # no consent
    template = template_create(merchant=merchant, name="Promo", body_id="Halo {salutation}!")
    campaign = campaign_create(
        merchant=merchant,
        name="Promo SMS",
        kind="broadcast",
        channel="sms",
        template=template,
        holdout_percent=0,
    )
    campaign_activate(campaign=campaign, now=timezone.now() - timedelta(minutes=1))
    return campaign, rina


def test_run_due_with_send_queues_and_sends_through_the_gateway(merchant, sms_campaign, gateway):
    campaign, rina = sms_campaign
    result = run("campaigns", "run-due", "--merchant", merchant.slug, "--send")
    assert result.exit_code == 0, result.output
    assert f"campaign {campaign.pk}: due 2" in result.output
    assert "no consent 1" in result.output and "queued 1" in result.output
    message = Message.objects.get()
    assert message.status == MessageStatus.SENT
    assert gateway.references == [str(message.pk)]
    listed = json.loads(run("campaigns", "list", "--merchant", merchant.slug, "--json").output)
    assert listed[0]["treated"] == 1 and listed[0]["sent"] == 1
    assert listed[0]["status"] == "finished"


def test_preview_prints_the_message_for_one_customer(merchant, sms_campaign):
    campaign, rina = sms_campaign
    result = run("campaigns", "preview", str(campaign.pk), "--customer", str(rina.pk))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Halo Kak Rina!")
    missing = run("campaigns", "preview", str(campaign.pk), "--customer", "999999")
    assert missing.exit_code == 1 and "Error: No customer with id 999999" in missing.output


def test_worker_once_runs_the_real_triggers_then_the_outbox(merchant, sms_campaign, gateway):
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert Message.objects.get().status == MessageStatus.SENT
    assert len(gateway.references) == 1


def test_a_paused_campaign_holds_its_queued_messages(merchant, sms_campaign, gateway):
    from langganan.campaigns.services import campaign_pause, campaign_run

    campaign, _rina = sms_campaign
    campaign_run(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "finished"  # a broadcast runs once; its queue can still be held
    campaign_pause(campaign=campaign)
    assert run("worker", "--once").exit_code == 0
    assert Message.objects.get().status == MessageStatus.QUEUED and gateway.references == []
    assert campaign_activate(campaign=campaign, now=timezone.now()).status == "finished"
    assert run("worker", "--once").exit_code == 0
    assert Message.objects.get().status == MessageStatus.SENT
