"""The opt-out link: the confirmation page, the opt-out (button or one-click), bad links, and
the link itself (:func:`langganan.campaigns.links.opt_out_url`)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from langganan.campaigns.guardrails import consented
from langganan.campaigns.links import opt_out_url
from langganan.campaigns.optout import opt_out_read, opt_out_token
from langganan.customers.models import ConsentEvent
from tests.campaigns.channels.conftest import consenting_customer

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.campaigns.channels.urls")]


def page_url(customer, channel="email") -> str:
    token = opt_out_token(customer_id=customer.pk, channel=channel)
    return reverse("campaigns:optout", kwargs={"token": token})


@pytest.fixture
def customer(merchant):
    merchant.name = "Warung Bu Sri"
    merchant.save()
    return consenting_customer(merchant, channels=("email", "whatsapp"), email="rina@example.id")


def test_link_is_absolute_on_the_public_address_and_names_customer_and_channel(customer, settings):
    settings.PUBLIC_BASE_URL = "https://langganan.warungbusri.id"

    url = opt_out_url(customer_id=customer.pk, channel="whatsapp")

    prefix = "https://langganan.warungbusri.id/c/optout/"
    assert url.startswith(prefix) and url.endswith("/")
    assert opt_out_read(url[len(prefix) : -1]) == (customer.pk, "whatsapp")


def test_page_asks_for_confirmation_in_indonesian_and_changes_nothing(client, customer):
    response = client.get(page_url(customer, "email"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Warung Bu Sri" in html
    assert "Ya, hentikan pesan" in html
    assert consented(customer=customer, channel="email") is True


def test_page_in_english_when_the_visitor_chose_english(client, customer):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get(page_url(customer)).content.decode()

    assert "Yes, stop the messages" in html


def test_confirming_withdraws_consent_for_that_channel_only(client, customer):
    response = client.post(page_url(customer, "email"))

    assert response.status_code == 200
    assert "tidak akan menerima pesan ini lagi" in response.content.decode()
    assert consented(customer=customer, channel="email") is False
    assert consented(customer=customer, channel="whatsapp") is True
    event = ConsentEvent.objects.filter(customer=customer).latest("id")
    assert (event.channel, event.granted, event.source) == ("email", False, "opt-out link")


def test_one_click_unsubscribe_from_a_mail_app_works_without_cookies(customer):
    mail_app = Client(enforce_csrf_checks=True)

    response = mail_app.post(
        page_url(customer, "email"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert consented(customer=customer, channel="email") is False


def test_opting_out_twice_records_one_withdrawal(client, customer):
    client.post(page_url(customer))
    again = client.post(page_url(customer))

    assert again.status_code == 200
    assert ConsentEvent.objects.filter(customer=customer, granted=False).count() == 1


@pytest.mark.parametrize("token", ["not-a-token", "eyJjIjoxfQ:1abc:deadbeef"])
def test_damaged_link_shows_a_friendly_not_found_page(client, token):
    response = client.get(reverse("campaigns:optout", kwargs={"token": token}))

    assert response.status_code == 404
    assert "Tautan ini tidak berfungsi" in response.content.decode()


def test_damaged_link_cannot_opt_anybody_out(client, customer):
    url = page_url(customer)
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]

    assert client.post(tampered).status_code == 404
    assert consented(customer=customer, channel="email") is True


def test_link_of_a_deleted_customer_shows_the_not_found_page(client, customer):
    url = page_url(customer)
    customer.delete()

    assert client.post(url).status_code == 404
