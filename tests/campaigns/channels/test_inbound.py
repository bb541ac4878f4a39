"""The channel webhooks: WhatsApp Cloud API notifications and SMS gateway callbacks —
signatures, delivery status reports, and STOP / BERHENTI replies withdrawing consent."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from langganan.campaigns.guardrails import consented
from langganan.campaigns.models import MessageStatus
from langganan.customers.models import ConsentEvent
from tests.campaigns.channels.conftest import consenting_customer
from tests.campaigns.channels.helpers import channel_account, queued_message
from tests.factories import MerchantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.campaigns.channels.urls")]

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "langganan-verify-123"
SMS_SECRET = "gateway-callback-secret"
PHONE = "+6281234567890"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- WhatsApp ------------------------------------------------------------------------------------


@pytest.fixture
def wa_account(merchant):
    return channel_account(
        merchant,
        "whatsapp",
        phone_number_id="106540352242922",
        access_token="EAAG",
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )


def wa_url(account) -> str:
    return reverse("campaigns:whatsapp_webhook", kwargs={"account_id": account.pk})


def wa_notification(*, statuses=(), messages=()) -> dict:
    """A Cloud API webhook notification, shaped as Meta documents it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            **({"statuses": list(statuses)} if statuses else {}),
                            **({"messages": list(messages)} if messages else {}),
                        },
                    }
                ],
            }
        ],
    }


def wa_status(provider_id: str, status: str, timestamp: int = 1_778_000_000, **extra) -> dict:
    return {
        "id": provider_id,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": "6281234567890",
        **extra,
    }


def wa_text(sender: str, text: str) -> dict:
    return {
        "from": sender,
        "id": "wamid.reply",
        "timestamp": "1778000000",
        "type": "text",
        "text": {"body": text},
    }


def wa_post(client, account, payload, *, secret: str = APP_SECRET, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret:
        headers["X-Hub-Signature-256"] = "sha256=" + sign(secret, body)
    return client.post(wa_url(account), body, content_type="application/json", headers=headers)


def test_verification_answers_the_challenge(client, wa_account):
    response = client.get(
        wa_url(wa_account),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_verification_with_wrong_token_or_mode_is_forbidden(client, wa_account, params):
    assert client.get(wa_url(wa_account), params).status_code == 403


def test_verification_of_an_account_without_verify_token_is_forbidden(client, merchant):
    account = channel_account(merchant, "whatsapp", app_secret=APP_SECRET)

    response = client.get(
        wa_url(account), {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )

    assert response.status_code == 403


def test_status_reports_move_the_message_forward(client, merchant, wa_account):
    message = queued_message(
        consenting_customer(merchant),
        manual=False,
        status=MessageStatus.SENT,
        provider_id="wamid.A1",
    )

    delivered = wa_post(
        client,
        wa_account,
        wa_notification(statuses=[wa_status("wamid.A1", "delivered", 1_778_000_000)]),
    )
    read = wa_post(
        client, wa_account, wa_notification(statuses=[wa_status("wamid.A1", "read", 1_778_000_060)])
    )

    assert delivered.status_code == read.status_code == 200
    assert delivered.json() == {"statuses": 1, "opt_outs": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.delivered_at == datetime.fromtimestamp(1_778_000_000, tz=UTC)
    assert message.read_at == datetime.fromtimestamp(1_778_000_060, tz=UTC)


def test_failed_report_records_the_whatsapp_error(client, merchant, wa_account):
    message = queued_message(
        consenting_customer(merchant),
        manual=False,
        status=MessageStatus.SENT,
        provider_id="wamid.F",
    )
    failed = wa_status(
        "wamid.F",
        "failed",
        errors=[
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Receiver is incapable of receiving this message"},
            }
        ],
    )

    wa_post(client, wa_account, wa_notification(statuses=[failed]))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "131026" in message.last_error
    assert "incapable" in message.last_error


def test_status_report_never_touches_another_merchants_message(client, wa_account):
    theirs = queued_message(
        consenting_customer(MerchantFactory()),
        manual=False,
        status=MessageStatus.SENT,
        provider_id="wamid.SHARED",
    )

    response = wa_post(
        client, wa_account, wa_notification(statuses=[wa_status("wamid.SHARED", "read")])
    )

    assert response.json() == {"statuses": 0, "opt_outs": 0}
    theirs.refresh_from_db()
    assert theirs.status == MessageStatus.SENT


@pytest.mark.parametrize("text", ["STOP", "berhenti", "  Berhenti! ", "stop"])
def test_stop_reply_withdraws_whatsapp_consent_at_once(client, merchant, wa_account, text):
    customer = consenting_customer(merchant, phone=PHONE, channels=("whatsapp", "sms"))

    response = wa_post(
        client, wa_account, wa_notification(messages=[wa_text("6281234567890", text)])
    )

    assert response.status_code == 200
    assert response.json()["opt_outs"] == 1
    assert consented(customer=customer, channel="whatsapp") is False
    assert consented(customer=customer, channel="sms") is True  # only the channel replied on
    event = ConsentEvent.objects.filter(customer=customer).latest("id")
    assert event.source == "reply STOP"


def test_quick_reply_button_berhenti_withdraws_consent(client, merchant, wa_account):
    customer = consenting_customer(merchant, phone=PHONE)
    button = {
        "from": "6281234567890",
        "id": "wamid.btn",
        "timestamp": "1778000000",
        "type": "button",
        "button": {"payload": "STOP_PROMO", "text": "Berhenti"},
    }

    wa_post(client, wa_account, wa_notification(messages=[button]))

    assert consented(customer=customer, channel="whatsapp") is False


def test_ordinary_reply_changes_nothing(client, merchant, wa_account):
    customer = consenting_customer(merchant, phone=PHONE)

    response = wa_post(
        client,
        wa_account,
        wa_notification(messages=[wa_text("6281234567890", "Stop dulu ya, besok pesan lagi")]),
    )

    assert response.json() == {"statuses": 0, "opt_outs": 0}
    assert consented(customer=customer, channel="whatsapp") is True


def test_stop_reply_to_one_merchant_leaves_the_same_number_at_another(client, merchant, wa_account):
    here = consenting_customer(merchant, phone=PHONE)
    elsewhere = consenting_customer(MerchantFactory(), phone=PHONE)

    wa_post(client, wa_account, wa_notification(messages=[wa_text("6281234567890", "STOP")]))

    assert consented(customer=here, channel="whatsapp") is False
    assert consented(customer=elsewhere, channel="whatsapp") is True


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha256=nothex"])
def test_bad_or_missing_signature_is_forbidden_and_changes_nothing(
    client, merchant, wa_account, signature
):
    customer = consenting_customer(merchant, phone=PHONE)

    response = wa_post(
        client,
        wa_account,
        wa_notification(messages=[wa_text("6281234567890", "STOP")]),
        signature=signature,
    )

    assert response.status_code == 403
    assert consented(customer=customer, channel="whatsapp") is True


def test_signature_with_another_accounts_secret_is_forbidden(client, merchant, wa_account):
    consenting_customer(merchant, phone=PHONE)

    response = wa_post(
        client,
        wa_account,
        wa_notification(messages=[wa_text("6281234567890", "STOP")]),
        secret="somebody-elses-secret",
    )

    assert response.status_code == 403


def test_account_without_app_secret_refuses_notifications(client, merchant):
    account = channel_account(merchant, "whatsapp", verify_token=VERIFY_TOKEN)
    customer = consenting_customer(merchant, phone=PHONE)

    response = wa_post(
        client, account, wa_notification(messages=[wa_text("6281234567890", "STOP")]), secret=""
    )

    assert response.status_code == 403
    assert consented(customer=customer, channel="whatsapp") is True


def test_malformed_json_is_a_bad_request(client, wa_account):
    assert wa_post(client, wa_account, b"{not json").status_code == 400
    assert wa_post(client, wa_account, b"\xff\xfe").status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {},
        [],
        {"object": "whatsapp_business_account", "entry": "nope"},
        {"entry": [{"changes": [{"value": {"statuses": [{"id": 5, "status": "read"}]}}]}]},
        {"entry": [{"changes": [{"value": {"messages": [{"type": "image", "from": "62"}]}}]}]},
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "messages": [
                                    {"type": "text", "from": "x", "text": {"body": "STOP"}}
                                ]
                            }
                        }
                    ]
                }
            ]
        },
        {
            "entry": [
                {"changes": [{"value": {"statuses": [wa_status("wamid.unknown", "delivered")]}}]}
            ]
        },
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "statuses": [{"id": "w", "status": "read", "timestamp": "soon"}]
                            }
                        }
                    ]
                }
            ]
        },
    ],
)
def test_well_formed_but_irrelevant_payload_is_acknowledged(client, wa_account, payload):
    response = wa_post(client, wa_account, payload)

    assert response.status_code == 200


def test_unknown_account_is_not_found(client, wa_account):
    url = reverse("campaigns:whatsapp_webhook", kwargs={"account_id": wa_account.pk + 1000})

    assert client.get(url, {"hub.mode": "subscribe"}).status_code == 404
    assert client.post(url, b"{}", content_type="application/json").status_code == 404


def test_sms_account_is_not_a_whatsapp_webhook(client, merchant):
    sms = channel_account(merchant, "sms", app_secret=APP_SECRET)

    assert wa_post(client, sms, wa_notification()).status_code == 404


def test_webhook_needs_no_csrf_token(merchant, wa_account):
    from django.test import Client

    customer = consenting_customer(merchant, phone=PHONE)

    response = wa_post(
        Client(enforce_csrf_checks=True),
        wa_account,
        wa_notification(messages=[wa_text("6281234567890", "BERHENTI")]),
    )

    assert response.status_code == 200
    assert consented(customer=customer, channel="whatsapp") is False


# --- SMS -----------------------------------------------------------------------------------------


@pytest.fixture
def sms_account(merchant):
    return channel_account(
        merchant, "sms", url="https://gw.example/sms", api_key="k", callback_secret=SMS_SECRET
    )


def sms_post(client, account, payload, *, secret: str = SMS_SECRET, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = signature if signature is not None else sign(secret, body)
    url = reverse("campaigns:sms_webhook", kwargs={"account_id": account.pk})
    return client.post(
        url, body, content_type="application/json", headers={"X-Langganan-Signature": header}
    )


def sms_message(merchant, provider_id="gw-1"):
    return queued_message(
        consenting_customer(merchant, channels=("sms",)),
        channel="sms",
        manual=False,
        status=MessageStatus.SENT,
        provider_id=provider_id,
    )


def test_sms_status_by_gateway_id(client, merchant, sms_account):
    message = sms_message(merchant, "gw-1")

    response = sms_post(
        client, sms_account, {"type": "status", "id": "gw-1", "status": "delivered"}
    )

    assert response.status_code == 200
    assert response.json() == {"statuses": 1, "opt_outs": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_sms_status_by_our_reference(client, merchant, sms_account):
    message = sms_message(merchant, "gw-2")

    sms_post(
        client,
        sms_account,
        {
            "type": "status",
            "reference": str(message.pk),
            "status": "UNDELIVERED",
            "error": "absent subscriber",
        },
    )

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "absent subscriber"


def test_sms_reference_to_another_merchants_message_changes_nothing(client, sms_account):
    theirs = sms_message(MerchantFactory(), "gw-3")

    response = sms_post(
        client, sms_account, {"type": "status", "reference": str(theirs.pk), "status": "failed"}
    )

    assert response.json()["statuses"] == 0
    theirs.refresh_from_db()
    assert theirs.status == MessageStatus.SENT


def test_sms_stop_reply_withdraws_sms_consent(client, merchant, sms_account):
    customer = consenting_customer(merchant, phone=PHONE, channels=("sms", "whatsapp"))

    response = sms_post(client, sms_account, {"type": "inbound", "from": PHONE, "text": "BERHENTI"})

    assert response.json() == {"statuses": 0, "opt_outs": 1}
    assert consented(customer=customer, channel="sms") is False
    assert consented(customer=customer, channel="whatsapp") is True


def test_sms_events_may_come_in_a_list(client, merchant, sms_account):
    message = sms_message(merchant, "gw-4")
    customer = consenting_customer(merchant, phone=PHONE, channels=("sms",))

    response = sms_post(
        client,
        sms_account,
        [
            {"type": "status", "id": "gw-4", "status": "delivered"},
            {"type": "inbound", "from": "081234567890", "text": "stop"},
            {"type": "something-new"},
        ],
    )

    assert response.json() == {"statuses": 1, "opt_outs": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert consented(customer=customer, channel="sms") is False


def test_sms_signature_may_carry_a_sha256_prefix(client, merchant, sms_account):
    sms_message(merchant, "gw-5")
    body = json.dumps({"type": "status", "id": "gw-5", "status": "sent"}).encode()

    response = sms_post(client, sms_account, body, signature="sha256=" + sign(SMS_SECRET, body))

    assert response.status_code == 200


def test_sms_bad_signature_is_forbidden(client, merchant, sms_account):
    customer = consenting_customer(merchant, phone=PHONE, channels=("sms",))

    response = sms_post(
        client, sms_account, {"type": "inbound", "from": PHONE, "text": "STOP"}, secret="guess"
    )

    assert response.status_code == 403
    assert consented(customer=customer, channel="sms") is True


def test_sms_account_without_callback_secret_refuses_callbacks(client, merchant):
    account = channel_account(merchant, "sms", url="https://gw.example/sms", api_key="k")

    response = sms_post(
        client, account, {"type": "inbound", "from": PHONE, "text": "STOP"}, secret=""
    )

    assert response.status_code == 403


def test_sms_malformed_json_is_a_bad_request(client, sms_account):
    assert sms_post(client, sms_account, b"[1, 2").status_code == 400


def test_sms_webhook_takes_only_posts(client, sms_account):
    url = reverse("campaigns:sms_webhook", kwargs={"account_id": sms_account.pk})

    assert client.get(url).status_code == 405
