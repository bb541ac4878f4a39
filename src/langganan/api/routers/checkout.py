"""``/checkout/quote``: what a basket would cost, without recording anything."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from langganan.api.auth import api_key_of
from langganan.api.schemas import CheckoutIn, QuoteOut
from langganan.loyalty.checkout import checkout_quote

from . import PROBLEMS

router = Router(tags=["checkout"])


@router.post(
    "/checkout/quote",
    response={200: QuoteOut, **PROBLEMS},
    summary="Price a basket with vouchers and points",
)
def quote(request: HttpRequest, payload: CheckoutIn):
    """The subtotal, each discount, the total, how it is paid, and the points and cashback it
    would earn. Nothing is recorded; a refused voucher is a 422 problem with its ``reason``."""
    return checkout_quote(merchant=api_key_of(request).merchant, request=payload.to_request())
