"""Admin: the per-message delivery record (read-only, filtered by status, channel, campaign),
and the "send again" action for failed or interrupted messages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.campaigns.models import MessageStatus
from tests.factories import UserFactory

from .support import consenting_customer, queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_message_list_shows_each_message_and_filters_by_status(admin_client, shop):
    customer = consenting_customer(shop)
    failed = queue(customer, status=MessageStatus.FAILED, last_error="HTTP 400: invalid number")
    queue(customer, status=MessageStatus.SENT, provider_id="gw-1")
    url = reverse("admin:campaigns_message_changelist")

    everything = admin_client.get(url)
    only_failed = admin_client.get(url, {"status__exact": "failed", "channel__exact": "sms"})

    assert everything.status_code == 200
    assert list(everything.context["cl"].result_list.values_list("status", flat=True)) == [
        "sent",
        "failed",
    ]
    assert list(only_failed.context["cl"].result_list) == [failed]
    assert "HTTP 400: invalid number" in only_failed.content.decode()


def test_a_message_cannot_be_edited_added_or_deleted(admin_client, shop):
    message = queue(consenting_customer(shop))

    page = admin_client.get(reverse("admin:campaigns_message_change", args=[message.pk]))
    admin_client.post(
        reverse("admin:campaigns_message_change", args=[message.pk]), {"status": "sent"}
    )

    message.refresh_from_db()
    assert page.status_code == 200  # viewable
    assert message.status == MessageStatus.QUEUED
    assert admin_client.get(reverse("admin:campaigns_message_add")).status_code == 403


def test_the_requeue_action_sends_failed_and_unknown_messages_again_only(admin_client, shop):
    customer = consenting_customer(shop)
    unknown = queue(customer, status=MessageStatus.UNKNOWN, attempts=1)
    failed = queue(customer, status=MessageStatus.FAILED, attempts=6)
    sent = queue(customer, status=MessageStatus.SENT)

    response = admin_client.post(
        reverse("admin:campaigns_message_changelist"),
        {"action": "requeue_messages", "_selected_action": [unknown.pk, failed.pk, sent.pk]},
        follow=True,
    )

    for message in (unknown, failed, sent):
        message.refresh_from_db()
    notes = [str(m) for m in response.context["messages"]]
    assert (unknown.status, unknown.attempts) == (MessageStatus.QUEUED, 0)
    assert (failed.status, failed.attempts) == (MessageStatus.QUEUED, 0)
    assert sent.status == MessageStatus.SENT
    # The admin speaks the site's language (Bahasa Indonesia by default).
    assert "2 pesan diantrekan lagi." in notes
    assert (
        "1 pesan dilewati: hanya pesan yang gagal atau tidak diketahui yang bisa dikirim lagi."
        in notes
    )


@pytest.mark.parametrize("model", ["channelaccount", "messagingpolicy"])
def test_channel_accounts_and_policies_are_edited_in_the_admin(admin_client, shop, model):
    assert admin_client.get(reverse(f"admin:campaigns_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 200
