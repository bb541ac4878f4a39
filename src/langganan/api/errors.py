"""Errors as ``application/problem+json`` (RFC 9457).

Every error body has ``type``, ``title``, ``status``, ``detail`` and a machine-readable
``code``; validation errors add ``errors``: one ``{"field", "detail"}`` per bad field, the field
written as the client sent it (``lines[0].quantity``). A refused voucher adds its ``reason``.

Status codes: domain ``NotFound`` → 404 (and a voucher code the merchant does not have);
``InvalidInput`` (a refused voucher too) and
``InsufficientBalance`` → 422; ``Conflict`` → 409, except an idempotency key reused with a
different request → 422; a receipt number (``external_id``) already recorded → 409 naming the
recorded sale in ``existing_transaction``; any other database integrity error → 409 (a
duplicate) or 422 (another broken constraint); request validation → 422; a body that is not
JSON → 400; a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` → 413; a missing, unknown or revoked
API key → 401; an unknown path under ``/api/v1/``, whatever the method → 404; a method the
path does not take → 405. Anything else is logged and answered with a 500 problem — the last
resort, which no input should reach.
"""

from __future__ import annotations

import decimal
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import AuthenticationError, HttpError, ValidationError

from langganan.core.errors import Conflict, InvalidInput, LanggananError, NotFound
from langganan.loyalty.checkout import KeyInUse
from langganan.loyalty.ledger import InsufficientBalance
from langganan.loyalty.vouchers import REASON_NOT_FOUND, VoucherRefused

logger = logging.getLogger("langganan.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "urn:langganan:problem:"

CODE_IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
CODE_IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
CODE_IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
CODE_VALIDATION = "validation_error"
CODE_UNAUTHORIZED = "unauthorized"
CODE_MALFORMED = "malformed_request"
CODE_SERVER = "server_error"
CODE_BUSY = "busy"
CODE_OUT_OF_RANGE = "out_of_range"
CODE_NOT_FOUND = "not_found"
CODE_TOO_LARGE = "request_too_large"
CODE_METHOD_NOT_ALLOWED = "method_not_allowed"
CODE_DUPLICATE = "duplicate"
CODE_CONSTRAINT = "constraint_violated"

MSG_VALIDATION = "the request has invalid fields"
MSG_UNAUTHORIZED = (
    "a valid API key is required: send 'Authorization: Bearer <key>' (keys are created with "
    "'langganan apikey create')"
)
MSG_MALFORMED = "the request body is not valid JSON"
MSG_SERVER = "something went wrong on our side; the error was logged"
MSG_BUSY = "the database is busy; retry the request"
MSG_OUT_OF_RANGE = "a number in the request is out of range"
MSG_NO_ROUTE = "there is no such API endpoint"
MSG_TOO_LARGE = "the request body is larger than the limit of {limit} bytes"
MSG_METHOD_NOT_ALLOWED = "this endpoint does not take {method}; it takes {allowed}"
MSG_DUPLICATE = "the request conflicts with a record that already exists"
MSG_CONSTRAINT = "the request breaks a rule of the recorded data"
MSG_KEY_MISSING = "the Idempotency-Key header is required for this request"
MSG_KEY_INVALID = "the Idempotency-Key header must be 1 to 255 printable ASCII characters"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiProblem(Exception):
    """An error raised by the API layer itself (e.g. a missing header)."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=body["status"],
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def domain_status(exc: LanggananError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, VoucherRefused) and exc.reason == REASON_NOT_FOUND:
        return 404  # a code the merchant does not have is not found, like any other object
    if isinstance(exc, KeyInUse):
        return 409
    if isinstance(exc, Conflict):
        return 422 if exc.code == CODE_IDEMPOTENCY_KEY_REUSED else 409
    if isinstance(exc, InvalidInput | InsufficientBalance):
        return 422
    return 400


def domain_problem(exc: LanggananError) -> dict[str, Any]:
    """The problem body of a domain error (also used per item of a batch)."""
    status = domain_status(exc)
    extra: dict[str, Any] = {}
    reason = getattr(exc, "reason", None)
    if reason:
        extra["reason"] = reason
    extra.update(getattr(exc, "problem_extra", None) or {})
    errors = [{"field": exc.field, "detail": exc.message}] if exc.field else None
    return problem_body(status, exc.code, exc.message, errors=errors, **extra)


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """``["body", "payload", "lines", 0, "quantity"]`` → ``lines[0].quantity``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue  # pydantic's own steps (a union member, "[key]"), not a field
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def _validation_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        message = str(error.get("msg", "invalid value"))
        errors.append({"field": field_name(error.get("loc", ())), "detail": message})
    return problem_response(problem_body(422, CODE_VALIDATION, MSG_VALIDATION, errors=errors))


def _domain_error(request: HttpRequest, exc: LanggananError) -> HttpResponse:
    return problem_response(domain_problem(exc))


def _api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    errors = [{"field": exc.field, "detail": exc.detail}] if exc.field else None
    return problem_response(problem_body(exc.status, exc.code, exc.detail, errors=errors))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return problem_response(
            problem_body(401, CODE_UNAUTHORIZED, MSG_UNAUTHORIZED),
            headers={"WWW-Authenticate": 'Bearer realm="langganan"'},
        )
    if exc.status_code == 400:
        return problem_response(problem_body(400, CODE_MALFORMED, MSG_MALFORMED))
    return problem_response(problem_body(exc.status_code, "http_error", str(exc)))


def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("value out of range in %s %s: %s", request.method, request.path, exc)
    return problem_response(problem_body(422, CODE_OUT_OF_RANGE, MSG_OUT_OF_RANGE))


def _busy(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("database busy in %s %s: %s", request.method, request.path, exc)
    return problem_response(problem_body(503, CODE_BUSY, MSG_BUSY), headers={"Retry-After": "1"})


def _too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem_response(problem_body(413, CODE_TOO_LARGE, MSG_TOO_LARGE.format(limit=limit)))


def is_duplicate(exc: IntegrityError) -> bool:
    """Whether an integrity error is a unique constraint (on PostgreSQL or SQLite)."""
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ == "UniqueViolation":
        return True
    return "UNIQUE constraint failed" in str(exc)


def _integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    """The last line for a database constraint no service turned into a domain error: a
    duplicate is a 409, any other broken constraint a 422 — never a 500."""
    logger.warning("integrity error in %s %s: %s", request.method, request.path, exc)
    if is_duplicate(exc):
        return problem_response(problem_body(409, CODE_DUPLICATE, MSG_DUPLICATE))
    return problem_response(problem_body(422, CODE_CONSTRAINT, MSG_CONSTRAINT))


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return problem_response(problem_body(500, CODE_SERVER, MSG_SERVER))


def install_handlers(api) -> None:
    """Register the problem+json handlers on a NinjaAPI (the most specific class wins)."""
    api.add_exception_handler(Exception, _server_error)
    api.add_exception_handler(ValidationError, _validation_problem)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(LanggananError, _domain_error)
    api.add_exception_handler(ApiProblem, _api_problem)
    api.add_exception_handler(DataError, _out_of_range)
    api.add_exception_handler(decimal.InvalidOperation, _out_of_range)
    api.add_exception_handler(OverflowError, _out_of_range)
    api.add_exception_handler(OperationalError, _busy)
    api.add_exception_handler(IntegrityError, _integrity_error)
    api.add_exception_handler(RequestDataTooBig, _too_large)
    api.add_exception_handler(Http404, not_found_view)


@csrf_exempt  # the API takes no cookies: a POST to an unknown path is a 404, not a CSRF page
def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/v1/, with any method: a 404 problem rather than an HTML page."""
    return problem_response(problem_body(404, CODE_NOT_FOUND, MSG_NO_ROUTE))


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """A known path called with a method it does not take: a 405 problem with ``Allow``."""
    detail = MSG_METHOD_NOT_ALLOWED.format(method=request.method, allowed=allowed)
    return problem_response(
        problem_body(405, CODE_METHOD_NOT_ALLOWED, detail), headers={"Allow": allowed}
    )
