"""Manual WhatsApp: wa.me links, the queue, marking sent, and the staff pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from langganan.campaigns.channels.manual import (
    manual_mark_sent,
    manual_queue,
    wa_me_link,
)
from langganan.campaigns.models import Campaign, MessageStatus, MessageTemplate
from langganan.core.errors import NotFound
from langganan.customers.services import consent_record
from tests.campaigns.channels.conftest import consenting_customer
from tests.campaigns.channels.helpers import queued_message
from tests.factories import CustomerFactory, MerchantFactory
from tests.web.helpers import log_in_member

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.campaigns.channels.urls")]

AT = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


def withdraw(customer, channel="whatsapp"):
    consent_record(customer=customer, channel=channel, granted=False, source="counter")


def campaign_of(merchant, name="Ulang tahun") -> Campaign:
    template = MessageTemplate.objects.create(merchant=merchant, name=name, body_id="Halo {name}")
    return Campaign.objects.create(
        merchant=merchant,
        name=name,
        kind="birthday",
        channel="whatsapp",
        manual_whatsapp=True,
        template=template,
    )


def list_url(merchant) -> str:
    return reverse("campaigns:manual_list", kwargs={"slug": merchant.slug})


def open_url(merchant, message) -> str:
    return reverse(
        "campaigns:manual_open", kwargs={"slug": merchant.slug, "message_id": message.pk}
    )


# --- links, queue and marking sent ---------------------------------------------------------------


def test_wa_me_link_has_the_digits_and_the_encoded_message():
    link = wa_me_link("+6281234567890", "Halo Kak Rina & teman-teman!\nDiskon 20% ☕")

    assert link == (
        "https://wa.me/6281234567890?text="
        "Halo%20Kak%20Rina%20%26%20teman-teman%21%0ADiskon%2020%25%20%E2%98%95"
    )


def test_wa_me_link_without_text_is_just_the_number():
    assert wa_me_link("+6281234567890", "") == "https://wa.me/6281234567890"


def test_queue_holds_the_merchants_queued_manual_messages_oldest_first(merchant):
    rina, budi = consenting_customer(merchant), consenting_customer(merchant)
    first = queued_message(rina)
    second = queued_message(budi)
    queued_message(rina, manual=False)  # goes through the API
    queued_message(budi, status=MessageStatus.SENT)
    queued_message(consenting_customer(MerchantFactory()))

    assert manual_queue(merchant=merchant) == [first, second]


def test_queue_leaves_out_customers_who_withdrew_or_never_consented(merchant):
    stays = queued_message(consenting_customer(merchant))
    withdrew = consenting_customer(merchant)
    queued_message(withdrew)
    withdraw(withdrew)
    queued_message(CustomerFactory(merchant=merchant))

    assert manual_queue(merchant=merchant) == [stays]


def test_queue_of_one_campaign(merchant):
    birthday, winback = campaign_of(merchant, "Ulang tahun"), campaign_of(merchant, "Rindu")
    customer = consenting_customer(merchant)
    mine = queued_message(customer, campaign=birthday)
    queued_message(customer, campaign=winback)

    assert manual_queue(merchant=merchant, campaign=birthday) == [mine]


def test_mark_sent_records_when(merchant):
    message = queued_message(consenting_customer(merchant))

    result = manual_mark_sent(merchant=merchant, message_id=message.pk, at=AT)

    message.refresh_from_db()
    assert result.status == message.status == MessageStatus.SENT
    assert message.sent_at == AT
    assert message.attempts == 1


def test_marking_sent_twice_changes_nothing(merchant):
    message = queued_message(consenting_customer(merchant))
    manual_mark_sent(merchant=merchant, message_id=message.pk, at=AT)

    again = manual_mark_sent(merchant=merchant, message_id=message.pk, at=datetime.now(UTC))

    message.refresh_from_db()
    assert again.status == MessageStatus.SENT
    assert message.sent_at == AT
    assert message.attempts == 1


def test_another_merchants_message_is_not_found(merchant):
    theirs = queued_message(consenting_customer(MerchantFactory()))

    with pytest.raises(NotFound):
        manual_mark_sent(merchant=merchant, message_id=theirs.pk, at=AT)

    theirs.refresh_from_db()
    assert theirs.status == MessageStatus.QUEUED


def test_api_message_cannot_be_marked_sent_by_hand(merchant):
    message = queued_message(consenting_customer(merchant), manual=False)

    with pytest.raises(NotFound):
        manual_mark_sent(merchant=merchant, message_id=message.pk, at=AT)


def test_message_to_a_customer_who_withdrew_is_suppressed_not_sent(merchant):
    customer = consenting_customer(merchant)
    message = queued_message(customer)
    withdraw(customer)

    result = manual_mark_sent(merchant=merchant, message_id=message.pk, at=AT)

    message.refresh_from_db()
    assert result.status == message.status == MessageStatus.SUPPRESSED
    assert message.sent_at is None


# --- staff pages ---------------------------------------------------------------------------------


def test_managers_see_the_queue_with_name_phone_and_message(client, merchant):
    log_in_member(client, merchant, role="manager")
    rina = consenting_customer(merchant, full_name="Rina Wati", phone="+6281234567890")
    queued_message(rina, body="Halo Kak Rina, es teh manis gratis hari ini!")
    queued_message(consenting_customer(MerchantFactory(), full_name="Orang Lain"))

    response = client.get(list_url(merchant))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Rina Wati" in html
    assert "0812-3456-7890" in html
    assert "Halo Kak Rina, es teh manis gratis hari ini!" in html
    assert "Orang Lain" not in html
    assert "WhatsApp manual" in html  # Indonesian first
    assert "Kirim lewat WhatsApp" in html


def test_queue_page_of_one_campaign(client, merchant):
    log_in_member(client, merchant)
    birthday, winback = campaign_of(merchant, "Ulang tahun"), campaign_of(merchant, "Rindu")
    queued_message(consenting_customer(merchant, full_name="Rina"), campaign=birthday)
    queued_message(consenting_customer(merchant, full_name="Budi"), campaign=winback)

    response = client.get(list_url(merchant), {"campaign": birthday.pk})

    html = response.content.decode()
    assert "Rina" in html
    assert "Budi" not in html


def test_another_merchants_campaign_is_not_found(client, merchant):
    log_in_member(client, merchant)
    theirs = campaign_of(MerchantFactory())

    assert client.get(list_url(merchant), {"campaign": theirs.pk}).status_code == 404
    assert client.get(list_url(merchant), {"campaign": "x"}).status_code == 404


def test_queue_page_needs_a_login(client, merchant):
    response = client.get(list_url(merchant))

    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_queue_page_of_a_merchant_one_is_not_member_of_is_not_found(client, merchant):
    log_in_member(client, MerchantFactory())

    assert client.get(list_url(merchant)).status_code == 404


def test_a_cashier_sees_neither_the_queue_nor_its_phone_numbers(client, merchant):
    log_in_member(client, merchant, role="cashier")
    message = queued_message(consenting_customer(merchant, full_name="Rina Wati"))

    response = client.get(list_url(merchant))

    assert response.status_code == 403
    assert "Rina Wati" not in response.content.decode()
    assert client.post(open_url(merchant, message)).status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_opening_a_message_marks_it_sent_and_goes_to_whatsapp(client, merchant):
    log_in_member(client, merchant, role="manager")
    message = queued_message(consenting_customer(merchant, phone="+6281234567890"), body="Halo!")

    response = client.post(open_url(merchant, message))

    assert response.status_code == 302
    assert response["Location"] == "https://wa.me/6281234567890?text=Halo%21"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None


def test_opening_needs_a_post(client, merchant):
    log_in_member(client, merchant)
    message = queued_message(consenting_customer(merchant))

    assert client.get(open_url(merchant, message)).status_code == 405
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_opening_another_merchants_message_is_not_found(client, merchant):
    log_in_member(client, merchant)
    other = MerchantFactory()
    theirs = queued_message(consenting_customer(other))

    assert client.post(open_url(merchant, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == MessageStatus.QUEUED


def test_opening_a_message_to_a_customer_who_withdrew_goes_back_to_the_list(client, merchant):
    log_in_member(client, merchant)
    customer = consenting_customer(merchant)
    message = queued_message(customer)
    withdraw(customer)

    response = client.post(open_url(merchant, message), follow=True)

    assert response.redirect_chain == [(list_url(merchant), 302)]
    assert "tidak ingin lagi menerima pesan WhatsApp" in response.content.decode()
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
