"""``/customers``: the cashier's card, registration at the counter, the ledger history."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from langganan.api.auth import api_key_of
from langganan.api.schemas import (
    MAX_ID,
    CardOut,
    CustomerIn,
    LedgerPageOut,
    RegistrationOut,
    text,
)
from langganan.api.selectors import LedgerPage, customer_ledger_page
from langganan.api.services import Registration, member_register
from langganan.loyalty.cashier import CustomerCard, customer_card_get

from . import PROBLEMS, money

router = Router(tags=["customers"])


class LookupQuery(Schema):
    phone: text(32, 1) | None = Field(None, description="any common form: 0812…, +62812…")
    member_code: text(32, 1) | None = None


class LedgerQuery(Schema):
    ledger: Literal["points", "credit", "tab"] | None = Field(
        None, description="only this balance (default: all three)"
    )
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=200)


def render_card(card: CustomerCard) -> dict:
    customer = card.customer
    return {
        "id": customer.pk,
        "member_code": customer.member_code,
        "full_name": customer.full_name,
        "greeting": card.greeting,
        "salutation": card.salutation,
        "phone": customer.phone,
        "member": card.is_member,
        "tier": card.tier,
        "points": card.points,
        "points_value": money(card.points_value),
        "store_credit": money(card.store_credit),
        "tab": {"owed": money(card.tab_owed), "limit": money(card.tab_limit)},
        "vouchers": [
            {
                "code": v.code,
                "name": v.name,
                "discount_type": v.discount_type,
                "value": money(v.value),
                "valid_until": v.valid_until,
            }
            for v in card.vouchers
        ],
        "birthday_this_week": card.birthday_this_week,
        "lifecycle": card.lifecycle,
        "segment": card.segment,
        "usual_order": card.usual_order,
        "cross_sell": card.cross_sell,
        "next_purchase_date": card.next_purchase_date,
        "suggested_action": card.suggested_action,
        "p_alive": card.p_alive,
        "p_alive_low": card.p_alive_low,
        "p_alive_high": card.p_alive_high,
        "clv": _money_or_none(card.clv),
        "clv_low": _money_or_none(card.clv_low),
        "clv_high": _money_or_none(card.clv_high),
        "clv_note": card.clv_note or None,
        "evidence": card.evidence or None,
        "open_complaints": card.open_complaints,
        "last_rating": card.last_rating,
    }


def _money_or_none(value) -> str | None:
    return None if value is None else money(value)


@router.get(
    "/customers/lookup",
    response={200: CardOut, **PROBLEMS},
    summary="The customer's card for the cashier",
)
def customer_lookup(request: HttpRequest, query: Query[LookupQuery]):
    """Look a customer up by phone number or member code (exactly one of them): name and
    greeting, tier, points, tab, vouchers, birthday, lifecycle stage, the usual order,
    cross-sell suggestions, the probability of being active and the 12-month value with their
    80 % intervals (and why a value is missing), and one suggested action. 404 when the
    merchant has no such customer."""
    card = customer_card_get(
        merchant=api_key_of(request).merchant, phone=query.phone, member_code=query.member_code
    )
    return render_card(card)


def render_registration(registration: Registration) -> dict:
    customer, member = registration.customer, registration.member
    return {
        "id": customer.pk,
        "member_code": customer.member_code,
        "full_name": customer.full_name,
        "salutation": customer.salutation,
        "phone": customer.phone,
        "email": customer.email,
        "consents": registration.consents,
        "member": member is not None,
        "tier": member.tier.name if member is not None and member.tier is not None else None,
        "referral_code": member.referral_code if member is not None else None,
    }


@router.post(
    "/customers",
    response={201: RegistrationOut, **PROBLEMS},
    summary="Register a member at the counter",
)
def customer_register(request: HttpRequest, payload: CustomerIn):
    """Register a customer with the marketing consent they gave, per channel; they are
    enrolled in the loyalty program when the merchant has one. 409 when the phone number or
    member code is already taken."""
    key = api_key_of(request)
    registration = member_register(
        merchant=key.merchant,
        outlet=key.outlet,
        full_name=payload.full_name,
        phone=payload.phone,
        email=payload.email,
        gender=payload.gender,
        greeting=payload.greeting,
        birth_date=payload.birth_date,
        member_code=payload.member_code,
        consents=payload.consents,
        consent_wording_version=payload.consent_wording_version,
        referral_code=payload.referral_code,
    )
    return Status(201, render_registration(registration))


def render_ledger(page: LedgerPage) -> dict:
    return {
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
        "next_page": page.page + 1 if page.has_next else None,
        "items": [
            {
                "id": entry.pk,
                "posted_at": entry.posted_at,
                "ledger": entry.account.kind,
                "kind": entry.journal.kind,
                "label": str(entry.journal.get_kind_display()),
                "amount": str(int(entry.amount))
                if entry.account.kind == "points"
                else money(entry.amount),
                "transaction_id": entry.journal.transaction_id,
                "memo": entry.journal.memo,
            }
            for entry in page.entries
        ],
    }


@router.get(
    "/customers/{customer_id}/ledger",
    response={200: LedgerPageOut, **PROBLEMS},
    summary="Points, store credit and tab history",
)
def customer_ledger(
    request: HttpRequest,
    query: Query[LedgerQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
):
    """The customer's ledger entries, newest first, a page at a time."""
    page = customer_ledger_page(
        merchant=api_key_of(request).merchant,
        customer_id=customer_id,
        kind=query.ledger,
        page=query.page,
        page_size=query.page_size,
    )
    return render_ledger(page)
