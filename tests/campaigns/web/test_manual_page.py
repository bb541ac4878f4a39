"""The manual WhatsApp list as a merchant uses it (issue 20, points 1 and 2): a visible print
button, the message readable with no raw wa.me address, one tap that opens WhatsApp and marks
the message sent, and a menu entry."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from langganan.campaigns.models import MessageStatus
from tests.campaigns.channels.conftest import consenting_customer
from tests.campaigns.channels.helpers import queued_message
from tests.web.helpers import log_in_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(client, merchant):
    log_in_member(client, merchant)
    customer = consenting_customer(merchant, full_name="Rina Wati", phone="+6281234567890")
    return queued_message(customer)


def test_the_list_shows_the_message_not_its_link_and_prints_with_a_real_button(
    client, merchant, queue
):
    html = client.get(reverse("campaigns:manual_list", args=[merchant.slug])).content.decode()

    assert queue.body in html
    # no raw https://wa.me/… address shown as text (it was squeezed beside the message)
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "wa.me" not in visible
    assert 'class="button button-secondary" id="print-list"' in html
    assert "button-link" not in html.split("<main", 1)[1]  # the top bar's white-on-dark style


def test_one_tap_marks_the_message_sent_and_opens_whatsapp(client, merchant, queue):
    html = client.get(reverse("campaigns:manual_list", args=[merchant.slug])).content.decode()
    action = reverse("campaigns:manual_open", args=[merchant.slug, queue.pk])
    assert f'action="{action}" target="_blank"' in html

    response = client.post(action)

    assert response.status_code == 302
    assert response["Location"].startswith("https://wa.me/6281234567890?text=")
    queue.refresh_from_db()
    assert queue.status == MessageStatus.SENT


def test_the_campaign_menu_leads_to_the_list(client, merchant, queue):
    html = client.get(reverse("campaigns_web:campaign_list", args=[merchant.slug])).content.decode()

    assert f'href="{reverse("campaigns:manual_list", args=[merchant.slug])}"' in html
    assert "WhatsApp manual" in html
