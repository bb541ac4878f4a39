"""``POST /api/v1/complaints`` and ``POST /api/v1/feedback``: a POS records a complaint told at
the counter, or the rating a customer gave on the till's screen after paying.

Both need an ``Idempotency-Key`` header and behave like ``POST /transactions`` (see
:mod:`langganan.api.idempotency`): the same key with the same body replays the first answer
(``Idempotent-Replayed: true``), with another body it is a 422, while the first is still running
a 409. The key's record is written in the same database transaction as the complaint or the
feedback; a refused request records nothing.

- A complaint names one of the merchant's active categories by its code (``taste``, ``order``,
  ``waiting``, ``staff``, ``price``, ``cleanliness``, ``payment``, ``other``) or its name; any
  other is a 422 ``unknown_category`` listing the known codes.
- Feedback is one per sale: a second answer for a sale (with a new key) is a 409
  ``feedback_exists`` naming the recorded one in ``existing_feedback``. A rating at or below
  the merchant's threshold opens a complaint, as on the public feedback page.
- A customer or a sale of another merchant is a 404, as everywhere in the API.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from langganan.api.auth import api_key_of
from langganan.api.idempotency import (
    REPLAYED_HEADER,
    header_parameter,
    idempotency_key,
    split_replayed,
)
from langganan.api.routers import PROBLEMS
from langganan.api.schemas import Id, InputSchema, Time
from langganan.api.schemas import text as bounded
from langganan.core.errors import Conflict, InvalidInput, NotFound
from langganan.core.models import Merchant, Outlet
from langganan.core.units import one_unit
from langganan.customers.models import Customer
from langganan.sales.models import Transaction, TransactionKind

from .models import Channel, ComplaintCategory, Feedback, Severity

router = Router(tags=["care"])

OPERATION_COMPLAINT = "complaint"
OPERATION_FEEDBACK = "feedback"

ERR_UNKNOWN_CATEGORY = "unknown complaint category: {category} (known: {known})"
ERR_CUSTOMER_NOT_FOUND = "customer not found"
ERR_SALE_NOT_FOUND = "sale not found"
ERR_NOT_A_SALE = "feedback is given on a sale, not on a refund"
ERR_FEEDBACK_EXISTS = "this sale already has its feedback (one answer per sale)"
CODE_UNKNOWN_CATEGORY = "unknown_category"
CODE_FEEDBACK_EXISTS = "feedback_exists"

ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
SeverityName = Literal[tuple(Severity.values)]  # type: ignore[valid-type]

COMPLAINT_KEY = header_parameter(
    "A unique key per complaint (e.g. a UUID); a retry sends the same key."
)
FEEDBACK_KEY = header_parameter(
    "A unique key per answer (e.g. a UUID); a retry sends the same key."
)


# -- schemas ------------------------------------------------------------------------------------


class ComplaintIn(InputSchema):
    text: bounded(4000, 1) = Field(description="what happened, in the customer's words")
    category: bounded(60, 1) = Field(
        description="the code (taste, order, waiting, staff, price, cleanliness, payment, "
        "other) or the name of one of the merchant's active categories"
    )
    channel: ChannelName = Field("in_person", description="how the complaint came in")
    severity: SeverityName = "medium"
    customer_id: Id | None = None
    transaction_id: Id | None = Field(None, description="the sale it is about")
    contact_name: bounded(200) = Field("", description="someone who is not a customer")
    contact_phone: bounded(32) = ""
    received_at: Time | None = Field(None, description="default: now")


class ComplaintOut(Schema):
    id: int
    status: str
    category: str
    category_name: str
    severity: str
    channel: str
    customer_id: int | None
    transaction_id: int | None
    outlet: str | None
    created_at: str
    response_due: str
    resolution_due: str


class FeedbackIn(InputSchema):
    transaction_id: Id = Field(description="the sale the answer is about (one answer per sale)")
    rating: int = Field(strict=True, ge=1, le=5, description="1 (bad) to 5 (very good)")
    nps: int | None = Field(
        None, strict=True, ge=0, le=10, description="would recommend us, 0 to 10"
    )
    comment: bounded(2000) = ""
    suggestion: bounded(2000) = Field("", description="a suggestion for the business (saran)")


class FeedbackOut(Schema):
    id: int
    transaction_id: int
    customer_id: int | None
    rating: int
    nps: int | None
    complaint_id: int | None = Field(description="the complaint a low rating opened")
    created_at: str


# -- services (idempotent, one database transaction each) ---------------------------------------


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _category(merchant: Merchant, wanted: str) -> ComplaintCategory:
    from .services import categories_ensure

    categories_ensure(merchant=merchant)
    wanted = wanted.strip()
    active = ComplaintCategory.objects.filter(merchant=merchant, is_active=True)
    found = active.filter(Q(code=wanted) | Q(name__iexact=wanted)).first()
    if found is None:
        known = ", ".join(code for code in active.values_list("code", flat=True) if code)
        raise InvalidInput(
            ERR_UNKNOWN_CATEGORY.format(category=wanted, known=known),
            field="category",
            code=CODE_UNKNOWN_CATEGORY,
        )
    return found


def _complaint_result(complaint) -> dict[str, Any]:
    """The API's answer: the webhook events' payload (:func:`complaint_payload`) as the
    complaint stands when it is recorded, its times as ISO 8601."""
    from .events import complaint_payload

    payload = complaint_payload(complaint)
    result = {"id": payload.pop("complaint_id")}
    for key in ("status", "category", "category_name", "severity", "channel", "customer_id"):
        result[key] = payload[key]
    result.update(transaction_id=payload["transaction_id"], outlet=payload["outlet"])
    for key in ("created_at", "response_due", "resolution_due"):
        result[key] = payload[key].isoformat()
    return result


def complaint_record(
    *,
    merchant: Merchant,
    outlet: Outlet | None,
    idempotency_key: str,
    data: dict[str, Any],
    refuse_while_running: bool = False,
) -> dict[str, Any]:
    """Record a complaint from a POS once per ``idempotency_key``; ``data`` is
    :class:`ComplaintIn`'s fields. Returns the complaint with ``"replayed"``."""
    from langganan.loyalty.checkout import _claim_key, _refuse_if_running

    from .services import complaint_create

    with one_unit():
        if refuse_while_running:
            _refuse_if_running(
                merchant=merchant, operation=OPERATION_COMPLAINT, key=idempotency_key
            )
        customer = sale = None
        if data.get("customer_id") is not None:
            customer = Customer.objects.filter(merchant=merchant, pk=data["customer_id"]).first()
            if customer is None:
                raise NotFound(ERR_CUSTOMER_NOT_FOUND, field="customer_id")
        if data.get("transaction_id") is not None:
            sale = (
                Transaction.objects.filter(merchant=merchant, pk=data["transaction_id"])
                .select_related("customer", "outlet")
                .first()
            )
            if sale is None:
                raise NotFound(ERR_SALE_NOT_FOUND, field="transaction_id")
        category = _category(merchant, data["category"])
        claimed = _claim_key(
            merchant=merchant,
            outlet=outlet,
            operation=OPERATION_COMPLAINT,
            key=idempotency_key,
            fingerprint=_fingerprint(data),
        )
        if isinstance(claimed, dict):
            return claimed
        complaint = complaint_create(
            merchant=merchant,
            text=data["text"],
            channel=data["channel"],
            category=category,
            severity=data["severity"],
            customer=customer,
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
            outlet=None if sale is not None else outlet,
            transaction_obj=sale,
            at=data.get("received_at"),
        )
        result = _complaint_result(complaint)
        claimed.response = result
        claimed.save(update_fields=["response"])
    return {**result, "replayed": False}


class FeedbackExists(Conflict):
    """A second answer for a sale; the problem names the recorded one."""

    def __init__(self, existing: Feedback):
        super().__init__(ERR_FEEDBACK_EXISTS, code=CODE_FEEDBACK_EXISTS, field="transaction_id")
        self.problem_extra = {
            "existing_feedback": {
                "id": existing.pk,
                "rating": existing.rating,
                "created_at": existing.created_at.isoformat(),
            }
        }


def feedback_record(
    *,
    merchant: Merchant,
    outlet: Outlet | None,
    idempotency_key: str,
    data: dict[str, Any],
    refuse_while_running: bool = False,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record the answer for one of the merchant's sales once per ``idempotency_key``; a second
    answer for the sale is :class:`FeedbackExists`."""
    from langganan.loyalty.checkout import _claim_key, _refuse_if_running

    from .feedback import feedback_submit

    with one_unit():
        if refuse_while_running:
            _refuse_if_running(merchant=merchant, operation=OPERATION_FEEDBACK, key=idempotency_key)
        sale = (
            Transaction.objects.select_for_update()
            .filter(merchant=merchant, pk=data["transaction_id"])
            .first()
        )
        if sale is None:
            raise NotFound(ERR_SALE_NOT_FOUND, field="transaction_id")
        claimed = _claim_key(
            merchant=merchant,
            outlet=outlet,
            operation=OPERATION_FEEDBACK,
            key=idempotency_key,
            fingerprint=_fingerprint(data),
        )
        if isinstance(claimed, dict):
            return claimed
        if sale.kind != TransactionKind.SALE:
            raise InvalidInput(ERR_NOT_A_SALE, field="transaction_id")
        existing = Feedback.objects.filter(transaction=sale).first()
        if existing is not None:
            raise FeedbackExists(existing)
        sale = Transaction.objects.select_related("merchant", "outlet", "customer").get(pk=sale.pk)
        answer = feedback_submit(
            sale=sale,
            rating=data["rating"],
            nps=data.get("nps"),
            comment=data.get("comment", ""),
            suggestion=data.get("suggestion", ""),
            at=at,
        )
        result = {
            "id": answer.pk,
            "transaction_id": sale.pk,
            "customer_id": answer.customer_id,
            "rating": answer.rating,
            "nps": answer.nps,
            "complaint_id": answer.complaint_id,
            "created_at": answer.created_at.isoformat(),
        }
        claimed.response = result
        claimed.transaction_id = sale.pk
        claimed.save(update_fields=["response", "transaction"])
    return {**result, "replayed": False}


# -- endpoints ----------------------------------------------------------------------------------


def _answer(response: HttpResponse, result: dict[str, Any]):
    body, replayed = split_replayed(result)
    response[REPLAYED_HEADER] = "true" if replayed else "false"
    return HttpStatus(201, body)


@router.post(
    "/complaints",
    response={201: ComplaintOut, **PROBLEMS},
    summary="Record a complaint",
    openapi_extra=COMPLAINT_KEY,
)
def complaint_post(request: HttpRequest, response: HttpResponse, payload: ComplaintIn):
    """Record a complaint told at the counter (status ``new``), about a customer or someone
    who is not one (``contact_name``), optionally about a sale. Returns the complaint with its
    first-response and resolution deadlines. An unknown category is a 422
    (``unknown_category``), a customer or sale of another merchant a 404. Send the same
    ``Idempotency-Key`` to retry."""
    key = api_key_of(request)
    result = complaint_record(
        merchant=key.merchant,
        outlet=key.outlet,
        idempotency_key=idempotency_key(request),
        data=payload.dict(),
        refuse_while_running=True,
    )
    return _answer(response, result)


@router.post(
    "/feedback",
    response={201: FeedbackOut, **PROBLEMS},
    summary="Record a customer's feedback on a sale",
    openapi_extra=FEEDBACK_KEY,
)
def feedback_post(request: HttpRequest, response: HttpResponse, payload: FeedbackIn):
    """Record the rating (1-5), the would-recommend score (0-10), a comment and a suggestion a
    customer gave about a sale. One answer per sale: another is a 409 (``feedback_exists``,
    the recorded one in ``existing_feedback``). A rating at or below the merchant's threshold
    opens a complaint (``complaint_id``). Send the same ``Idempotency-Key`` to retry."""
    key = api_key_of(request)
    result = feedback_record(
        merchant=key.merchant,
        outlet=key.outlet,
        idempotency_key=idempotency_key(request),
        data=payload.dict(),
        refuse_while_running=True,
    )
    return _answer(response, result)
