"""Opt-outs and delivery status reports coming back from the channels.

An opt-out (the link in a message, or a reply STOP / BERHENTI) is a consent withdrawal for that
channel, appended to the customer's consent history; it takes effect at once, because consent is
checked again when each queued message is sent (:mod:`.guardrails`). Opt-out links carry a signed
token, so nobody can unsubscribe somebody else by guessing ids.
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db import transaction
from django.utils import timezone

from langganan.core.errors import InvalidInput
from langganan.core.phones import normalize_phone
from langganan.customers.models import Channel, Customer
from langganan.customers.services import consent_record

from .models import Message, MessageStatus

OPT_OUT_SALT = "langganan.campaigns.opt-out"
OPT_OUT_WORDS = frozenset({"STOP", "BERHENTI", "UNSUBSCRIBE", "STOP ALL", "BATAL"})
ERR_OPT_OUT_LINK = "This opt-out link is not valid."

#: Status order: a late "delivered" report never overwrites "read".
_STATUS_RANK = {
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}


def opt_out_token(*, customer_id: int, channel: str) -> str:
    """A signed token naming the customer and channel (for the opt-out link)."""
    return signing.dumps({"c": customer_id, "ch": channel}, salt=OPT_OUT_SALT, compress=True)


def opt_out_read(token: str) -> tuple[int, str]:
    """``(customer_id, channel)`` from a token; :class:`InvalidInput` when forged or damaged."""
    try:
        data = signing.loads(token, salt=OPT_OUT_SALT)
        customer_id, channel = int(data["c"]), str(data["ch"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(ERR_OPT_OUT_LINK) from exc
    if channel not in Channel.values:
        raise InvalidInput(ERR_OPT_OUT_LINK)
    return customer_id, channel


@transaction.atomic
def opt_out_record(*, customer: Customer, channel: str, source: str) -> bool:
    """Withdraw the customer's consent for ``channel``; False when it was already withdrawn."""
    latest = (
        customer.consent_events.filter(channel=channel)
        .order_by("-occurred_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    if latest is False:
        return False
    consent_record(customer=customer, channel=channel, granted=False, source=source)
    return True


def is_opt_out_text(text: str) -> bool:
    """Whether an inbound reply asks to stop (STOP, BERHENTI, …; case and spaces ignored)."""
    return " ".join((text or "").upper().split()).strip(" .!") in OPT_OUT_WORDS


def _phone(address: str) -> str | None:
    """E.164 from what a channel reports: ``0812…`` and ``+62812…`` as written, ``62812…``
    (WhatsApp's digits, without the plus) as an international number."""
    address = address.strip()
    for candidate in (address, "+" + address):
        try:
            phone = normalize_phone(candidate)
        except ValueError:
            continue
        if phone:
            return phone
    return None


def opt_out_by_address(*, merchant_id: int, channel: str, address: str, source: str) -> int:
    """Opt out every customer of the merchant with this phone (or email); returns how many."""
    if channel == Channel.EMAIL:
        customers = Customer.objects.filter(merchant_id=merchant_id, email__iexact=address.strip())
    else:
        phone = _phone(address)
        if phone is None:
            return 0
        customers = Customer.objects.filter(merchant_id=merchant_id, phone=phone)
    return sum(opt_out_record(customer=c, channel=channel, source=source) for c in customers)


@transaction.atomic
def message_status_record(
    *, channel: str, provider_id: str, status: str, at: datetime | None = None, error: str = ""
) -> bool:
    """Apply a provider's status report (sent, delivered, read, failed) to its message.

    Reports may arrive late or out of order; a message never moves back (read stays read).
    Returns False when no message has this provider id.
    """
    at = at or timezone.now()
    message = (
        Message.objects.select_for_update()
        .filter(channel=channel, provider_id=provider_id)
        .exclude(provider_id="")
        .first()
    )
    if message is None:
        return False
    if status == MessageStatus.FAILED:
        if message.status not in (MessageStatus.DELIVERED, MessageStatus.READ):
            message.status = MessageStatus.FAILED
            message.last_error = (error or "reported failed by the channel")[:500]
            message.save(update_fields=["status", "last_error"])
        return True
    rank = _STATUS_RANK.get(status)
    if rank is None:
        return True
    if rank > _STATUS_RANK.get(message.status, 0):
        message.status = status
    if status == MessageStatus.DELIVERED and message.delivered_at is None:
        message.delivered_at = at
    if status == MessageStatus.READ:
        message.read_at = message.read_at or at
        message.delivered_at = message.delivered_at or at
    message.save(update_fields=["status", "delivered_at", "read_at"])
    return True
