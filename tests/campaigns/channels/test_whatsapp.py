"""The WhatsApp Cloud API adapter against a local HTTP server that checks the documented
request shape and answers as the Graph API does."""

from __future__ import annotations

import time

import pytest

from langganan.campaigns.channels.base import Outgoing, SendError
from langganan.campaigns.channels.whatsapp import ERR_NOT_CONFIGURED, WhatsAppCloudAdapter

TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "106540352242922"
WAMID = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1RjQ4QkE0NkQ3RDQ4QzU4NgA="


def cloud_api(request):
    """Answer like the Cloud API: the message id for a well-formed request, else a Graph error."""
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return 401, {"error": {"message": "Invalid OAuth access token.", "code": 190}}
    if request.path != f"/v21.0/{PHONE_NUMBER_ID}/messages":
        return 404, {"error": {"message": "Unknown path", "code": 100}}
    body = request.json
    assert body["messaging_product"] == "whatsapp"
    assert body["recipient_type"] == "individual"
    assert request.headers["Content-Type"] == "application/json"
    return 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": WAMID}],
    }


def adapter(provider, **settings) -> WhatsAppCloudAdapter:
    return WhatsAppCloudAdapter(
        {
            "base_url": provider.url,
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": TOKEN,
            "timeout": 5,
            **settings,
        }
    )


def outgoing(**fields) -> Outgoing:
    values = {
        "message_id": 7,
        "to": "+6281234567890",
        "body": "Halo Kak Rina, selamat ulang tahun!",
        "template_name": "ulang_tahun",
        "template_params": ["Kak Rina", "ULTAH-7Q2"],
    }
    return Outgoing(**{**values, **fields})


def test_template_message_is_posted_in_the_documented_shape(provider):
    provider.respond = cloud_api

    result = adapter(provider).send(outgoing())

    [request] = provider.requests
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "template",
        "template": {
            "name": "ulang_tahun",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Kak Rina"},
                        {"type": "text", "text": "ULTAH-7Q2"},
                    ],
                }
            ],
        },
    }
    assert result.provider_id == WAMID


def test_english_template_uses_the_en_us_language_code(provider):
    provider.respond = cloud_api

    adapter(provider).send(outgoing(language="en"))

    assert provider.requests[0].json["template"]["language"] == {"code": "en_US"}


def test_without_a_template_a_plain_text_message_is_sent(provider):
    provider.respond = cloud_api

    adapter(provider).send(outgoing(template_name="", template_params=[]))

    body = provider.requests[0].json
    assert body["type"] == "text"
    assert body["text"] == {"preview_url": False, "body": "Halo Kak Rina, selamat ulang tahun!"}
    assert "template" not in body


def test_api_version_and_base_url_come_from_the_account(provider):
    provider.respond = lambda request: (200, {"messages": [{"id": "wamid.X"}]})

    adapter(provider, base_url=provider.url + "/graph/", api_version="v22.0").send(outgoing())

    assert provider.requests[0].path == f"/graph/v22.0/{PHONE_NUMBER_ID}/messages"


def test_graph_error_is_not_retried_and_names_code_and_message(provider):
    provider.respond = lambda request: (
        400,
        {
            "error": {
                "message": "(#132001) Template name does not exist in the translation",
                "type": "OAuthException",
                "code": 132001,
                "error_data": {"messaging_product": "whatsapp", "details": "template name"},
                "fbtrace_id": "A1b2C3",
            }
        },
    )

    with pytest.raises(SendError) as refused:
        adapter(provider).send(outgoing())

    assert refused.value.retryable is False
    assert "132001" in str(refused.value)
    assert "Template name does not exist" in str(refused.value)


def test_wrong_token_is_not_retried(provider):
    provider.respond = cloud_api

    with pytest.raises(SendError) as refused:
        adapter(provider, access_token="stale").send(outgoing())

    assert refused.value.retryable is False
    assert "190" in str(refused.value)


def test_throughput_limit_error_is_retried(provider):
    provider.respond = lambda request: (
        400,
        {"error": {"message": "(#130429) Rate limit hit", "code": 130429}},
    )

    with pytest.raises(SendError) as throttled:
        adapter(provider).send(outgoing())

    assert throttled.value.retryable is True


@pytest.mark.parametrize("status", [429, 500, 503])
def test_too_many_requests_and_server_errors_are_retried(provider, status):
    provider.respond = lambda request: (status, b"<html>oops</html>")

    with pytest.raises(SendError) as failed:
        adapter(provider).send(outgoing())

    assert failed.value.retryable is True
    assert str(status) in str(failed.value)


def test_nobody_listening_is_retried(down_url):
    with pytest.raises(SendError) as unreachable:
        WhatsAppCloudAdapter(
            {"base_url": down_url, "phone_number_id": PHONE_NUMBER_ID, "access_token": TOKEN}
        ).send(outgoing())

    assert unreachable.value.retryable is True


def test_slow_api_times_out_and_is_retried(provider):
    def slow(request):
        time.sleep(1.5)
        return 200, {"messages": [{"id": "wamid.late"}]}

    provider.respond = slow

    with pytest.raises(SendError) as timed_out:
        adapter(provider, timeout=0.3).send(outgoing())

    assert timed_out.value.retryable is True


def test_redirect_is_not_followed(provider):
    provider.respond = lambda request: (302, {})

    with pytest.raises(SendError) as redirected:
        adapter(provider).send(outgoing())

    assert redirected.value.retryable is False
    assert len(provider.requests) == 1


def test_accepted_without_message_id_is_not_retried(provider):
    provider.respond = lambda request: (200, {"messaging_product": "whatsapp"})

    with pytest.raises(SendError) as odd:
        adapter(provider).send(outgoing())

    assert odd.value.retryable is False


def test_account_without_credentials_sends_nothing(provider):
    with pytest.raises(SendError) as unconfigured:
        WhatsAppCloudAdapter({"base_url": provider.url}).send(outgoing())

    assert str(unconfigured.value) == ERR_NOT_CONFIGURED
    assert unconfigured.value.retryable is False
    assert provider.requests == []
