"""What the channels tell us back: delivery status reports and replies (STOP, BERHENTI).

The webhook views (:mod:`.inbound`) check the request's signature, then hand the parsed JSON to
one of these functions with the :class:`~.models.ChannelAccount` named in the URL. Everything
applies to that account's merchant only: a status report changes a message of that merchant
and channel, an opt-out reply withdraws consent of that merchant's customers.

Payloads come from outside: any part that is missing or of the wrong type is skipped, never an
error, so a provider that adds fields or event kinds gets a 200 and keeps calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from .models import ChannelAccount, Message, MessageStatus
from .optout import is_opt_out_text, message_status_record, opt_out_by_address

OPT_OUT_SOURCE = "reply STOP"
#: Status words of SMS gateways → our statuses.
SMS_STATUSES = {
    "sent": MessageStatus.SENT,
    "accepted": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
    "undelivered": MessageStatus.FAILED,
    "rejected": MessageStatus.FAILED,
    "expired": MessageStatus.FAILED,
}
WHATSAPP_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}


@dataclass
class CallbackReport:
    """What one callback did."""

    statuses: int = 0  # status reports applied to a message
    opt_outs: int = 0  # customers whose consent was withdrawn


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def _status_apply(
    *, account: ChannelAccount, provider_id: str, status: str, at: datetime, error: str = ""
) -> bool:
    """Apply a status report to the account's merchant's message with this provider id."""
    if (
        not provider_id
        or not Message.objects.filter(
            merchant_id=account.merchant_id, channel=account.channel, provider_id=provider_id
        ).exists()
    ):
        return False
    return message_status_record(
        channel=account.channel, provider_id=provider_id, status=status, at=at, error=error
    )


def _reply_apply(*, account: ChannelAccount, sender: Any, text: Any) -> int:
    if not isinstance(sender, str | int) or not isinstance(text, str):
        return 0
    if not is_opt_out_text(text):
        # any other reply is kept as the conversation with the customer (langganan.care)
        from langganan.care.inbound import inbound_record

        inbound_record(
            merchant_id=account.merchant_id, channel=account.channel, sender=str(sender), text=text
        )
        return 0
    return opt_out_by_address(  # it reads 0812…, 62812… and +62812… alike
        merchant_id=account.merchant_id,
        channel=account.channel,
        address=str(sender),
        source=OPT_OUT_SOURCE,
    )


def _whatsapp_error(errors: Any) -> str:
    parts = []
    for error in _list(errors):
        error = _dict(error)
        details = _dict(error.get("error_data")).get("details")
        text = error.get("message") or error.get("title") or ""
        if details and details != text:
            text = f"{text} ({details})"
        parts.append(f"{error.get('code', '?')}: {text}")
    return "; ".join(parts)


def _whatsapp_reply_text(message: dict) -> Any:
    """The text of a customer's message: typed, or a quick-reply button's label."""
    kind = message.get("type")
    if kind == "text":
        return _dict(message.get("text")).get("body")
    if kind == "button":
        return _dict(message.get("button")).get("text")
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        return _dict(interactive.get("button_reply")).get("title")
    return None


def whatsapp_callback_apply(*, account: ChannelAccount, payload: Any) -> CallbackReport:
    """Apply a WhatsApp Cloud API webhook notification (``object: whatsapp_business_account``):
    ``entry[].changes[].value.statuses[]`` and ``value.messages[]``."""
    report = CallbackReport()
    for entry in _list(_dict(payload).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            for item in _list(value.get("statuses")):
                item = _dict(item)
                status = WHATSAPP_STATUSES.get(str(item.get("status", "")))
                if status is None or not isinstance(item.get("id"), str):
                    continue
                report.statuses += _status_apply(
                    account=account,
                    provider_id=item["id"],
                    status=status,
                    at=_when(item.get("timestamp")),
                    error=_whatsapp_error(item.get("errors")),
                )
            for message in _list(value.get("messages")):
                message = _dict(message)
                report.opt_outs += _reply_apply(
                    account=account,
                    sender=message.get("from"),
                    text=_whatsapp_reply_text(message),
                )
    return report


def _sms_provider_id(account: ChannelAccount, event: dict) -> str:
    """The provider id of the message an SMS status event is about (by ``id``, or by our
    ``reference``, the outbox message id)."""
    provider_id = event.get("id") if event.get("id") is not None else event.get("message_id")
    if isinstance(provider_id, str | int) and str(provider_id):
        return str(provider_id)
    reference = event.get("reference")
    if isinstance(reference, str | int) and str(reference).isdigit():
        found = (
            Message.objects.filter(
                merchant_id=account.merchant_id, channel=account.channel, pk=int(reference)
            )
            .values_list("provider_id", flat=True)
            .first()
        )
        return found or ""
    return ""


def sms_callback_apply(*, account: ChannelAccount, payload: Any) -> CallbackReport:
    """Apply SMS gateway callbacks: one event or a list of them, each
    ``{"type": "status", "id" | "reference": …, "status": …, "error": …, "timestamp": …}`` or
    ``{"type": "inbound", "from": …, "text": …}``."""
    report = CallbackReport()
    events = payload if isinstance(payload, list) else [payload]
    for event in events:
        event = _dict(event)
        kind = event.get("type")
        if kind == "status":
            status = SMS_STATUSES.get(str(event.get("status", "")).lower())
            if status is None:
                continue
            error = event.get("error")
            report.statuses += _status_apply(
                account=account,
                provider_id=_sms_provider_id(account, event),
                status=status,
                at=_when(event.get("timestamp")) if "timestamp" in event else timezone.now(),
                error=str(error) if error else "",
            )
        elif kind == "inbound":
            report.opt_outs += _reply_apply(
                account=account, sender=event.get("from"), text=event.get("text")
            )
    return report
