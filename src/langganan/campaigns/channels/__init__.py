"""Channel adapters: each sends one outbox message and nothing else (see :mod:`.base`)."""

from .base import ChannelAdapter, Outgoing, SendError, SendResult, adapter_for

__all__ = ["ChannelAdapter", "Outgoing", "SendError", "SendResult", "adapter_for"]
