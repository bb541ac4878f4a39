"""SMS through a generic HTTP gateway.

One message is one ``POST {url}`` with ``Authorization: Bearer {api_key}`` and a JSON body::

    {"to": "+6281234567890", "message": "Halo Kak Rina, …", "sender": "WARUNGBU",
     "reference": "123"}

``reference`` is the outbox message id, so the gateway's status callbacks (and a person reading
its logs) can name the message. The gateway answers with its own id in ``id`` (or
``message_id``), kept as the provider id. HTTP 429 and 5xx, timeouts and refused connections may
succeed later (retryable); any other refusal will not.

Account settings: ``url`` and ``api_key`` (required), ``sender``, ``timeout`` (seconds), and
``callback_secret`` for the status and reply callbacks (:mod:`langganan.campaigns.inbound`).
"""

from __future__ import annotations

from ._http import post_json, timeout_from
from .base import Outgoing, SendError, SendResult

ERR_NOT_CONFIGURED = "the SMS account needs a gateway url and an api_key"
ERR_HTTP = "the SMS gateway refused the message (HTTP {status}): {text}"
ERR_NO_ID = "the SMS gateway accepted the request but returned no message id: {text}"


def sms_payload(outgoing: Outgoing, *, sender: str) -> dict:
    """The JSON body posted to the gateway for this message."""
    return {
        "to": outgoing.to,
        "message": outgoing.body,
        "sender": sender,
        "reference": str(outgoing.message_id),
    }


class SmsGatewayAdapter:
    channel = "sms"

    def __init__(self, settings: dict) -> None:
        self.settings = dict(settings or {})

    def send(self, outgoing: Outgoing) -> SendResult:
        url, api_key = self.settings.get("url"), self.settings.get("api_key")
        if not url or not api_key:
            raise SendError(ERR_NOT_CONFIGURED, retryable=False)
        answer = post_json(
            str(url),
            sms_payload(outgoing, sender=str(self.settings.get("sender") or "")),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_from(self.settings),
        )
        if not 200 <= answer.status < 300:
            raise SendError(
                ERR_HTTP.format(status=answer.status, text=answer.text),
                retryable=answer.retryable,
            )
        data = answer.data if isinstance(answer.data, dict) else {}
        provider_id = data.get("id") or data.get("message_id")
        if provider_id in (None, ""):
            # accepted, maybe sent: a retry could send it twice
            raise SendError(ERR_NO_ID.format(text=answer.text), retryable=False)
        return SendResult(provider_id=str(provider_id))
