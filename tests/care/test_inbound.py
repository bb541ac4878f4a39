"""Replies customers send by WhatsApp or SMS: kept as the conversation, made a complaint once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from langganan.campaigns.callbacks import sms_callback_apply
from langganan.campaigns.models import ChannelAccount
from langganan.care.models import Complaint, InboundMessage
from langganan.customers.models import ConsentEvent
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(merchant):
    return ChannelAccount.objects.create(merchant=merchant, channel="sms", settings={})


def _inbound(account, sender, text):
    return sms_callback_apply(
        account=account, payload={"type": "inbound", "from": sender, "text": text}
    )


def test_a_reply_that_is_not_stop_is_kept_with_its_customer(merchant, sms):
    rina = CustomerFactory(merchant=merchant, phone="+6281234567890")
    CustomerFactory(merchant=MerchantFactory(), phone="+6281234567890")  # same number elsewhere
    report = _inbound(sms, "081234567890", "Kemarin pesanan saya kurang satu")
    assert report.opt_outs == 0
    message = InboundMessage.objects.get()
    assert (message.merchant, message.customer, message.sender) == (
        merchant,
        rina,
        "+6281234567890",
    )
    assert message.text == "Kemarin pesanan saya kurang satu"


def test_stop_is_an_opt_out_and_not_kept(merchant, sms):
    CustomerFactory(merchant=merchant, phone="+6281234567890")
    report = _inbound(sms, "+6281234567890", "STOP")
    assert report.opt_outs == 1
    assert not InboundMessage.objects.exists()
    assert ConsentEvent.objects.filter(granted=False).count() == 1


def test_an_unknown_number_is_kept_without_a_customer(merchant, sms):
    _inbound(sms, "085700001111", "Halo, buka jam berapa?")
    assert InboundMessage.objects.get().customer is None


def test_one_click_makes_one_complaint(merchant, sms):
    rina = CustomerFactory(merchant=merchant, phone="+6281234567890")
    _inbound(sms, "081234567890", "Nasi gorengnya keasinan")
    message = InboundMessage.objects.get()
    owner = Client()
    owner.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    page = owner.get(reverse("care:inbound_list", args=[merchant.slug])).content.decode()
    assert "Nasi gorengnya keasinan" in page and "Jadikan keluhan" in page

    url = reverse("care:inbound_complaint", args=[merchant.slug, message.pk])
    first = owner.post(url)
    second = owner.post(url)

    complaint = Complaint.objects.get()
    assert first["Location"] == second["Location"]
    assert (complaint.customer, complaint.channel, complaint.text) == (
        rina,
        "sms",
        "Nasi gorengnya keasinan",
    )
    message.refresh_from_db()
    assert message.complaint == complaint


def test_another_merchants_message_is_a_404(merchant):
    other = MerchantFactory()
    sms = ChannelAccount.objects.create(merchant=other, channel="sms", settings={})
    _inbound(sms, "081234567890", "Halo")
    theirs = InboundMessage.objects.get()
    owner = Client()
    owner.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    url = reverse("care:inbound_complaint", args=[merchant.slug, theirs.pk])
    assert owner.post(url).status_code == 404
    page = owner.get(reverse("care:inbound_list", args=[merchant.slug])).content.decode()
    assert "Belum ada pesan dari pelanggan." in page
    assert not Complaint.objects.exists()
