"""Reads of the API app: API keys, and the ledger history a till pages through.

The cashier's card is in :mod:`langganan.loyalty.cashier`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from django.db import connections
from django.db.models import QuerySet

from langganan.core import settings_cache
from langganan.core.errors import NotFound
from langganan.core.models import Merchant, Outlet
from langganan.core.rows import ModelColumns, fetch_one, model_columns, set_related
from langganan.customers.selectors import customer_get
from langganan.loyalty.checkout import CheckoutRequest, checkout_quote
from langganan.loyalty.models import Entry, Program

from .models import ApiKey
from .services import KEY_PREFIX, key_hash

MAX_KEY_LENGTH = 200


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key whose hash matches ``raw_key`` (with its merchant and outlet), or None.

    The merchant's loyalty program (there is at most one) comes in the same query: nearly
    every call of a till needs it, and reading it here spares each of them a query of its own
    (:func:`langganan.loyalty.members.program_of` uses it). Every API request runs this, so it
    is one hand-joined query (:mod:`langganan.core.rows`) instead of the ORM's
    ``select_related("merchant", "outlet", "merchant__loyalty_program")``, which cost 3.6 ms of
    CPU against 0.5 ms for this.
    """
    if not raw_key or not raw_key.startswith(KEY_PREFIX) or len(raw_key) > MAX_KEY_LENGTH:
        return None
    connection = connections[ApiKey.objects.db]
    columns = _key_columns()
    found = fetch_one(connection, _key_sql(connection.alias), [key_hash(raw_key)], columns)
    if found is None:
        return None
    key, outlet, merchant, program = found
    set_related(key, ApiKey.merchant, merchant)
    set_related(key, ApiKey.outlet, outlet)
    set_related(outlet, Outlet.merchant, merchant)
    set_related(merchant, Merchant.loyalty_program, program)
    settings_cache.mark_fresh(merchant)  # read just now: its settings stamp is current
    if program is not None:
        set_related(program, Program.merchant, merchant)
    return key


def _key_columns() -> tuple[ModelColumns, ...]:
    return (
        model_columns(ApiKey, "k"),
        model_columns(Outlet, "o"),
        model_columns(Merchant, "m"),
        model_columns(Program, "p"),
    )


@functools.lru_cache(maxsize=4)
def _key_sql(alias: str) -> str:
    """The key check's SQL for the database ``alias`` (cached by alias: each thread has its
    own connection object, the SQL is the same)."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    key, outlet, merchant, program = _key_columns()
    return (
        f"SELECT {key.sql(connection)}, {outlet.sql(connection)}, "  # noqa: S608 (names only)
        f"{merchant.sql(connection)}, {program.sql(connection)} "
        f"FROM {qn(ApiKey._meta.db_table)} k "
        f"JOIN {qn(Outlet._meta.db_table)} o ON o.id = k.outlet_id "
        f"JOIN {qn(Merchant._meta.db_table)} m ON m.id = k.merchant_id "
        f"LEFT JOIN {qn(Program._meta.db_table)} p ON p.merchant_id = m.id "
        "WHERE k.key_hash = %s AND k.revoked_at IS NULL AND o.is_active"
    )


def api_key_list(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(merchant=merchant)
        .select_related("outlet")
        .order_by("outlet__code", "-created_at")
    )


# -- ledger history ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerPage:
    count: int
    page: int
    page_size: int
    entries: list[Entry]

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.count


def customer_ledger_page(
    *, merchant: Merchant, customer_id: int, kind: str | None, page: int, page_size: int
) -> LedgerPage:
    """One page of the customer's ledger entries (points, store credit, tab), newest first.

    Raises NotFound for a customer of another merchant (the same as an unknown one)."""
    customer = customer_get(merchant=merchant, customer_id=customer_id)
    entries = Entry.objects.filter(
        account__customer=customer, account__merchant=merchant, journal__merchant=merchant
    )
    if kind:
        entries = entries.filter(account__kind=kind)
    count = entries.count()
    start = (page - 1) * page_size
    rows = list(
        entries.select_related("account", "journal").order_by("-posted_at", "-id")[
            start : start + page_size
        ]
    )
    return LedgerPage(count=count, page=page, page_size=page_size, entries=rows)


# -- vouchers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoucherCheck:
    code: str
    applies: bool
    reason: str | None = None
    detail: str | None = None
    discount: str | None = None
    quote: dict | None = None


def voucher_validate(*, merchant: Merchant, code: str, request: CheckoutRequest) -> VoucherCheck:
    """Whether the voucher ``code`` applies to the basket of ``request``, and why not.

    Read-only (a quote). A code the merchant does not have is a NotFound, like any other
    object of another merchant; a voucher that exists but does not apply answers
    ``applies=False`` with the reason (expired, used_up, min_spend, …) and its message.
    """
    from langganan.loyalty.vouchers import REASON_NOT_FOUND, VoucherRefused

    try:
        quote = checkout_quote(merchant=merchant, request=replace(request, voucher_codes=[code]))
    except VoucherRefused as exc:
        if exc.reason == REASON_NOT_FOUND:
            raise NotFound(exc.message, code="voucher_not_found", field="code") from exc
        return VoucherCheck(
            code=code.strip().upper(), applies=False, reason=exc.reason, detail=exc.message
        )
    discount = next(d for d in quote["discounts"] if d["type"] == "voucher")
    return VoucherCheck(
        code=discount["code"], applies=True, discount=discount["amount"], quote=quote
    )
