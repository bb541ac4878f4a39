"""Vouchers: checking a code against a basket, redeeming it on a sale, giving it back on a
refund, creating codes and issuing personal codes from templates.

Policies (what a cashier and a customer can rely on):

- **Codes** are compared trimmed and case-insensitively; new codes are stored in upper case.
  Generated codes use an alphabet without 0/O and 1/I, so they can be read aloud at the counter.
- **Validity** is the half-open window ``valid_from <= at < valid_until``: a voucher valid until
  1 February 00:00 can no longer be used at 1 February 00:00. Either end may be empty (open).
- **Scope**: a voucher with a product and/or a category applies only to the basket lines that
  match the product *or* the category; only those lines' amount (``eligible_amount``) is
  discounted, and ``min_spend`` is then measured on those lines, not on the whole bill. Without a
  scope both use the ``subtotal``. A scoped voucher with no matching line is out of scope.
- **Discounts**: *fixed* gives ``value`` but never more than the eligible amount; *percent* gives
  ``value`` % of the eligible amount rounded down to whole Rupiah, then capped by
  ``max_discount``; *free item* gives the price paid for one unit of ``free_product`` (the
  cheapest such line's amount / quantity, or the whole line when less than one unit is bought)
  and needs that product in the basket, otherwise the voucher is out of scope. No discount is
  ever larger than ``subtotal``.
- **Limits**: ``uses`` counts redemptions that were not given back; it may not pass ``max_uses``
  (the database refuses it too). ``per_customer_limit`` counts the customer's redemptions that
  were not given back, and needs a known customer, as does a voucher assigned to one customer.
- **Templates** are never usable themselves; they are copied into personal single-use codes.

Redemption happens inside the caller's (checkout's) database transaction: the voucher row is
locked, the limits are checked again against fresh counts, and ``uses`` is incremented in the
database, so 50 cashiers racing for one single-use code produce exactly one redemption.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from langganan.core import units
from langganan.core.bulk import db_value, insert_rows
from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Merchant
from langganan.core.money import format_rupiah
from langganan.customers.models import Customer
from langganan.loyalty.customer_rows import personal_vouchers_of
from langganan.loyalty.members import aware, merchant_zone
from langganan.loyalty.models import (
    DiscountType,
    Member,
    Program,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from langganan.loyalty.points import SaleLine
from langganan.sales.models import Product, ProductCategory, Transaction

ZERO = Decimal("0")
CENT = Decimal("0.01")
WHOLE = Decimal("1")

REASON_NOT_FOUND = "not_found"
REASON_INACTIVE = "inactive"
REASON_NOT_YET_VALID = "not_yet_valid"
REASON_EXPIRED = "expired"
REASON_USED_UP = "used_up"
REASON_CUSTOMER_LIMIT = "customer_limit"
REASON_OTHER_CUSTOMER = "other_customer"
REASON_MEMBERS_ONLY = "members_only"
REASON_MIN_SPEND = "min_spend"
REASON_OUT_OF_SCOPE = "out_of_scope"
REASON_TEMPLATE = "template"

MSG_NOT_FOUND = "there is no voucher with this code"
MSG_INACTIVE = "this voucher has been switched off"
MSG_NOT_YET_VALID = "this voucher is not valid yet"
MSG_EXPIRED = "this voucher has expired"
MSG_USED_UP = "this voucher has been used up"
MSG_CUSTOMER_LIMIT = "this customer has already used this voucher as often as allowed"
MSG_OTHER_CUSTOMER = "this voucher belongs to another customer"
MSG_MEMBERS_ONLY = "this voucher can only be used by a known customer: choose the customer first"
MSG_MIN_SPEND = "this voucher needs a purchase of at least {amount}"
MSG_OUT_OF_SCOPE = "nothing in the basket qualifies for this voucher"
MSG_TEMPLATE = "this voucher is a template for personal codes and cannot be used itself"

REASON_MESSAGES = {
    REASON_NOT_FOUND: MSG_NOT_FOUND,
    REASON_INACTIVE: MSG_INACTIVE,
    REASON_NOT_YET_VALID: MSG_NOT_YET_VALID,
    REASON_EXPIRED: MSG_EXPIRED,
    REASON_USED_UP: MSG_USED_UP,
    REASON_CUSTOMER_LIMIT: MSG_CUSTOMER_LIMIT,
    REASON_OTHER_CUSTOMER: MSG_OTHER_CUSTOMER,
    REASON_MEMBERS_ONLY: MSG_MEMBERS_ONLY,
    REASON_MIN_SPEND: MSG_MIN_SPEND,
    REASON_OUT_OF_SCOPE: MSG_OUT_OF_SCOPE,
    REASON_TEMPLATE: MSG_TEMPLATE,
}

ERR_OTHER_MERCHANT = "the customer, sale or product belongs to another merchant"
ERR_NEGATIVE_SUBTOTAL = "the subtotal must not be negative"
ERR_ALREADY_ON_SALE = "this voucher is already used on this sale"
ERR_CODE_INVALID = "a voucher code is 3 to 32 letters, digits or dashes, without spaces"
ERR_CODE_TAKEN = "another voucher of this merchant already has this code"
ERR_SINGLE_USE_MAX_USES = "a single-use voucher is used once: max uses must be 1"
ERR_FREE_ITEM_PRODUCT = "a free-item voucher needs the product that is given away"
ERR_PERCENT_RANGE = "a percentage must be between 0 and 100"
ERR_VALUE_NEGATIVE = "the value, minimum spend and largest discount must not be negative"
ERR_VALIDITY_ORDER = "'valid from' must be before 'valid until'"
ERR_USES_READ_ONLY = "uses are counted by redemptions and cannot be set"
ERR_NOT_A_TEMPLATE = "personal codes can only be issued from a template voucher"
ERR_TEMPLATE_INACTIVE = "this template voucher is switched off"
ERR_BATCH_REQUIRED = "a batch name is required (it makes issuing the same batch again harmless)"
ERR_VALID_DAYS = "the number of valid days must not be negative"

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the counter
CODE_LENGTH = 8
_CODE_CHARS = set(CODE_ALPHABET) | set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
WELCOME_BATCH = "welcome"


class VoucherRefused(InvalidInput):
    """The voucher cannot be used for this sale; ``reason`` is one of the ``REASON_*`` codes."""

    code = "voucher_refused"

    def __init__(self, reason: str, **fmt: Any):
        super().__init__(REASON_MESSAGES[reason].format(**fmt), field="code")
        self.reason = reason


@dataclass(frozen=True)
class VoucherQuote:
    """What a voucher gives on one basket (see the module docstring for the rules)."""

    voucher: Voucher
    discount: Decimal
    free_product_id: int | None
    eligible_amount: Decimal


# -- checking ----------------------------------------------------------------------------------


def _find(merchant: Merchant, code: str) -> Voucher:
    wanted = (code or "").strip()
    if not wanted:
        raise VoucherRefused(REASON_NOT_FOUND)
    vouchers = Voucher.objects.filter(merchant=merchant)
    voucher = vouchers.filter(code=wanted.upper()).first()  # stored upper case: indexed
    if voucher is None:
        voucher = vouchers.filter(code__iexact=wanted).order_by("pk").first()
    if voucher is None:
        raise VoucherRefused(REASON_NOT_FOUND)
    return voucher


def _customer_uses(voucher: Voucher, customer: Customer) -> int:
    return VoucherRedemption.objects.filter(
        voucher=voucher, customer=customer, reversed_at__isnull=True
    ).count()


def _check_rules(voucher: Voucher, customer: Customer | None, at: datetime) -> None:
    """The basket-independent rules, in the order a cashier would want to hear them."""
    if voucher.is_template:
        raise VoucherRefused(REASON_TEMPLATE)
    if not voucher.is_active:
        raise VoucherRefused(REASON_INACTIVE)
    if voucher.valid_from is not None and at < voucher.valid_from:
        raise VoucherRefused(REASON_NOT_YET_VALID)
    if voucher.valid_until is not None and at >= voucher.valid_until:
        raise VoucherRefused(REASON_EXPIRED)
    if voucher.customer_id is not None:
        if customer is None:
            raise VoucherRefused(REASON_MEMBERS_ONLY)
        if customer.pk != voucher.customer_id:
            raise VoucherRefused(REASON_OTHER_CUSTOMER)
    if voucher.max_uses is not None and voucher.uses >= voucher.max_uses:
        raise VoucherRefused(REASON_USED_UP)
    if voucher.per_customer_limit is not None:
        if customer is None:
            raise VoucherRefused(REASON_MEMBERS_ONLY)
        if _customer_uses(voucher, customer) >= voucher.per_customer_limit:
            raise VoucherRefused(REASON_CUSTOMER_LIMIT)


def _in_scope(voucher: Voucher, line: SaleLine) -> bool:
    return (voucher.product_id is not None and line.product_id == voucher.product_id) or (
        voucher.category_id is not None and line.category_id == voucher.category_id
    )


def _free_item(voucher: Voucher, lines: Sequence[SaleLine]) -> tuple[Decimal, Decimal]:
    """(price of one free unit, amount of the free product's lines); out of scope when absent."""
    matching = [ln for ln in lines if ln.product_id == voucher.free_product_id and ln.amount > 0]
    if not matching:
        raise VoucherRefused(REASON_OUT_OF_SCOPE)
    unit_prices = [
        Decimal(ln.amount) / Decimal(ln.quantity) if Decimal(ln.quantity) > 1 else ln.amount
        for ln in matching
    ]
    price = min(unit_prices).quantize(CENT, rounding=ROUND_DOWN)
    return price, sum((Decimal(ln.amount) for ln in matching), ZERO)


def voucher_check(
    *,
    merchant: Merchant,
    code: str,
    customer: Customer | None,
    lines: Sequence[SaleLine],
    subtotal: Decimal,
    at: datetime,
) -> VoucherQuote:
    """What the voucher ``code`` gives on this basket, or :class:`VoucherRefused` with why not.

    Read-only. ``lines`` carry each line's amount after line discounts; ``subtotal`` is what is
    left of the bill (checkout passes what earlier vouchers left). Rules: module docstring.
    """
    if customer is not None and customer.merchant_id != merchant.pk:
        raise InvalidInput(ERR_OTHER_MERCHANT, field="customer")
    at = aware(at)
    subtotal = Decimal(subtotal)
    if subtotal < 0:
        raise InvalidInput(ERR_NEGATIVE_SUBTOTAL, field="subtotal")
    voucher = _find(merchant, code)
    _check_rules(voucher, customer, at)

    scoped = voucher.product_id is not None or voucher.category_id is not None
    if scoped:
        eligible = sum((Decimal(ln.amount) for ln in lines if _in_scope(voucher, ln)), ZERO)
        if eligible <= 0:
            raise VoucherRefused(REASON_OUT_OF_SCOPE)
    else:
        eligible = subtotal
    if eligible < voucher.min_spend:
        raise VoucherRefused(REASON_MIN_SPEND, amount=format_rupiah(voucher.min_spend))
    eligible = min(eligible, subtotal)

    free_product_id = None
    if voucher.discount_type == DiscountType.FREE_ITEM:
        discount, eligible = _free_item(voucher, lines)
        free_product_id = voucher.free_product_id
    elif voucher.discount_type == DiscountType.PERCENT:
        discount = (eligible * voucher.value / 100).to_integral_value(rounding=ROUND_DOWN)
        if voucher.max_discount is not None:
            discount = min(discount, voucher.max_discount)
    else:
        discount = min(voucher.value, eligible)
    discount = max(min(discount, subtotal), ZERO).quantize(CENT)
    return VoucherQuote(
        voucher=voucher,
        discount=discount,
        free_product_id=free_product_id,
        eligible_amount=eligible.quantize(CENT),
    )


# -- redeeming and giving back -----------------------------------------------------------------


def voucher_redeem(
    *,
    quote: VoucherQuote,
    customer: Customer | None,
    transaction_obj: Transaction,
    at: datetime,
) -> VoucherRedemption:
    """Use the quoted voucher on the sale ``transaction_obj``, inside the caller's transaction.

    The voucher row is locked and every rule that a concurrent sale could have changed is
    checked again; ``uses`` is incremented by the database (``uses + 1``), whose CHECK
    constraint is the last guard against going past ``max_uses``.
    """
    at = aware(at)
    with units.atomic():
        voucher = Voucher.objects.select_for_update().get(pk=quote.voucher.pk)
        if transaction_obj.merchant_id != voucher.merchant_id or (
            customer is not None and customer.merchant_id != voucher.merchant_id
        ):
            raise InvalidInput(ERR_OTHER_MERCHANT, field="transaction")
        _check_rules(voucher, customer, at)
        # by the sale (its few redemptions), not by the voucher: a shared voucher's thousands
        # of redemptions made the planner's pick a scan of them (0.6 ms under load)
        on_sale = VoucherRedemption.objects.filter(transaction=transaction_obj)
        if voucher.pk in set(on_sale.values_list("voucher_id", flat=True)):
            raise Conflict(ERR_ALREADY_ON_SALE, field="code")
        try:
            with units.atomic():
                Voucher.objects.filter(pk=voucher.pk).update(uses=F("uses") + 1)
        except IntegrityError as exc:  # the CHECK uses <= max_uses
            raise VoucherRefused(REASON_USED_UP) from exc
        return VoucherRedemption.objects.create(
            voucher=voucher,
            customer=customer,
            transaction=transaction_obj,
            discount=quote.discount,
            redeemed_at=at,
        )


def voucher_release(*, redemption: VoucherRedemption, at: datetime) -> bool:
    """Give a redemption's use back (a refunded sale): once; False when already given back."""
    at = aware(at)
    with transaction.atomic():
        # lock order as in voucher_redeem: the voucher first, then its redemption
        Voucher.objects.select_for_update().filter(pk=redemption.voucher_id).first()
        fresh = VoucherRedemption.objects.select_for_update().get(pk=redemption.pk)
        if fresh.reversed_at is not None:
            redemption.reversed_at = fresh.reversed_at
            return False
        VoucherRedemption.objects.filter(pk=fresh.pk).update(reversed_at=at)
        Voucher.objects.filter(pk=fresh.voucher_id, uses__gt=0).update(uses=F("uses") - 1)
        redemption.reversed_at = at
        return True


# -- creating and issuing ----------------------------------------------------------------------


def voucher_code_generate() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _code_taken(merchant: Merchant, code: str) -> bool:
    return Voucher.objects.filter(merchant=merchant, code__iexact=code).exists()


def _validate_fields(merchant: Merchant, fields: dict[str, Any]) -> None:
    if "uses" in fields:
        raise InvalidInput(ERR_USES_READ_ONLY, field="uses")
    kind = fields.setdefault("kind", VoucherKind.SINGLE_USE)
    if kind == VoucherKind.SINGLE_USE:
        if fields.setdefault("max_uses", 1) != 1:
            raise InvalidInput(ERR_SINGLE_USE_MAX_USES, field="max_uses")
    discount_type = fields.get("discount_type", DiscountType.FIXED)
    if discount_type == DiscountType.FREE_ITEM and fields.get("free_product") is None:
        raise InvalidInput(ERR_FREE_ITEM_PRODUCT, field="free_product")
    for name in ("value", "min_spend", "max_discount"):
        if fields.get(name) is not None and Decimal(fields[name]) < 0:
            raise InvalidInput(ERR_VALUE_NEGATIVE, field=name)
    if discount_type == DiscountType.PERCENT and Decimal(fields.get("value", 0)) > 100:
        raise InvalidInput(ERR_PERCENT_RANGE, field="value")
    start, end = fields.get("valid_from"), fields.get("valid_until")
    if start is not None and end is not None and start >= end:
        raise InvalidInput(ERR_VALIDITY_ORDER, field="valid_until")
    for name, model in (
        ("free_product", Product),
        ("product", Product),
        ("category", ProductCategory),
        ("customer", Customer),
    ):
        obj = fields.get(name)
        if obj is not None and (not isinstance(obj, model) or obj.merchant_id != merchant.pk):
            raise InvalidInput(ERR_OTHER_MERCHANT, field=name)


@transaction.atomic
def voucher_create(*, merchant: Merchant, code: str | None = None, **fields: Any) -> Voucher:
    """Create a voucher; without ``code`` a readable unique one is generated.

    ``fields`` are :class:`Voucher` fields (``name`` defaults to the code). A single-use voucher
    gets ``max_uses=1``.
    """
    _validate_fields(merchant, fields)
    if code is not None:
        code = code.strip().upper()
        if not 3 <= len(code) <= 32 or not set(code) <= _CODE_CHARS:
            raise InvalidInput(ERR_CODE_INVALID, field="code")
        if _code_taken(merchant, code):
            raise Conflict(ERR_CODE_TAKEN, field="code")
    for _attempt in range(10):
        candidate = code or voucher_code_generate()
        if code is None and _code_taken(merchant, candidate):
            continue
        try:
            with transaction.atomic():
                return Voucher.objects.create(
                    merchant=merchant, code=candidate, **{"name": candidate, **fields}
                )
        except IntegrityError:
            if not _code_taken(merchant, candidate):
                raise
            if code is not None:  # taken meanwhile by a concurrent request
                raise Conflict(ERR_CODE_TAKEN, field="code") from None
    raise Conflict(ERR_CODE_TAKEN, field="code")  # pragma: no cover (32**8 codes)


def _fresh_codes(merchant_id: int, n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        wanted = {voucher_code_generate() for _ in range(n - len(codes))} - codes
        taken = set(
            Voucher.objects.filter(merchant_id=merchant_id, code__in=wanted).values_list(
                "code", flat=True
            )
        )
        codes |= wanted - taken
    return list(codes)


def _end_of_validity(merchant: Merchant, at: datetime, valid_days: int) -> datetime:
    """Midnight (the merchant's time) after the last valid day: issued on 1 Jan for 30 days →
    usable through 31 Jan, refused from 1 Feb 00:00."""
    zone = merchant_zone(merchant)
    last_day = at.astimezone(zone).date() + timedelta(days=valid_days)
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)


_ISSUE_CHUNK = 5000
_COPIED = (
    "name",
    "discount_type",
    "value",
    "max_discount",
    "free_product_id",
    "min_spend",
    "product_id",
    "category_id",
)  # not the limits: a personal code is used once


@transaction.atomic
def voucher_issue_bulk(
    *,
    template: Voucher,
    customers: Iterable[Customer],
    at: datetime,
    batch: str,
    valid_days: int | None = None,
) -> list[Voucher]:
    """Issue one personal single-use code per customer, copied from ``template``.

    Idempotent per (batch, customer): a customer who already has a voucher of this merchant
    in ``batch`` gets nothing new, so re-running a batch issues only what is missing. Returns
    the vouchers issued by this call. Validity: ``valid_days`` from ``at`` (through the end of
    the last day, local time) when given, else the template's own window.
    """
    at = aware(at)
    if not template.is_template:
        raise InvalidInput(ERR_NOT_A_TEMPLATE, field="template")
    batch = (batch or "").strip()
    if not batch:
        raise InvalidInput(ERR_BATCH_REQUIRED, field="batch")
    if valid_days is not None and valid_days < 0:
        raise InvalidInput(ERR_VALID_DAYS, field="valid_days")
    # one issuer of this template at a time: two runs of a batch cannot both issue
    template = Voucher.objects.select_for_update().get(pk=template.pk)
    if not template.is_active:
        raise InvalidInput(ERR_TEMPLATE_INACTIVE, field="template")
    wanted: dict[int, Customer] = {}
    for customer in customers:
        if customer.merchant_id != template.merchant_id:
            raise InvalidInput(ERR_OTHER_MERCHANT, field="customers")
        wanted.setdefault(customer.pk, customer)
    have = set(
        Voucher.objects.filter(
            merchant_id=template.merchant_id, batch=batch, customer_id__in=list(wanted)
        ).values_list("customer_id", flat=True)
    )
    if valid_days is not None:
        valid_from, valid_until = at, _end_of_validity(template.merchant, at, valid_days)
    else:
        valid_from, valid_until = template.valid_from, template.valid_until
    copied = {name: getattr(template, name) for name in _COPIED}
    pending = [customer_id for customer_id in wanted if customer_id not in have]
    # Plain rows written with one statement per chunk (COPY on PostgreSQL): issuing to a whole
    # audience of 100,000 customers must not build and prepare 100,000 model instances.
    fixed = {
        "merchant": template.merchant_id,
        "kind": VoucherKind.SINGLE_USE,
        "max_uses": 1,
        "uses": 0,
        "batch": batch,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "is_template": False,
        "is_active": True,
        "created_at": timezone.now(),
        **{name.removesuffix("_id"): value for name, value in copied.items()},
    }
    columns = ("code", "customer", *fixed)
    prepared = tuple(db_value(Voucher, column, value) for column, value in fixed.items())
    for start in range(0, len(pending), _ISSUE_CHUNK):
        chunk = pending[start : start + _ISSUE_CHUNK]
        for attempt in range(5):
            codes = _fresh_codes(template.merchant_id, len(chunk))
            try:
                with transaction.atomic():
                    insert_rows(
                        Voucher,
                        columns,
                        ((code, cid, *prepared) for code, cid in zip(codes, chunk, strict=True)),
                    )
                break
            except IntegrityError:  # a code taken meanwhile by a concurrent request
                if attempt == 4:
                    raise
    issued: list[Voucher] = []
    for start in range(0, len(pending), _ISSUE_CHUNK):
        issued += Voucher.objects.filter(
            merchant_id=template.merchant_id,
            batch=batch,
            customer_id__in=pending[start : start + _ISSUE_CHUNK],
        ).order_by("id")
    return issued


def voucher_issue_welcome(*, member: Member, at: datetime) -> Voucher | None:
    """The member's welcome voucher, from the program's template: issued once per member.

    None when the program has no (active) welcome template or the member already received one.
    """
    program = (
        Program.objects.select_related("welcome_voucher")
        .filter(merchant_id=member.merchant_id, is_active=True)
        .first()
    )
    if program is None or program.welcome_voucher is None:
        return None
    if not program.welcome_voucher.is_active:
        return None
    issued = voucher_issue_bulk(
        template=program.welcome_voucher,
        customers=[member.customer],
        at=at,
        batch=WELCOME_BATCH,
        valid_days=program.welcome_voucher_days,
    )
    return issued[0] if issued else None


# -- selectors ---------------------------------------------------------------------------------


def vouchers_active_for(*, customer: Customer, at: datetime) -> list[Voucher]:
    """The customer's personal vouchers usable at ``at``, soonest to expire first.

    The customer's own uses are counted only for the vouchers that limit them (most personal
    vouchers do not), so the usual card costs one plain query.
    """
    candidates = [
        voucher
        for voucher in personal_vouchers_of(customer)
        # a customer has a few personal vouchers: their dates and uses are checked here
        if (voucher.valid_from is None or voucher.valid_from <= at)
        and (voucher.valid_until is None or voucher.valid_until > at)
        and (voucher.max_uses is None or voucher.uses < voucher.max_uses)
    ]
    limited = [v.pk for v in candidates if v.per_customer_limit is not None]
    used: dict[int, int] = {}
    if limited:
        used = dict(
            VoucherRedemption.objects.filter(
                voucher_id__in=limited, customer=customer, reversed_at__isnull=True
            )
            .order_by()
            .values("voucher_id")
            .annotate(n=Count("id"))
            .values_list("voucher_id", "n")
        )
    active = []
    for voucher in candidates:
        voucher.used_by_customer = used.get(voucher.pk, 0)
        if (
            voucher.per_customer_limit is None
            or voucher.per_customer_limit > voucher.used_by_customer
        ):
            active.append(voucher)
    return active


__all__ = [
    "VoucherQuote",
    "VoucherRefused",
    "voucher_check",
    "voucher_create",
    "voucher_issue_bulk",
    "voucher_issue_welcome",
    "voucher_redeem",
    "voucher_release",
    "vouchers_active_for",
]
