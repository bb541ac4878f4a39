"""``/customers/{id}/tab/payments``: a POS settles a customer's tab (kasbon), fully or partly,
idempotently (see :mod:`langganan.api.idempotency`)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from langganan.api.auth import api_key_of
from langganan.api.idempotency import (
    REPLAYED_HEADER,
    header_parameter,
    idempotency_key,
    split_replayed,
)
from langganan.api.schemas import MAX_ID, InputSchema, Money, PositiveMoneyIn, Time, text
from langganan.loyalty.models import TabPaymentMethod
from langganan.loyalty.tab_payments import tab_payment_record

from . import PROBLEMS

router = Router(tags=["customers"])

TabMethodName = Literal[tuple(TabPaymentMethod.values)]  # type: ignore[valid-type]

IDEMPOTENCY_PARAMETER = header_parameter(
    "A unique key per payment (e.g. a UUID); a retry sends the same key."
)


class TabPaymentIn(InputSchema):
    amount: PositiveMoneyIn = Field(description="at most what the customer owes")
    method: TabMethodName = Field("cash", description="how the customer paid")
    note: text(200) = ""
    paid_at: Time | None = Field(None, description="default: now")


class TabPaymentRefOut(Schema):
    id: int
    amount: Money
    method: str
    paid_at: str
    journal_id: int
    outlet: str | None


class TabStateOut(Schema):
    owed: Money
    limit: Money
    settled: bool


class TabPaymentOut(Schema):
    payment: TabPaymentRefOut
    customer_id: int
    tab: TabStateOut


@router.post(
    "/customers/{customer_id}/tab/payments",
    response={201: TabPaymentOut, **PROBLEMS},
    summary="Record a payment towards a customer's tab (kasbon)",
    openapi_extra=IDEMPOTENCY_PARAMETER,
)
def tab_payment(
    request: HttpRequest,
    response: HttpResponse,
    payload: TabPaymentIn,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
):
    """Record a full or partial payment of what the customer owes on their tab, paid in
    ``method`` at the key's outlet. Returns the payment and what the customer still owes. More
    than the customer owes is a 422 (the tab never holds money for the customer); another
    merchant's customer a 404. Send the same ``Idempotency-Key`` to retry: the first result is
    replayed (``Idempotent-Replayed: true``); a different request with the same key is a 422, a
    retry while the first is still running a 409."""
    key = api_key_of(request)
    result = tab_payment_record(
        merchant=key.merchant,
        customer_id=customer_id,
        amount=payload.amount,
        method=payload.method,
        idempotency_key=idempotency_key(request),
        outlet=key.outlet,
        memo=payload.note,
        at=payload.paid_at,
        refuse_while_running=True,
    )
    body, replayed = split_replayed(result)
    response[REPLAYED_HEADER] = "true" if replayed else "false"
    return Status(201, body)
