"""``/transactions``: record a sale, a batch of offline sales, a refund — all idempotent
(see :mod:`langganan.api.idempotency`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router
from ninja.responses import Status

from langganan.api.auth import api_key_of
from langganan.api.errors import domain_problem
from langganan.api.idempotency import (
    REPLAYED_HEADER,
    header_parameter,
    idempotency_key,
    split_replayed,
)
from langganan.api.schemas import (
    MAX_ID,
    BatchIn,
    BatchOut,
    CheckoutIn,
    RefundIn,
    RefundOut,
    SaleOut,
)
from langganan.api.services import BatchItem, sale_batch_record
from langganan.loyalty.checkout import checkout, refund

from . import PROBLEMS

router = Router(tags=["transactions"])

IDEMPOTENCY_PARAMETER = header_parameter(
    "A unique key per sale (e.g. a UUID); a retry sends the same key."
)


def _replayable(response: HttpResponse, replayed: bool) -> None:
    response[REPLAYED_HEADER] = "true" if replayed else "false"


@router.post(
    "/transactions",
    response={201: SaleOut, **PROBLEMS},
    summary="Record a sale",
    openapi_extra=IDEMPOTENCY_PARAMETER,
)
def transaction_record(request: HttpRequest, response: HttpResponse, payload: CheckoutIn):
    """Record a sale with its items, payment method, customer, vouchers, points and tab
    charge. Returns the transaction, the discounts applied, the points earned, the new
    balances, the tier and a receipt line. Send the same ``Idempotency-Key`` to retry: the
    first result is replayed (``Idempotent-Replayed: true``); a different request with the same
    key is a 422, a retry while the first is still running a 409."""
    key = api_key_of(request)
    result = checkout(
        merchant=key.merchant,
        outlet=key.outlet,
        idempotency_key=idempotency_key(request),
        request=payload.to_request(),
        refuse_while_running=True,
    )
    body, replayed = split_replayed(result)
    _replayable(response, replayed)
    return Status(201, body)


def render_batch(payload: BatchIn, results: list) -> dict:
    rows, counts = [], {"recorded": 0, "replayed": 0, "failed": 0}
    for index, (item, result) in enumerate(zip(payload.transactions, results, strict=True)):
        row: dict = {"index": index, "idempotency_key": item.idempotency_key}
        if isinstance(result, dict):
            body, replayed = split_replayed(result)
            row.update(status=201, replayed=replayed, result=body)
            counts["replayed" if replayed else "recorded"] += 1
        else:
            problem = domain_problem(result)
            row.update(status=problem["status"], problem=problem)
            counts["failed"] += 1
        rows.append(row)
    return {**counts, "results": rows}


@router.post(
    "/transactions/batch",
    response={200: BatchOut, **PROBLEMS},
    summary="Record sales made while the till was offline",
)
def transaction_batch(request: HttpRequest, payload: BatchIn):
    """Up to 500 sales, each with its own ``idempotency_key`` and the time it happened. Each
    is recorded in its own database transaction; the answer has one result per sale, in order
    (201 with the sale, or a problem). Sending the same batch again records nothing new: every
    sale is replayed. A batch with a malformed sale is refused whole (422, the field named)."""
    key = api_key_of(request)
    results = sale_batch_record(
        merchant=key.merchant,
        outlet=key.outlet,
        items=[
            BatchItem(idempotency_key=item.idempotency_key, request=item.to_request())
            for item in payload.transactions
        ],
    )
    return render_batch(payload, results)


@router.post(
    "/transactions/{transaction_id}/refunds",
    response={201: RefundOut, **PROBLEMS},
    summary="Refund a sale fully or partly",
    openapi_extra=IDEMPOTENCY_PARAMETER,
)
def transaction_refund(
    request: HttpRequest,
    response: HttpResponse,
    payload: RefundIn,
    transaction_id: int = Path(..., ge=1, le=MAX_ID),
):
    """Refund ``amount`` (default: all that is left) of the sale: points earned are taken
    back, points redeemed and a tab charge given back in proportion, vouchers released on a
    full refund. Idempotent like recording a sale."""
    key = api_key_of(request)
    result = refund(
        merchant=key.merchant,
        outlet=key.outlet,
        idempotency_key=idempotency_key(request),
        request=payload.to_request(transaction_id),
        refuse_while_running=True,
    )
    body, replayed = split_replayed(result)
    _replayable(response, replayed)
    return Status(201, body)
