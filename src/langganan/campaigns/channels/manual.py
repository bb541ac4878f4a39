"""Manual WhatsApp: for a warung without a WhatsApp Business API account.

Campaign messages marked ``manual`` stay queued in the outbox instead of going to an API. Staff
see them as a list of ``wa.me`` links with the message already typed in (printable, or tapped on
the counter's phone); tapping one marks the message sent (:func:`manual_mark_sent`) and opens
WhatsApp, where the cashier presses send.

Consent is checked again at both steps, as for the API channels: a customer who withdrew
WhatsApp consent after the message was queued drops out of the list, and opening their message
marks it suppressed instead of sent.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from django.db import transaction

from langganan.core.errors import NotFound
from langganan.core.models import Merchant
from langganan.core.phones import whatsapp_number

from ..guardrails import consented, consented_ids
from ..models import Campaign, Message, MessageStatus

WA_ME = "https://wa.me/"
ERR_MESSAGE_NOT_FOUND = "No such manual WhatsApp message."
ERR_CONSENT_WITHDRAWN = "The customer withdrew WhatsApp consent; the message was not sent."
#: Statuses in which a manual message counts as already sent (opening it again changes nothing).
DONE_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)


def wa_me_link(phone_e164: str, text: str) -> str:
    """``https://wa.me/<digits>?text=<the message, URL-encoded>``."""
    link = WA_ME + whatsapp_number(phone_e164)
    return f"{link}?text={quote(text, safe='')}" if text else link


def manual_queue(*, merchant: Merchant, campaign: Campaign | None = None) -> list[Message]:
    """The merchant's queued manual WhatsApp messages whose customer still consents, oldest
    first (optionally of one campaign)."""
    messages = Message.objects.filter(
        merchant=merchant, manual=True, status=MessageStatus.QUEUED
    ).select_related("customer", "campaign")
    if campaign is not None:
        messages = messages.filter(campaign=campaign)
    rows = list(messages.order_by("created_at", "id"))
    allowed = consented_ids(
        merchant=merchant, channel="whatsapp", customer_ids=[m.customer_id for m in rows]
    )
    return [m for m in rows if m.customer_id in allowed]


@transaction.atomic
def manual_mark_sent(*, merchant: Merchant, message_id: int, at: datetime) -> Message:
    """Mark a queued manual message sent at ``at`` (the cashier opened its link).

    Idempotent: a message already sent is returned unchanged. When the customer no longer
    consents the message is marked suppressed instead (check ``status`` on the result).
    Another merchant's message, or one that is not manual, is :class:`NotFound`.
    """
    message = (
        Message.objects.select_for_update()
        .select_related("customer")
        .filter(merchant=merchant, manual=True, pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound(ERR_MESSAGE_NOT_FOUND)
    if message.status != MessageStatus.QUEUED:
        return message
    if not consented(customer=message.customer, channel="whatsapp"):
        message.status = MessageStatus.SUPPRESSED
        message.last_error = ERR_CONSENT_WITHDRAWN
        message.save(update_fields=["status", "last_error"])
        return message
    message.status = MessageStatus.SENT
    message.sent_at = at
    message.attempts += 1
    message.save(update_fields=["status", "sent_at", "attempts"])
    return message
