"""Membership cards: the member code as a QR code (PNG or SVG) and what a printed card shows.

The QR code holds the customer's member code and nothing else, so a cashier's scanner (or the
POS) types the code exactly as a cashier would. It is drawn by ``segno`` (pure Python, no
Pillow); error correction is at least level M and raised when it costs no extra size, so a
creased or scratched card still scans.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.models import Member

ERR_QR_FORMAT = "the QR code format must be svg or png"
ERR_QR_SCALE = "the QR code scale must be between 1 and 40"
ERR_QR_EMPTY = "a member code is needed for a QR code"
ERR_CARD_OTHER_MERCHANT = "the customer belongs to another merchant"

QR_FORMATS = ("svg", "png")
QR_CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
MAX_SCALE = 40


def member_card_qr(*, member_code: str, fmt: str = "svg", scale: int = 8) -> bytes:
    """The QR code of ``member_code`` as an SVG document or a PNG image.

    ``scale`` is the size of one module in pixels (SVG user units); the code keeps the standard
    quiet zone of four modules. The SVG has no XML declaration, so it can be put inline in HTML.
    """
    import segno

    code = (member_code or "").strip()
    if not code:
        raise InvalidInput(ERR_QR_EMPTY)
    if fmt not in QR_FORMATS:
        raise InvalidInput(ERR_QR_FORMAT, field="fmt")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise InvalidInput(ERR_QR_SCALE, field="scale")
    qr = segno.make_qr(code, error="m")
    out = io.BytesIO()
    if fmt == "svg":
        qr.save(out, kind="svg", scale=scale, xmldecl=False, svgclass="member-qr", lineclass=None)
    else:
        qr.save(out, kind="png", scale=scale)
    return out.getvalue()


@dataclass(frozen=True)
class MemberCard:
    """What a printed membership card shows."""

    merchant_name: str
    customer: Customer
    greeting: str
    name: str
    member_code: str
    tier: str | None
    member_since: datetime | None
    qr_svg: str


def member_card_get(*, merchant: Merchant, customer: Customer) -> MemberCard:
    """The card of ``customer`` (who must belong to ``merchant``: the caller checked it)."""
    if customer.merchant_id != merchant.pk:
        raise InvalidInput(ERR_CARD_OTHER_MERCHANT)
    member = (
        Member.objects.filter(merchant=merchant, customer=customer).select_related("tier").first()
    )
    today = timezone.localdate()
    return MemberCard(
        merchant_name=merchant.name,
        customer=customer,
        greeting=customer.greeting_on(today),
        name=customer.full_name,
        member_code=customer.member_code,
        tier=member.tier.name if member and member.tier else None,
        member_since=member.enrolled_at if member else customer.joined_at,
        qr_svg=member_card_qr(member_code=customer.member_code, fmt="svg", scale=4).decode(),
    )
