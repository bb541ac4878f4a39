"""One router per resource; handlers parse, call one service or selector, and render."""

from __future__ import annotations

from decimal import Decimal

from langganan.api.schemas import CENT, ProblemOut

#: The problems every authenticated endpoint may answer (documented in the OpenAPI schema).
PROBLEMS = {
    400: ProblemOut,
    401: ProblemOut,
    404: ProblemOut,
    409: ProblemOut,
    413: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
    500: ProblemOut,
    503: ProblemOut,
}


def money(value: Decimal | int | str) -> str:
    """Rupiah as a decimal string with two places: ``"25000.00"``."""
    return str(Decimal(value).quantize(CENT))
