"""``/vouchers/{code}/validate``: whether a voucher applies to a basket, and why not."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Router

from langganan.api.auth import api_key_of
from langganan.api.schemas import VoucherCheckIn, VoucherCheckOut
from langganan.api.selectors import VoucherCheck, voucher_validate

from . import PROBLEMS

router = Router(tags=["vouchers"])


def render_check(check: VoucherCheck) -> dict:
    return {
        "code": check.code,
        "applies": check.applies,
        "reason": check.reason,
        "detail": check.detail,
        "discount": check.discount,
        "quote": check.quote,
    }


@router.post(
    "/vouchers/{code}/validate",
    response={200: VoucherCheckOut, **PROBLEMS},
    summary="Check a voucher against a basket",
)
def voucher_check(
    request: HttpRequest,
    payload: VoucherCheckIn,
    code: str = Path(..., min_length=1, max_length=32, pattern=r"^[^\x00]+$"),
):
    """``applies: true`` with the discount and the quote, or ``applies: false`` with the
    ``reason`` (inactive, not_yet_valid, expired, used_up, customer_limit, other_customer,
    members_only, min_spend, out_of_scope, template) and a message. 404 for an unknown code."""
    check = voucher_validate(
        merchant=api_key_of(request).merchant, code=code, request=payload.to_request()
    )
    return render_check(check)
