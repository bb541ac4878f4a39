"""Links put into messages."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from .optout import opt_out_token


def opt_out_url(*, customer_id: int, channel: str) -> str:
    """The absolute opt-out link for one customer and channel (``PUBLIC_BASE_URL`` + path)."""
    path = reverse(
        "campaigns:optout",
        kwargs={"token": opt_out_token(customer_id=customer_id, channel=channel)},
    )
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
