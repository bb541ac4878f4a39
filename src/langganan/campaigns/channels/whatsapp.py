"""WhatsApp through the WhatsApp Business Cloud API (Meta's Graph API).

One message is one ``POST {base_url}/{api_version}/{phone_number_id}/messages`` with
``Authorization: Bearer {access_token}`` and a JSON body::

    {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281234567890",
     "type": "template",
     "template": {"name": "ulang_tahun", "language": {"code": "id"},
                  "components": [{"type": "body",
                                  "parameters": [{"type": "text", "text": "Kak Rina"}, …]}]}}

Marketing messages must be **template messages**: a template approved in the merchant's
WhatsApp Business account, named by ``Outgoing.template_name``, its ``{{1}}``, ``{{2}}``, … filled
from ``Outgoing.template_params`` in order. Without a template name a plain text message
(``"type": "text"``) is sent instead; WhatsApp delivers those only inside the 24-hour customer
service window (the customer wrote to the business in the last 24 hours), otherwise the API
refuses them with error 131047 ("Re-engagement message"), which is reported as not retryable.

The answer ``{"messaging_product": "whatsapp", "contacts": [{"input": …, "wa_id": …}],
"messages": [{"id": "wamid.…"}]}`` gives the provider id (the ``wamid``), which the status
webhook (:mod:`langganan.campaigns.inbound`) reports on later.

Account settings: ``phone_number_id`` and ``access_token`` (required), ``base_url`` (default
``https://graph.facebook.com``), ``api_version`` (default ``v21.0``), ``timeout`` (seconds).
"""

from __future__ import annotations

from ._http import post_json, timeout_from
from .base import Outgoing, SendError, SendResult

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
#: The message's language → the template language code registered with WhatsApp.
LANGUAGE_CODES = {"id": "id", "en": "en_US"}
#: Graph error codes that say "not now" rather than "never": throttling and temporary outages.
RETRYABLE_ERROR_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056})

ERR_NOT_CONFIGURED = "the WhatsApp account needs a phone_number_id and an access_token"
ERR_NO_NUMBER = "no WhatsApp number to send to"
ERR_GRAPH = "WhatsApp refused the message (HTTP {status}, error {code}): {message}"
ERR_HTTP = "WhatsApp answered HTTP {status}: {text}"
ERR_NO_ID = "WhatsApp accepted the request but returned no message id: {text}"


def whatsapp_payload(outgoing: Outgoing) -> dict:
    """The JSON body the Cloud API expects for this message."""
    payload: dict = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "".join(ch for ch in outgoing.to if ch.isdigit()),
    }
    if outgoing.template_name:
        payload["type"] = "template"
        payload["template"] = {
            "name": outgoing.template_name,
            "language": {"code": LANGUAGE_CODES.get(outgoing.language, outgoing.language)},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": str(p)} for p in outgoing.template_params
                    ],
                }
            ],
        }
    else:
        payload["type"] = "text"
        payload["text"] = {"preview_url": False, "body": outgoing.body}
    return payload


class WhatsAppCloudAdapter:
    channel = "whatsapp"

    def __init__(self, settings: dict) -> None:
        self.settings = dict(settings or {})

    @property
    def url(self) -> str:
        base = str(self.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        version = str(self.settings.get("api_version") or DEFAULT_API_VERSION).strip("/")
        return f"{base}/{version}/{self.settings.get('phone_number_id')}/messages"

    def send(self, outgoing: Outgoing) -> SendResult:
        if not self.settings.get("phone_number_id") or not self.settings.get("access_token"):
            raise SendError(ERR_NOT_CONFIGURED, retryable=False)
        payload = whatsapp_payload(outgoing)
        if not payload["to"]:
            raise SendError(ERR_NO_NUMBER, retryable=False)
        answer = post_json(
            self.url,
            payload,
            headers={"Authorization": f"Bearer {self.settings['access_token']}"},
            timeout=timeout_from(self.settings),
        )
        data = answer.data if isinstance(answer.data, dict) else {}
        if 200 <= answer.status < 300:
            try:
                return SendResult(provider_id=str(data["messages"][0]["id"]))
            except (KeyError, IndexError, TypeError) as exc:
                # accepted, maybe sent: a retry could send it twice
                raise SendError(ERR_NO_ID.format(text=answer.text), retryable=False) from exc
        error = data.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            message = str(error.get("message") or "")
            error_data = error.get("error_data")
            details = error_data.get("details") if isinstance(error_data, dict) else None
            if details and details not in message:
                message = f"{message} ({details})"
            raise SendError(
                ERR_GRAPH.format(status=answer.status, code=code, message=message),
                retryable=answer.retryable or code in RETRYABLE_ERROR_CODES,
            )
        raise SendError(
            ERR_HTTP.format(status=answer.status, text=answer.text), retryable=answer.retryable
        )
