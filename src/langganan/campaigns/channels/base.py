"""The one interface every channel adapter implements.

An adapter turns an :class:`Outgoing` message into one provider call and reports the provider's
message id, or raises :class:`SendError` saying whether a retry may help. Adapters hold no
state between calls and never touch the database: the outbox worker (:mod:`..delivery`) claims,
sends and records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from ..models import ChannelAccount


@dataclass(frozen=True)
class Outgoing:
    """One message as the channel sends it."""

    message_id: int
    to: str  # E.164 phone for WhatsApp and SMS, an address for email
    body: str
    subject: str = ""
    language: str = "id"
    template_name: str = ""  # WhatsApp: the approved template
    template_params: list[str] = field(default_factory=list)
    opt_out_url: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class SendError(Exception):
    """The provider refused or could not be reached; ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ChannelAdapter(Protocol):
    channel: str

    def send(self, outgoing: Outgoing) -> SendResult:
        """Send one message; raise :class:`SendError` when it was not accepted."""


#: The adapter class (or any callable taking the account's ``settings``) for each channel, by
#: dotted path so the defaults are imported only when used; tests replace one entry.
ADAPTERS: dict[str, str | Callable[[dict], ChannelAdapter]] = {
    "email": "langganan.campaigns.channels.email.EmailAdapter",
    "whatsapp": "langganan.campaigns.channels.whatsapp.WhatsAppCloudAdapter",
    "sms": "langganan.campaigns.channels.sms.SmsGatewayAdapter",
}


def adapter_for(account: ChannelAccount) -> ChannelAdapter:
    """The adapter for a merchant's channel account, built from its ``settings``."""
    factory = ADAPTERS[account.channel]
    if isinstance(factory, str):
        factory = import_string(factory)
    return factory(account.settings)
