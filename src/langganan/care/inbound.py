"""Messages customers send back by WhatsApp or SMS (not an opt-out, which
:mod:`langganan.campaigns.callbacks` handles): kept per merchant with the customer found by
their number, listed as the conversation, and turned into a complaint with one click."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from langganan.core.models import Merchant
from langganan.core.phones import normalize_phone
from langganan.customers.models import Customer

from .models import Channel, Complaint, ComplaintCategory, InboundMessage, Severity

MAX_TEXT = 4000


def _phone(sender: str) -> str | None:
    try:
        return normalize_phone(str(sender))
    except ValueError:
        return None


@transaction.atomic
def inbound_record(
    *, merchant_id: int, channel: str, sender: str, text: str, at: datetime | None = None
) -> InboundMessage | None:
    """Keep one inbound message; None for an empty text or an unreadable number."""
    text = (text or "").strip()[:MAX_TEXT]
    phone = _phone(sender)
    if not text or phone is None:
        return None
    customer = Customer.objects.filter(merchant_id=merchant_id, phone=phone).order_by("pk").first()
    return InboundMessage.objects.create(
        merchant_id=merchant_id,
        channel=channel,
        sender=phone,
        customer=customer,
        text=text,
        received_at=at or timezone.now(),
    )


@transaction.atomic
def inbound_to_complaint(*, message: InboundMessage, merchant: Merchant, by) -> Complaint:
    """The complaint made of this message (made once: a second click finds the first)."""
    from .services import categories_ensure, complaint_create

    message = InboundMessage.objects.select_for_update().get(pk=message.pk, merchant=merchant)
    if message.complaint_id is not None:
        return message.complaint
    categories_ensure(merchant=merchant)
    category = (
        ComplaintCategory.objects.filter(merchant=merchant, code="other").first()
        or ComplaintCategory.objects.filter(merchant=merchant).first()
    )
    complaint = complaint_create(
        merchant=merchant,
        text=message.text,
        channel=Channel.SMS if message.channel == "sms" else Channel.WHATSAPP,
        category=category,
        severity=Severity.MEDIUM,
        customer=message.customer,
        contact_phone="" if message.customer_id else message.sender,
        by=by,
        at=timezone.now(),
    )
    message.complaint = complaint
    message.save(update_fields=["complaint"])
    return complaint
