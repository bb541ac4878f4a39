"""Outbox rows and channel accounts for the channel tests."""

from __future__ import annotations

from langganan.campaigns.models import ChannelAccount, Message, MessageStatus


def queued_message(customer, **fields) -> Message:
    """A queued outbox message to ``customer`` (manual WhatsApp unless told otherwise)."""
    values = {
        "merchant": customer.merchant,
        "customer": customer,
        "channel": "whatsapp",
        "manual": True,
        "to": customer.phone,
        "body": f"Halo {customer.full_name}, kopi susu favoritmu menunggu! ☕",
        "status": MessageStatus.QUEUED,
    }
    return Message.objects.create(**{**values, **fields})


def channel_account(merchant, channel: str, **settings) -> ChannelAccount:
    return ChannelAccount.objects.create(merchant=merchant, channel=channel, settings=settings)
