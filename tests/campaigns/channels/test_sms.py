"""The SMS gateway adapter against a local HTTP server."""

from __future__ import annotations

import pytest

from langganan.campaigns.channels.base import Outgoing, SendError
from langganan.campaigns.channels.sms import ERR_NOT_CONFIGURED, SmsGatewayAdapter

API_KEY = "sms-key-123"


def adapter(provider, **settings) -> SmsGatewayAdapter:
    return SmsGatewayAdapter(
        {"url": provider.url + "/v1/sms", "api_key": API_KEY, "sender": "WARUNGBU", **settings}
    )


def outgoing(**fields) -> Outgoing:
    values = {"message_id": 123, "to": "+6281234567890", "body": "Halo Kak Rina, poinmu 1.250."}
    return Outgoing(**{**values, **fields})


def test_sms_is_posted_as_json_with_bearer_key(provider):
    provider.respond = lambda request: (201, {"id": "gw-9f3a", "status": "queued"})

    result = adapter(provider).send(outgoing())

    [request] = provider.requests
    assert request.path == "/v1/sms"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.json == {
        "to": "+6281234567890",
        "message": "Halo Kak Rina, poinmu 1.250.",
        "sender": "WARUNGBU",
        "reference": "123",
    }
    assert result.provider_id == "gw-9f3a"


def test_provider_id_may_be_called_message_id(provider):
    provider.respond = lambda request: (200, {"message_id": 555})

    assert adapter(provider).send(outgoing()).provider_id == "555"


def test_refusal_is_not_retried(provider):
    provider.respond = lambda request: (422, {"error": "invalid destination number"})

    with pytest.raises(SendError) as refused:
        adapter(provider).send(outgoing())

    assert refused.value.retryable is False
    assert "422" in str(refused.value)
    assert "invalid destination number" in str(refused.value)


@pytest.mark.parametrize("status", [429, 500, 502])
def test_throttling_and_server_errors_are_retried(provider, status):
    provider.respond = lambda request: (status, {"error": "busy"})

    with pytest.raises(SendError) as failed:
        adapter(provider).send(outgoing())

    assert failed.value.retryable is True


def test_nobody_listening_is_retried(down_url):
    with pytest.raises(SendError) as unreachable:
        SmsGatewayAdapter({"url": down_url, "api_key": API_KEY}).send(outgoing())

    assert unreachable.value.retryable is True


def test_accepted_without_id_is_not_retried(provider):
    provider.respond = lambda request: (200, b"OK")

    with pytest.raises(SendError) as odd:
        adapter(provider).send(outgoing())

    assert odd.value.retryable is False


def test_account_without_url_or_key_sends_nothing(provider):
    with pytest.raises(SendError) as unconfigured:
        SmsGatewayAdapter({"url": provider.url}).send(outgoing())

    assert str(unconfigured.value) == ERR_NOT_CONFIGURED
    assert unconfigured.value.retryable is False
    assert provider.requests == []


def test_gateway_url_must_be_http(provider):
    with pytest.raises(SendError) as bad:
        SmsGatewayAdapter({"url": "file:///etc/passwd", "api_key": API_KEY}).send(outgoing())

    assert bad.value.retryable is False
