"""The admin never shows a channel account's credentials, and saving the form as shown keeps
them."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from langganan.campaigns.admin import MASK, settings_masked, settings_unmasked
from langganan.campaigns.models import ChannelAccount
from tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-secret-token-9f3a"
APP_SECRET = "app-secret-77c1"


@pytest.fixture
def account():
    return ChannelAccount.objects.create(
        merchant=MerchantFactory(),
        channel="whatsapp",
        settings={
            "phone_number_id": "1234567890",
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
        },
    )


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _url(account) -> str:
    return reverse("admin:campaigns_channelaccount_change", args=[account.pk])


def _post(admin_client, account, settings_text: str):
    return admin_client.post(
        _url(account),
        {
            "merchant": account.merchant_id,
            "channel": account.channel,
            "settings": settings_text,
            "price_per_message": "150.00",
            "is_active": "on",
        },
    )


def test_the_change_page_shows_only_the_last_four_characters(admin_client, account):
    page = admin_client.get(_url(account)).content.decode()
    assert TOKEN not in page and APP_SECRET not in page
    assert "9f3a" in page and "1234567890" in page


def test_saving_the_form_as_shown_keeps_the_credentials(admin_client, account):
    masked = settings_masked(account.settings)
    response = _post(admin_client, account, json.dumps(masked))
    assert response.status_code == 302, response.content
    account.refresh_from_db()
    assert account.settings["access_token"] == TOKEN
    assert account.settings["app_secret"] == APP_SECRET
    assert str(account.price_per_message) == "150.00"


def test_a_new_credential_replaces_the_stored_one(admin_client, account):
    edited = {**settings_masked(account.settings), "access_token": "new-token-0001"}
    assert _post(admin_client, account, json.dumps(edited)).status_code == 302
    account.refresh_from_db()
    assert account.settings["access_token"] == "new-token-0001"
    assert account.settings["app_secret"] == APP_SECRET


def test_a_settings_value_that_is_not_an_object_is_refused(admin_client, account):
    response = _post(admin_client, account, "[1, 2]")
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.settings["access_token"] == TOKEN


def test_masking_leaves_other_settings_and_empty_credentials_alone():
    shown = settings_masked(
        {
            "api_key": "",
            "url": "https://sms.example",
            "callback_secret": "short-1234",  # too short to show its end
            "password": "smtp-password-long-5678",
        }
    )
    assert shown == {
        "api_key": "",
        "url": "https://sms.example",
        "callback_secret": MASK,
        "password": MASK + "5678",
    }
    assert settings_unmasked({"url": "u"}, {"api_key": "k"}) == {"url": "u"}


def test_staff_who_may_only_view_see_the_credentials_masked(client, account):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_channelaccount"))
    client.force_login(viewer)
    response = client.get(_url(account))
    assert response.status_code == 200
    page = response.content.decode()
    assert TOKEN not in page and APP_SECRET not in page
    assert "9f3a" in page and "1234567890" in page
