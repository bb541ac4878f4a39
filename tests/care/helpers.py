"""Shared set-up of the care tests: a complaint of a merchant, in a few calls."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from langganan.care.models import Channel, ComplaintCategory
from langganan.care.services import categories_ensure, complaint_create

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def category(merchant, code: str = "taste") -> ComplaintCategory:
    categories_ensure(merchant=merchant)
    return ComplaintCategory.objects.get(merchant=merchant, code=code)


def complaint(merchant, *, customer=None, at=T0, text="Kopinya dingin", **kwargs):
    return complaint_create(
        merchant=merchant,
        text=text,
        channel=kwargs.pop("channel", Channel.IN_PERSON),
        category=kwargs.pop("category", None) or category(merchant),
        customer=customer,
        at=at,
        **kwargs,
    )
