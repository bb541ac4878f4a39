"""The message channels page (owners): settings saved with their secrets kept hidden, a test
message sent through the channel's own adapter, and what the provider answered shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from langganan.campaigns.channels import base
from langganan.campaigns.channels.base import SendError, SendResult
from langganan.campaigns.models import ChannelAccount
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db

SMS = {
    "sms-url": "https://sms.example.test/send",
    "sms-api_key": "rahasia-kunci-1",
    "sms-sender": "KopiKita",
    "sms-callback_secret": "",
    "sms-price_per_message": "350",
    "sms-is_active": "on",
}


@pytest.fixture
def owner(client, merchant):
    membership = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(membership.user)
    return membership.user


def url(merchant, name, channel=None):
    args = [merchant.slug] + ([channel] if channel else [])
    return reverse(f"campaigns_web:{name}", args=args)


def test_settings_are_saved_and_a_secret_is_never_shown_back(client, owner, merchant):
    response = client.post(url(merchant, "channel_save", "sms"), SMS)

    assert response.status_code == 302
    account = ChannelAccount.objects.get(merchant=merchant, channel="sms")
    assert account.settings == {
        "url": "https://sms.example.test/send",
        "api_key": "rahasia-kunci-1",
        "sender": "KopiKita",
    }
    assert account.price_per_message == Decimal("350")
    page = client.get(url(merchant, "channels")).content.decode()
    assert "rahasia-kunci-1" not in page
    assert "Tersimpan. Kosongkan untuk tetap memakainya." in page

    # saved again with the key left empty: the stored key stays; the sender is changed
    client.post(
        url(merchant, "channel_save", "sms"), {**SMS, "sms-api_key": "", "sms-sender": "Kita"}
    )
    account.refresh_from_db()
    assert account.settings["api_key"] == "rahasia-kunci-1"
    assert account.settings["sender"] == "Kita"


def test_a_test_message_goes_through_the_adapter_and_says_what_happened(
    client, owner, merchant, monkeypatch
):
    client.post(url(merchant, "channel_save", "sms"), SMS)
    sent = []

    class Gateway:
        def __init__(self, settings):
            self.settings = settings

        def send(self, outgoing):
            sent.append((self.settings["api_key"], outgoing.to, outgoing.body))
            if outgoing.to.endswith("999"):
                raise SendError("saldo habis", retryable=False)
            return SendResult(provider_id="abc-123")

    monkeypatch.setitem(base.ADAPTERS, "sms", Gateway)

    ok = client.post(url(merchant, "channel_test", "sms"), {"to": "0812-3456-7890"})
    refused = client.post(url(merchant, "channel_test", "sms"), {"to": "081234567999"})
    bad = client.post(url(merchant, "channel_test", "sms"), {"to": "bukan nomor"})

    assert ok.status_code == 200
    assert "Terkirim. ID pesan dari penyedia: abc-123" in ok.content.decode()
    assert sent[0][:2] == ("rahasia-kunci-1", "+6281234567890")
    assert "Pesan tes dari Langganan" in sent[0][2]
    assert refused.status_code == 400
    assert "Penyedia menolak: saldo habis" in refused.content.decode()
    assert bad.status_code == 400 and "Isi nomor HP Anda" in bad.content.decode()
    assert len(sent) == 2


def test_an_unreachable_provider_is_a_sentence_not_a_500(client, owner, merchant, monkeypatch):
    client.post(url(merchant, "channel_save", "sms"), SMS)

    class Down:
        def __init__(self, settings):
            pass

        def send(self, outgoing):
            raise OSError("Name or service not known")

    monkeypatch.setitem(base.ADAPTERS, "sms", Down)

    response = client.post(url(merchant, "channel_test", "sms"), {"to": "081234567890"})

    assert response.status_code == 400
    assert "Penyedia tidak dapat dihubungi: Name or service not known" in response.content.decode()


def test_a_test_before_saving_asks_to_save_first(client, owner, merchant):
    response = client.post(url(merchant, "channel_test", "email"), {"to": "sri@example.test"})

    assert response.status_code == 400
    assert "Simpan pengaturannya dulu." in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_the_owner_sees_the_channels(client, merchant, role):
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)

    assert client.get(url(merchant, "channels")).status_code == 403
    assert client.post(url(merchant, "channel_save", "sms"), SMS).status_code == 403
    assert not ChannelAccount.objects.exists()


def test_another_merchants_channels_are_not_found(client, owner):
    other = MerchantFactory()

    assert client.get(url(other, "channels")).status_code == 404
    assert client.post(url(other, "channel_save", "sms"), SMS).status_code == 404
    assert not ChannelAccount.objects.exists()
