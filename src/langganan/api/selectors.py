"""Reads of the API app: API keys, and the ledger history a till pages through.

The cashier's card is in :mod:`langganan.loyalty.cashier`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import QuerySet

from langganan.core.errors import NotFound
from langganan.core.models import Merchant
from langganan.customers.selectors import customer_get
from langganan.loyalty.checkout import CheckoutRequest, checkout_quote
from langganan.loyalty.models import Entry

from .models import ApiKey
from .services import KEY_PREFIX, key_hash

MAX_KEY_LENGTH = 200


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key whose hash matches ``raw_key`` (with its merchant and outlet), or None.

    The merchant's loyalty program (there is at most one) comes in the same query: nearly
    every call of a till needs it, and reading it here spares each of them a query of its own
    (:func:`langganan.loyalty.members.program_of` uses it).
    """
    if not raw_key or not raw_key.startswith(KEY_PREFIX) or len(raw_key) > MAX_KEY_LENGTH:
        return None
    return (
        ApiKey.objects.select_related("merchant", "outlet", "merchant__loyalty_program")
        .filter(key_hash=key_hash(raw_key), revoked_at__isnull=True, outlet__is_active=True)
        .order_by("pk")  # the hash is unique: no need to sort by the model's ordering (joins)
        .first()
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
