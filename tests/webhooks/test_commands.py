"""`langganan webhooks …`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from langganan.cli import cli
from langganan.webhooks.commands import EVENT_NAMES
from langganan.webhooks.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from langganan.webhooks.services import webhook_emit

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(cli, ["webhooks", *args], catch_exceptions=False)


def test_the_command_offers_exactly_the_known_events():
    assert tuple(EVENT_NAMES) == EVENTS


def test_add_prints_the_secret_once_and_list_never_shows_it(merchant):
    added = run(
        "add", "--merchant", merchant.slug, "https://pos.example.id/h", "--event", "tier.changed"
    )
    endpoint = WebhookEndpoint.objects.get()
    listed = run("list", "--merchant", merchant.slug)
    as_json = run("list", "--merchant", merchant.slug, "--json")

    assert added.exit_code == 0, added.output
    assert f"Signing secret (shown once, keep it safe): {endpoint.secret}" in added.output
    assert endpoint.events == ["tier.changed"]
    assert "https://pos.example.id/h" in listed.output
    assert endpoint.secret not in listed.output + as_json.output
    assert json.loads(as_json.output)[0]["events"] == ["tier.changed"]


def test_add_refuses_an_unknown_merchant_event_or_url(merchant):
    assert run("add", "--merchant", "nobody", "https://x.id/h").exit_code == 1
    assert run("add", "--merchant", merchant.slug, "https://x.id/h", "--event", "x").exit_code == 2
    bad_url = run("add", "--merchant", merchant.slug, "ftp://x.id/h")
    assert bad_url.exit_code == 1
    assert "http:// or https://" in bad_url.output
    assert not WebhookEndpoint.objects.exists()


def test_remove_deletes_the_endpoint_and_says_what_was_dropped(merchant):
    run("add", "--merchant", merchant.slug, "https://pos.example.id/h")
    endpoint = WebhookEndpoint.objects.get()
    webhook_emit(merchant=merchant, event="customer.created", payload={})

    removed = run("remove", str(endpoint.pk))

    assert removed.exit_code == 0
    assert "1 pending deliveries dropped" in removed.output
    assert not WebhookEndpoint.objects.exists()
    assert run("remove", str(endpoint.pk)).exit_code == 1


def test_deliver_runs_one_pass_and_retry_puts_a_failed_delivery_back(merchant, receiver):
    run("add", "--merchant", merchant.slug, receiver.url)
    receiver.secret = WebhookEndpoint.objects.get().secret
    [made] = webhook_emit(merchant=merchant, event="customer.created", payload={"id": 1})
    WebhookDelivery.objects.filter(pk=made.pk).update(status=DeliveryStatus.FAILED)

    nothing = run("deliver")
    retried = run("retry", str(made.pk))
    again = run("retry", str(made.pk))
    delivered = run("deliver")

    assert "attempted=0" in nothing.output
    assert retried.exit_code == 0 and "pending again" in retried.output
    assert again.exit_code == 1 and "only a failed delivery can be retried" in again.output
    assert "delivered=1" in delivered.output
    assert len(receiver.requests) == 1 and receiver.requests[0].signature_ok
