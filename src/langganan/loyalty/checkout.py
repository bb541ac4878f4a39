"""Checkout and refund: the one service the POS API and the dashboard call.

:func:`checkout` takes a basket with optional voucher codes, points to redeem, store credit and
a tab charge, and in one database transaction validates everything, records the sale, applies
the discounts, posts the points, cashback and referral rewards, and updates the tier. Every call
carries an idempotency key: the same key with the same request returns the stored result and
changes nothing more; the same key with a different request is refused.

How a bill is settled, in order:

1. ``subtotal`` = Σ quantity × unit price − line discounts;
2. vouchers, in the order given, each on what is left of the bill (a voucher never makes it
   negative);
3. points: ``points × point_value``, at most the program's share of what is left after the
   vouchers, and never more than is left; a reward from the catalogue adds its item as a free
   line and costs its points (redeemed together with the discount points, oldest lots first);
4. ``total`` = what is left — the sale's revenue, recorded on the transaction;
5. store credit, then the tab, pay part of ``total``; the rest is paid with ``payment_method``
   (``tab``: the rest goes on the tab too), or split across ``payments``: a list of
   ``(method, amount)``, each amount above 0 and each method once, that must add up to the
   amount due — ``total`` less the ``store_credit`` and ``tab_charge`` fields — to the cent
   (:data:`ERR_PAYMENTS_SUM` otherwise). A payment of method ``tab`` is charged to the tab (within
   its limit) and one of ``store_credit`` is paid from the customer's store credit, exactly as the
   two fields are.

The sale records how it was paid as :class:`~langganan.sales.models.TransactionPayment` rows
(one bulk insert): one per method that paid part of ``total`` — store credit and the tab
included, points and vouchers not (they are discounts) — and they add up to ``total``. Its
``payment_method`` is the method that paid the largest part (on a tie, the first of
``payment_method``/the payments in the order given, then store credit, then the tab); a sale
with nothing left to pay keeps ``payment_method``. The basket's ``note`` (at most
:data:`NOTE_MAX_LENGTH` characters) is kept on the sale.

Points and cashback are earned on ``total`` minus the store credit used (credit was earned as a
reward, so it does not earn again); a sale charged to the tab earns like one paid in cash.
Only enrolled members earn; a walk-in or a customer who is not a member can still use shared
vouchers.

:func:`refund` reverses a sale fully or partly. With ``share`` = refunded money / sale total
(cumulative over the sale's refunds): points and cashback earned are taken back and points
redeemed are given back up to ``round(share × amount)`` in total, so nothing is reversed twice;
vouchers used are given back when the sale is refunded in full; a tab charge is credited back
before any money is returned.

A sale with a customer also updates the customer's stored insight in the same transaction
(:mod:`langganan.insights.live`); a refund does not (the engine counts only sales).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, connection
from django.utils import timezone

from langganan.core import settings_cache
from langganan.core.errors import Conflict, InvalidInput, NotFound
from langganan.core.models import Merchant, Outlet
from langganan.core.money import format_rupiah
from langganan.core.rows import insert_unless_exists
from langganan.core.units import one_unit
from langganan.customers.models import Customer
from langganan.loyalty.customer_rows import customer_with_member, products_by_id
from langganan.loyalty.ledger import (
    customer_account,
    customer_accounts_lock,
    system_accounts,
)
from langganan.loyalty.members import program_of
from langganan.loyalty.models import (
    Account,
    CheckoutRecord,
    Journal,
    Member,
    Program,
    Reward,
    VoucherRedemption,
)
from langganan.sales.models import (
    LineItem,
    PaymentMethod,
    SalesChannel,
    Transaction,
    TransactionKind,
    TransactionPayment,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")

ERR_EMPTY_BASKET = "the basket is empty"
ERR_BAD_QUANTITY = "line {n}: quantity must be more than 0"
ERR_BAD_PRICE = "line {n}: unit price must not be negative"
ERR_BAD_LINE_DISCOUNT = "line {n}: the discount must be between 0 and the line amount"
ERR_UNKNOWN_PRODUCT = "line {n}: product {id} is not on this merchant's menu"
ERR_PAYMENT_METHOD = "payment method must be one of: {choices}"
ERR_CHANNEL = "channel must be one of: {choices}"
ERR_POINTS_NEGATIVE = "points to redeem must not be negative"
ERR_POINTS_NEED_MEMBER = "only members can redeem points"
ERR_POINTS_TOO_MANY = (
    "at most {allowed} points can pay for this bill ({share}% of it may be paid with points)"
)
ERR_POINTS_BELOW_MINIMUM = "at least {minimum} points are needed to redeem"
ERR_POINTS_BALANCE = "not enough points: {balance} available, {wanted} requested"
ERR_CREDIT_NEGATIVE = "store credit and tab amounts must not be negative"
ERR_CREDIT_NEEDS_CUSTOMER = "store credit and tab need a customer"
ERR_CREDIT_BALANCE = "not enough store credit: Rp {balance} available"
ERR_OVERPAID = "store credit and tab together exceed the bill (Rp {total})"
ERR_TAB_LIMIT = "this would exceed the tab limit: Rp {available} still available"
ERR_PAYMENTS_SUM = "the payments add up to Rp {paid} but Rp {due} is to be paid"
ERR_PAYMENT_AMOUNT = "payment {n}: the amount must be more than 0"
ERR_PAYMENT_TWICE = "payment method {method} is given twice"
#: the same two refusals in Indonesian, for a till's screen (``detail_id`` of the API problem)
ERR_PAYMENTS_SUM_ID = "Jumlah pembayaran {paid}, padahal yang harus dibayar {due}."
ERR_PAYMENT_TWICE_ID = "Metode pembayaran {method} disebut dua kali."
ERR_NOTE_TOO_LONG = "the note must be at most {max} characters"
#: the longest note a sale keeps (the column holds 500)
NOTE_MAX_LENGTH = 500
ERR_DUPLICATE_VOUCHER = "voucher {code} is given twice"
ERR_UNKNOWN_REWARD = "reward {id} is not in this merchant's rewards catalogue"
ERR_REWARD_NEEDS_MEMBER = "only members can take a reward"
ERR_KEY_REUSED = (
    "this idempotency key was already used for a different request; use a new key for a new "
    "checkout"
)
ERR_KEY_MISSING = "an idempotency key is required"
ERR_KEY_IN_USE = (
    "a request with this idempotency key is still being processed; retry in a moment to get its "
    "result"
)
ERR_RECEIPT_EXISTS = (
    "a sale with receipt number {external_id} is already recorded (transaction {id}); it was "
    "not recorded again"
)
ERR_SALE_NOT_FOUND = "sale not found"
ERR_NOT_A_SALE = "only a sale can be refunded"
ERR_REFUND_AMOUNT = (
    "the refund must be more than 0 and at most Rp {left} (what is left of the sale)"
)
ERR_REFUND_LINES = "refund lines must name line items of this sale with a quantity they still have"


class KeyInUse(Conflict):
    """The first request with this idempotency key is still running (PostgreSQL only)."""

    code = "idempotency_key_in_use"


class ReceiptExists(Conflict):
    """A sale with this receipt number (``external_id``) is already recorded under another
    idempotency key: a till that lost its key and retries with a new one. Nothing is recorded;
    ``problem_extra`` names the recorded sale."""

    code = "receipt_exists"

    def __init__(self, sale: Transaction):
        super().__init__(
            ERR_RECEIPT_EXISTS.format(external_id=sale.external_id, id=sale.pk),
            field="external_id",
        )
        self.sale_id = sale.pk
        self.problem_extra = {
            "existing_transaction": {
                "id": sale.pk,
                "external_id": sale.external_id,
                "occurred_at": sale.occurred_at.isoformat(),
                "total": str(sale.total),
            }
        }


def _receipt_conflict(merchant: Merchant, external_id: str | None) -> ReceiptExists | None:
    """The error for a sale whose receipt number is already recorded, if it is."""
    if not external_id:
        return None
    sale = Transaction.objects.filter(merchant=merchant, external_id=external_id).first()
    return ReceiptExists(sale) if sale is not None else None


# -- request and result ------------------------------------------------------------------------


@dataclass(frozen=True)
class BasketLine:
    """One line of a basket: a product of the menu (or a free-text item) and its quantity."""

    quantity: Decimal
    unit_price: Decimal | None = None
    product_id: int | None = None
    name: str = ""
    discount: Decimal = ZERO


@dataclass(frozen=True)
class Payment:
    """One part of a split payment: ``amount`` Rupiah paid with ``method``."""

    method: str
    amount: Decimal


@dataclass(frozen=True)
class CheckoutRequest:
    lines: Sequence[BasketLine]
    payment_method: str = PaymentMethod.CASH
    customer_id: int | None = None
    voucher_codes: Sequence[str] = ()
    points_to_redeem: int = 0
    reward_ids: Sequence[int] = ()
    store_credit: Decimal = ZERO
    tab_charge: Decimal = ZERO
    channel: str = SalesChannel.DINE_IN
    occurred_at: datetime | None = None
    external_id: str | None = None
    payments: Sequence[Payment] = ()
    note: str = ""

    def fingerprint(self) -> str:
        """A hash of the request, to tell a replay from a different request with the same key.
        (A request without payments or a note hashes as it did before they existed, so a retry
        across an upgrade still replays.)"""
        raw = asdict(self)
        raw["occurred_at"] = self.occurred_at.isoformat() if self.occurred_at else None
        for name in ("payments", "note"):
            if not raw[name]:
                del raw[name]
        text = json.dumps(raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PricedLine:
    product_id: int | None
    category_id: int | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price - self.discount).quantize(CENT)


@dataclass
class Quote:
    """What a basket costs, and what it earns, before anything is recorded."""

    subtotal: Decimal
    voucher_discounts: list[dict[str, Any]]
    points_redeemed: int
    points_discount: Decimal
    reward_points: int
    rewards: list[dict[str, Any]]
    total: Decimal
    store_credit: Decimal
    tab_charge: Decimal
    paid_by_method: Decimal
    #: how ``total`` is paid: (method, amount) per method, each above 0, summing to ``total``
    payments: list[tuple[str, Decimal]]
    #: the sale's main method: the largest payment's
    method: str
    points_earned: int
    cashback: Decimal
    member: bool
    lines: list[PricedLine] = field(default_factory=list)
    vouchers: list[Any] = field(default_factory=list)  # VoucherQuote objects, in order

    def as_dict(self) -> dict[str, Any]:
        return {
            "subtotal": str(self.subtotal),
            "discounts": [
                *self.voucher_discounts,
                *self.rewards,
                *(
                    [
                        {
                            "type": "points",
                            "points": self.points_redeemed,
                            "amount": str(self.points_discount),
                        }
                    ]
                    if self.points_redeemed
                    else []
                ),
            ],
            "total": str(self.total),
            "paid": {
                "store_credit": str(self.store_credit),
                "tab": str(self.tab_charge),
                "payment_method": str(self.paid_by_method),
                "method": self.method,
                "payments": [
                    {"method": method, "amount": str(amount)} for method, amount in self.payments
                ],
            },
            "points_earned": self.points_earned,
            "cashback": str(self.cashback),
            "member": self.member,
        }


# -- helpers -----------------------------------------------------------------------------------


def _money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _price_lines(merchant: Merchant, lines: Sequence[BasketLine]) -> list[PricedLine]:
    if not lines:
        raise InvalidInput(ERR_EMPTY_BASKET, field="lines")
    ids = {line.product_id for line in lines if line.product_id is not None}
    products = products_by_id(merchant, ids)
    priced = []
    for n, line in enumerate(lines, start=1):
        quantity = Decimal(line.quantity)
        if quantity <= 0:
            raise InvalidInput(ERR_BAD_QUANTITY.format(n=n), field=f"lines[{n - 1}].quantity")
        product = None
        if line.product_id is not None:
            product = products.get(line.product_id)
            if product is None:
                raise InvalidInput(
                    ERR_UNKNOWN_PRODUCT.format(n=n, id=line.product_id),
                    field=f"lines[{n - 1}].product_id",
                )
        price = _money(
            line.unit_price if line.unit_price is not None else product.price if product else 0
        )
        if price < 0:
            raise InvalidInput(ERR_BAD_PRICE.format(n=n), field=f"lines[{n - 1}].unit_price")
        discount = _money(line.discount)
        if discount < 0 or discount > quantity * price:
            raise InvalidInput(ERR_BAD_LINE_DISCOUNT.format(n=n), field=f"lines[{n - 1}].discount")
        priced.append(
            PricedLine(
                product_id=product.pk if product else None,
                category_id=product.category_id if product else None,
                name=(line.name or (product.name if product else "")) or "-",
                quantity=quantity,
                unit_price=price,
                discount=discount,
            )
        )
    return priced


def _sale_lines(lines: Sequence[PricedLine]):
    from langganan.loyalty.points import SaleLine

    return [
        SaleLine(
            product_id=line.product_id,
            category_id=line.category_id,
            quantity=line.quantity,
            amount=line.amount,
        )
        for line in lines
    ]


def _program(merchant: Merchant) -> Program | None:
    """The merchant's active program (see :func:`~langganan.loyalty.members.program_of`)."""
    program = program_of(merchant)
    return program if program is not None and program.is_active else None


def _member(customer: Customer | None) -> Member | None:
    if customer is None:
        return None
    return Member.objects.select_related("tier").filter(customer=customer).first()


def _customer(merchant: Merchant, customer_id: int | None) -> Customer | None:
    return _customer_and_member(merchant, customer_id)[0]


def _customer_and_member(
    merchant: Merchant, customer_id: int | None
) -> tuple[Customer | None, Member | None]:
    """The merchant's customer ``customer_id`` and their membership (with its tier and the
    referral that brought them, if any), in one query; NotFound for a customer of another
    merchant."""
    if customer_id is None:
        return None, None
    customer = customer_with_member(merchant, by="pk", value=customer_id)
    if customer is None:
        raise NotFound("customer not found", field="customer_id")
    try:
        member = customer.loyalty_member
    except Member.DoesNotExist:
        return customer, None
    if member.merchant_id == merchant.pk:
        member.merchant = merchant
    return customer, member


def _validate_settings(request: CheckoutRequest) -> None:
    if request.payment_method not in PaymentMethod.values:
        raise InvalidInput(
            ERR_PAYMENT_METHOD.format(choices=", ".join(PaymentMethod.values)),
            field="payment_method",
        )
    if request.channel not in SalesChannel.values:
        raise InvalidInput(
            ERR_CHANNEL.format(choices=", ".join(SalesChannel.values)), field="channel"
        )
    if request.points_to_redeem < 0:
        raise InvalidInput(ERR_POINTS_NEGATIVE, field="points_to_redeem")
    if Decimal(request.store_credit) < 0 or Decimal(request.tab_charge) < 0:
        raise InvalidInput(ERR_CREDIT_NEGATIVE, field="store_credit")
    codes = [c.strip().upper() for c in request.voucher_codes]
    for code in codes:
        if codes.count(code) > 1:
            raise InvalidInput(ERR_DUPLICATE_VOUCHER.format(code=code), field="voucher_codes")
    seen: set[str] = set()
    for n, payment in enumerate(request.payments):
        if payment.method not in PaymentMethod.values:
            raise InvalidInput(
                ERR_PAYMENT_METHOD.format(choices=", ".join(PaymentMethod.values)),
                field=f"payments[{n}].method",
            )
        if payment.method in seen:
            raise _with_indonesian(
                InvalidInput(
                    ERR_PAYMENT_TWICE.format(method=payment.method), field=f"payments[{n}].method"
                ),
                ERR_PAYMENT_TWICE_ID.format(method=payment.method),
            )
        seen.add(payment.method)
        if not Decimal(payment.amount).is_finite() or _money(payment.amount) <= 0:
            raise InvalidInput(ERR_PAYMENT_AMOUNT.format(n=n + 1), field=f"payments[{n}].amount")
    if len(request.note or "") > NOTE_MAX_LENGTH:
        raise InvalidInput(ERR_NOTE_TOO_LONG.format(max=NOTE_MAX_LENGTH), field="note")


def _with_indonesian(exc: InvalidInput, text: str) -> InvalidInput:
    """The refusal with its Indonesian wording, which the API adds to the problem as
    ``detail_id``."""
    exc.problem_extra = {"detail_id": text}  # type: ignore[attr-defined]
    return exc


def _split(
    request: CheckoutRequest, total: Decimal, credit: Decimal, tab: Decimal
) -> tuple[Decimal, Decimal, list[tuple[str, Decimal]]]:
    """Store credit, the tab and the payments of a bill of ``total`` whose ``credit`` and
    ``tab`` fields are already checked not to exceed it: the payments' tab and store credit
    parts join the fields', and every method's part (in the order of the module docstring)."""
    due = total - credit - tab
    money: list[tuple[str, Decimal]] = []
    if request.payments:
        parts = [(p.method, _money(p.amount)) for p in request.payments]
        paid = sum((amount for _m, amount in parts), ZERO)
        if paid != due:
            raise _with_indonesian(
                InvalidInput(ERR_PAYMENTS_SUM.format(paid=paid, due=due), field="payments"),
                ERR_PAYMENTS_SUM_ID.format(
                    paid=format_rupiah(paid, cents=True), due=format_rupiah(due, cents=True)
                ),
            )
        for method, amount in parts:
            if method == PaymentMethod.STORE_CREDIT:
                credit += amount
            elif method == PaymentMethod.TAB:
                tab += amount
            else:
                money.append((method, amount))
    elif request.payment_method == PaymentMethod.TAB:
        tab += due  # kasbon: the rest goes on the tab
    elif due > 0:
        money.append((request.payment_method, due))
    payments = [
        *money,
        *([(PaymentMethod.STORE_CREDIT.value, credit)] if credit else []),
        *([(PaymentMethod.TAB.value, tab)] if tab else []),
    ]
    return credit, tab, [(str(method), amount) for method, amount in payments]


def _main_method(request: CheckoutRequest, payments: list[tuple[str, Decimal]]) -> str:
    """The method that paid the largest part (the first of them on a tie)."""
    if not payments:
        return str(request.payment_method)
    largest = max(amount for _m, amount in payments)
    return next(method for method, amount in payments if amount == largest)


def _quote(
    *,
    merchant: Merchant,
    request: CheckoutRequest,
    customer: Customer | None,
    member: Member | None,
    program: Program | None,
    at: datetime,
    accounts: dict[str, Account] | None = None,
) -> Quote:
    """The bill. ``accounts`` are the customer's accounts by kind when the caller holds them
    locked (the checkout); a quote reads the balances it needs."""
    from langganan.loyalty.credit import cashback_for_sale
    from langganan.loyalty.points import points_for_sale
    from langganan.loyalty.vouchers import voucher_check

    _validate_settings(request)
    lines = _price_lines(merchant, request.lines)
    rewards, reward_points = _reward_lines(program, member, request.reward_ids)
    lines += [line for line, _ in rewards]
    sale_lines = _sale_lines(lines)
    subtotal = sum((line.amount for line in lines), ZERO)
    left = subtotal
    voucher_quotes = []
    voucher_discounts = []
    for code in request.voucher_codes:
        vq = voucher_check(
            merchant=merchant,
            code=code,
            customer=customer,
            lines=sale_lines,
            subtotal=left,
            at=at,
        )
        discount = min(vq.discount, left)
        left -= discount
        voucher_quotes.append(vq)
        voucher_discounts.append(
            {"type": "voucher", "code": vq.voucher.code, "amount": str(_money(discount))}
        )

    points = int(request.points_to_redeem)
    points_discount = ZERO
    if points:
        if member is None or program is None:
            raise InvalidInput(ERR_POINTS_NEED_MEMBER, field="points_to_redeem")
        if points < program.min_points_to_redeem:
            raise InvalidInput(
                ERR_POINTS_BELOW_MINIMUM.format(minimum=program.min_points_to_redeem),
                field="points_to_redeem",
            )
        payable_by_points = (left * program.max_redeem_share).quantize(CENT, rounding=ROUND_DOWN)
        allowed = int((payable_by_points / program.point_value).to_integral_value(ROUND_DOWN))
        if points > allowed:
            raise InvalidInput(
                ERR_POINTS_TOO_MANY.format(
                    allowed=allowed, share=_percent(program.max_redeem_share)
                ),
                field="points_to_redeem",
            )
        points_discount = _money(points * program.point_value)
        left -= points_discount
    if points or reward_points:
        balance = int(_account(customer, "points", accounts).balance)
        if points + reward_points > balance:
            raise InvalidInput(
                ERR_POINTS_BALANCE.format(balance=balance, wanted=points + reward_points),
                field="points_to_redeem",
            )
    total = _money(left)

    credit = _money(request.store_credit)
    tab = _money(request.tab_charge)
    if (credit or tab) and customer is None:
        raise InvalidInput(ERR_CREDIT_NEEDS_CUSTOMER, field="customer_id")
    if credit + tab > total:
        raise InvalidInput(ERR_OVERPAID.format(total=total), field="store_credit")
    credit, tab, payments = _split(request, total, credit, tab)
    if (credit or tab) and customer is None:
        raise InvalidInput(ERR_CREDIT_NEEDS_CUSTOMER, field="customer_id")
    if credit:
        available = _account(customer, "credit", accounts).balance
        if credit > available:
            raise InvalidInput(ERR_CREDIT_BALANCE.format(balance=available), field="store_credit")
    if tab:
        account = _account(customer, "tab", accounts)
        available = account.balance - account.floor
        if tab > available:
            raise InvalidInput(ERR_TAB_LIMIT.format(available=available), field="tab_charge")

    earned = 0
    cashback = ZERO
    if member is not None and program is not None:
        earning_base = total - credit
        share = earning_base / subtotal if subtotal else ZERO
        earned = points_for_sale(
            program=program,
            tier=member.tier,
            lines=[
                type(sl)(
                    product_id=sl.product_id,
                    category_id=sl.category_id,
                    quantity=sl.quantity,
                    amount=_money(sl.amount * share),
                )
                for sl in sale_lines
            ],
            total=earning_base,
            at=at,
        )
        cashback = cashback_for_sale(program=program, tier=member.tier, total=earning_base, at=at)
    return Quote(
        subtotal=subtotal,
        voucher_discounts=voucher_discounts,
        points_redeemed=points,
        points_discount=points_discount,
        reward_points=reward_points,
        rewards=[info for _, info in rewards],
        total=total,
        store_credit=credit,
        tab_charge=tab,
        paid_by_method=total - credit - tab,
        payments=payments,
        method=_main_method(request, payments),
        points_earned=earned,
        cashback=cashback,
        member=member is not None,
        lines=lines,
        vouchers=voucher_quotes,
    )


def _account(customer: Customer, kind: str, accounts: dict[str, Account] | None) -> Account:
    if accounts is not None:
        return accounts[kind]
    return customer_account(customer=customer, kind=kind)


def _reward_lines(
    program: Program | None, member: Member | None, reward_ids: Sequence[int]
) -> tuple[list[tuple[PricedLine, dict[str, Any]]], int]:
    """Each reward from the catalogue becomes a free line (its price fully discounted) paid
    for with its points."""
    if not reward_ids:
        return [], 0
    if member is None or program is None:
        raise InvalidInput(ERR_REWARD_NEEDS_MEMBER, field="reward_ids")
    found = {
        r.pk: r
        for r in Reward.objects.select_related("product").filter(
            program=program, is_active=True, pk__in=list(reward_ids)
        )
    }
    lines = []
    total = 0
    for reward_id in reward_ids:
        reward = found.get(reward_id)
        if reward is None:
            raise InvalidInput(ERR_UNKNOWN_REWARD.format(id=reward_id), field="reward_ids")
        price = _money(reward.product.price) if reward.product else ZERO
        line = PricedLine(
            product_id=reward.product_id,
            category_id=reward.product.category_id if reward.product else None,
            name=reward.name,
            quantity=Decimal("1"),
            unit_price=price,
            discount=price,
        )
        info = {
            "type": "reward",
            "reward_id": reward.pk,
            "name": reward.name,
            "points": reward.points_cost,
            "amount": str(price),
        }
        lines.append((line, info))
        total += reward.points_cost
    return lines, total


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}"


# -- public services ---------------------------------------------------------------------------


def checkout_quote(
    *, merchant: Merchant, request: CheckoutRequest, at: datetime | None = None
) -> dict[str, Any]:
    """What the basket would cost and earn, without recording anything."""
    at = request.occurred_at or at or timezone.now()
    customer, member = _customer_and_member(merchant, request.customer_id)
    program = _program(merchant) if member is not None else None  # only members use it
    quote = _quote(
        merchant=merchant,
        request=request,
        customer=customer,
        member=member,
        program=program,
        at=at,
    )
    return quote.as_dict()


def _replay(record: CheckoutRecord, fingerprint: str) -> dict[str, Any]:
    if record.request_hash != fingerprint:
        raise Conflict(ERR_KEY_REUSED, code="idempotency_key_reused", field="idempotency_key")
    return {**record.response, "replayed": True}


def _refuse_if_running(*, merchant: Merchant, operation: str, key: str) -> None:
    """Raise :class:`KeyInUse` when another transaction is working on this key right now.

    On PostgreSQL a transaction-level advisory lock on a hash of (merchant, operation, key) is
    tried before any other lock; it is held until the first request commits or rolls back, so a
    retry that overlaps it is refused at once instead of queueing. A retry that comes after the
    first committed gets the lock and replays the stored result. SQLite serialises writers (the
    retry waits for the first and replays), so nothing is needed there.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"{merchant.pk}:{operation}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        (locked,) = cursor.fetchone()
    if locked:
        return
    done = CheckoutRecord.objects.filter(merchant=merchant, operation=operation, key=key)
    if not done.exists():  # only a committed first request is visible: the lock is a replay's
        raise KeyInUse(ERR_KEY_IN_USE, field="idempotency_key")


def _claim_key(
    *, merchant: Merchant, outlet: Outlet | None, operation: str, key: str, fingerprint: str
) -> CheckoutRecord | dict[str, Any]:
    """Insert the key's record first: a concurrent call with the same key waits on it (the
    unique index) and then replays the committed result."""
    if not key or not key.strip():
        raise InvalidInput(ERR_KEY_MISSING, field="idempotency_key")
    record = CheckoutRecord(
        merchant=merchant,
        outlet=outlet,
        operation=operation,
        key=key,
        request_hash=fingerprint,
        response={},
    )
    # no look-up first and no savepoint: a key seen before inserts nothing, then is replayed
    if insert_unless_exists(record, unique=("merchant", "operation", "key")):
        return record
    existing = CheckoutRecord.objects.filter(merchant=merchant, operation=operation, key=key)
    return _replay(existing.get(), fingerprint)


def checkout(
    *,
    merchant: Merchant,
    outlet: Outlet,
    idempotency_key: str,
    request: CheckoutRequest,
    refuse_while_running: bool = False,
    recorded_by: Any = None,
) -> dict[str, Any]:
    """Record a sale with its discounts and rewards, once per idempotency key.

    ``recorded_by``: the staff user who records the sale at the counter (kept on the
    transaction for the end-of-day summary per cashier); None for the POS API and imports. It
    is not part of the request's fingerprint: a retry by a colleague replays the same sale.

    Returns a JSON-ready dict: the transaction, the quote's numbers, points earned, cashback,
    the new balances, the tier (and whether it changed) and a receipt line. A replay of the same
    key and request returns the same dict with ``"replayed": True``. A concurrent call with the
    same key waits for the first and replays it, unless ``refuse_while_running`` (the POS API):
    then, on PostgreSQL, it raises :class:`KeyInUse` while the first is still running.
    """
    fingerprint = request.fingerprint()
    try:
        with one_unit():  # a sale with all its rewards, or nothing
            if refuse_while_running and idempotency_key:
                _refuse_if_running(merchant=merchant, operation="checkout", key=idempotency_key)
            claimed = _claim_key(
                merchant=merchant,
                outlet=outlet,
                operation="checkout",
                key=idempotency_key,
                fingerprint=fingerprint,
            )
            if isinstance(claimed, dict):
                return claimed
            record = claimed
            result = _checkout_effects(
                merchant=merchant, outlet=outlet, request=request, recorded_by=recorded_by
            )
            record.response = result
            record.transaction_id = result["transaction"]["id"]
            record.save(update_fields=["response", "transaction"])
    except IntegrityError as exc:
        # the unit is rolled back; no look-up before the insert, so a sale costs nothing more
        conflict = _receipt_conflict(merchant, request.external_id)
        if conflict is None:
            raise
        raise conflict from exc
    return {**result, "replayed": False}


def _checkout_effects(
    *, merchant: Merchant, outlet: Outlet, request: CheckoutRequest, recorded_by: Any = None
) -> dict[str, Any]:
    from langganan.loyalty.credit import credit_grant, credit_spend
    from langganan.loyalty.points import points_earn, points_redeem
    from langganan.loyalty.referrals import referral_reward_if_due
    from langganan.loyalty.tab import tab_charge
    from langganan.loyalty.tiers import tier_upgrade_if_qualified
    from langganan.loyalty.vouchers import voucher_redeem

    at = request.occurred_at or timezone.now()
    customer, member = _customer_and_member(merchant, request.customer_id)
    program = _program(merchant) if member is not None else None  # only members use it
    accounts: dict[str, Account] | None = None
    if customer is not None:  # lock this customer's balances first, always in the same order
        accounts = customer_accounts_lock(customer=customer)
    quote = _quote(
        merchant=merchant,
        request=request,
        customer=customer,
        member=member,
        program=program,
        at=at,
        accounts=accounts,
    )
    earns = member is not None and program is not None
    counters = system_accounts(
        merchant=merchant,
        codes=[
            *(["points_redeemed"] if quote.points_redeemed or quote.reward_points else []),
            *(["points_issued"] if earns and quote.points_earned else []),
            *(["credit_issued"] if earns and quote.cashback else []),
        ],
    )
    sale = Transaction.objects.create(
        merchant=merchant,
        outlet=outlet,
        customer=customer,
        kind=TransactionKind.SALE,
        occurred_at=at,
        total=quote.total,
        payment_method=quote.method,
        channel=request.channel,
        external_id=request.external_id or None,
        recorded_by=recorded_by,
        note=(request.note or "").strip(),
    )
    if quote.payments:
        TransactionPayment.objects.bulk_create(
            [
                TransactionPayment(transaction=sale, method=method, amount=amount)
                for method, amount in quote.payments
            ]
        )
    LineItem.objects.bulk_create(
        [
            LineItem(
                transaction=sale,
                product_id=line.product_id,
                product_name=line.name[:200],
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
            )
            for line in quote.lines
        ]
    )
    for vq in quote.vouchers:
        voucher_redeem(quote=vq, customer=customer, transaction_obj=sale, at=at)
    key = f"sale:{sale.pk}"
    if quote.points_redeemed or quote.reward_points:
        assert customer is not None and accounts is not None  # the quote refused it otherwise
        points_redeem(
            customer=customer,
            points=quote.points_redeemed + quote.reward_points,
            key=f"{key}:redeem",
            at=at,
            transaction_obj=sale,
            program=program,
            account=accounts["points"],
            counter=counters["points_redeemed"],
        )
    if quote.store_credit:
        credit_spend(
            customer=customer,
            amount=quote.store_credit,
            key=f"{key}:credit",
            at=at,
            transaction_obj=sale,
        )
    if quote.tab_charge:
        tab_charge(
            customer=customer,
            amount=quote.tab_charge,
            key=f"{key}:tab",
            at=at,
            transaction_obj=sale,
        )
    tier_change = None
    # the balances after this sale are the locked ones plus this sale's postings, unless a
    # service that reads its own copy of the accounts posted to them too
    reread = bool(quote.store_credit or quote.tab_charge)
    if member is not None:
        assert customer is not None and accounts is not None
        if program is not None:  # (without one the quote earns nothing)
            points_earn(
                customer=customer,
                points=quote.points_earned,
                key=f"{key}:earn",
                at=at,
                transaction_obj=sale,
                program=program,
                account=accounts["points"],
                counter=counters.get("points_issued"),
            )
        if quote.cashback:
            credit_grant(
                customer=customer,
                amount=quote.cashback,
                key=f"{key}:cashback",
                at=at,
                transaction_obj=sale,
                account=accounts["credit"],
                counter=counters["credit_issued"],
            )
        if referral_reward_if_due(member=member, transaction_obj=sale, at=at):
            reread = True
        if program is not None:
            tier_change = tier_upgrade_if_qualified(
                member=member,
                at=at,
                program=program,
                tiers=settings_cache.rows(merchant, f"tiers:{program.pk}", program.tiers.all),
            )
    result = quote.as_dict()
    result["transaction"] = {
        "id": sale.pk,
        "occurred_at": sale.occurred_at.isoformat(),
        "total": str(sale.total),
        "external_id": sale.external_id,
        "payment_method": sale.payment_method,
        "note": sale.note,
    }
    result.update(
        _balances(customer, member, tier_change is not None, None if reread else accounts)
    )
    result["receipt_line"] = _receipt_line(quote, result)
    if customer is not None:  # the customer's insight follows the sale (never failing it)
        from langganan.insights.live import insight_after_sale

        insight_after_sale(merchant=merchant, customer_id=customer.pk)
    from langganan.webhooks.services import webhook_emit

    webhook_emit(
        merchant=merchant,
        event="transaction.recorded",
        payload={
            "transaction": result["transaction"],
            "outlet": outlet.code,
            "customer_id": result["customer_id"],
            "total": result["total"],
            "discounts": result["discounts"],
            "points_earned": result["points_earned"],
            "cashback": result["cashback"],
        },
    )
    return result


def _balances(
    customer: Customer | None,
    member: Member | None,
    changed: bool,
    accounts: dict[str, Account] | None = None,
) -> dict:
    """The customer's three balances after this call's postings: from ``accounts`` when the
    caller holds them locked and every posting of the call went through them, else read in
    one query (an account the customer does not have yet is a zero balance with no credit)."""
    if customer is None:
        return {"customer_id": None, "balances": None, "tier": None}
    if accounts is not None:
        current = {kind: (a.balance, a.floor) for kind, a in accounts.items()}
    else:
        current = {
            kind: (balance, floor)
            for kind, balance, floor in Account.objects.filter(
                customer=customer, kind__in=["points", "credit", "tab"]
            ).values_list("kind", "balance", "floor")
        }
    points, credit, (tab, floor) = (
        current.get(k, (ZERO, ZERO)) for k in ("points", "credit", "tab")
    )
    return {
        "customer_id": customer.pk,
        "balances": {
            "points": int(points[0]),
            "store_credit": str(_money(credit[0])),
            "tab_owed": str(_money(abs(min(tab, ZERO)))),
            "tab_limit": str(_money(abs(floor))),
        },
        "tier": (
            {"name": member.tier.name, "changed": changed}
            if member is not None and member.tier is not None
            else None
        ),
    }


def _receipt_line(quote: Quote, result: dict[str, Any]) -> str:
    """One line for the receipt, in Indonesian: points earned, balance, tier."""
    if not result.get("balances") or not quote.member:
        return ""
    parts = [f"Poin +{quote.points_earned}"]
    if quote.points_redeemed or quote.reward_points:
        parts.append(f"dipakai {quote.points_redeemed + quote.reward_points}")
    parts.append(f"saldo poin {result['balances']['points']:,}".replace(",", "."))
    if quote.cashback:
        parts.append(f"cashback Rp {int(quote.cashback):,}".replace(",", "."))
    if result.get("tier"):
        parts.append(result["tier"]["name"])
    return " · ".join(parts)


# -- refunds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundRequest:
    sale_id: int
    amount: Decimal | None = None  # None: everything that is left
    reason: str = ""
    occurred_at: datetime | None = None

    def fingerprint(self) -> str:
        raw = asdict(self)
        raw["occurred_at"] = self.occurred_at.isoformat() if self.occurred_at else None
        return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def refund(
    *,
    merchant: Merchant,
    outlet: Outlet | None,
    idempotency_key: str,
    request: RefundRequest,
    refuse_while_running: bool = False,
) -> dict[str, Any]:
    """Refund (part of) a sale, once per idempotency key; see the module docstring and
    :func:`checkout` for ``refuse_while_running``."""
    fingerprint = request.fingerprint()
    with one_unit():  # the refund with all its reversals, or nothing
        if refuse_while_running and idempotency_key:
            _refuse_if_running(merchant=merchant, operation="refund", key=idempotency_key)
        sale = (
            Transaction.objects.select_for_update()
            .filter(merchant=merchant, pk=request.sale_id)
            .first()
        )
        if sale is None:
            raise NotFound(ERR_SALE_NOT_FOUND, field="sale_id")
        claimed = _claim_key(
            merchant=merchant,
            outlet=outlet,
            operation="refund",
            key=idempotency_key,
            fingerprint=fingerprint,
        )
        if isinstance(claimed, dict):
            return claimed
        result = _refund_effects(sale=sale, outlet=outlet, request=request)
        claimed.response = result
        claimed.transaction_id = result["refund"]["id"]
        claimed.save(update_fields=["response", "transaction"])
    return {**result, "replayed": False}


def _journal(sale: Transaction, suffix: str) -> Journal | None:
    return Journal.objects.filter(
        merchant_id=sale.merchant_id, key=f"sale:{sale.pk}:{suffix}"
    ).first()


def _journal_amount(journal: Journal | None) -> Decimal:
    """The customer-side amount of a journal (absolute)."""
    if journal is None:
        return ZERO
    entry = journal.entries.filter(account__customer__isnull=False).first()
    return abs(entry.amount) if entry else ZERO


def _reversed_so_far(sale: Transaction, suffix: str) -> Decimal:
    keys = [f"refund:{r.pk}:{suffix}" for r in sale.refunds.all()]
    return sum(
        (
            _journal_amount(j)
            for j in Journal.objects.filter(merchant_id=sale.merchant_id, key__in=keys)
        ),
        ZERO,
    )


def _refund_effects(
    *, sale: Transaction, outlet: Outlet | None, request: RefundRequest
) -> dict[str, Any]:
    from langganan.loyalty.credit import credit_take_back
    from langganan.loyalty.points import points_give_back, points_take_back
    from langganan.loyalty.tab import tab_credit_back
    from langganan.loyalty.vouchers import voucher_release

    if sale.kind != TransactionKind.SALE:
        raise InvalidInput(ERR_NOT_A_SALE, field="sale_id")
    at = request.occurred_at or timezone.now()
    already = -sum((r.total for r in sale.refunds.all()), ZERO)
    left = sale.total - already
    amount = _money(request.amount) if request.amount is not None else left
    if amount <= 0 or amount > left:
        raise InvalidInput(ERR_REFUND_AMOUNT.format(left=left), field="amount")
    refund_tx = Transaction.objects.create(
        merchant_id=sale.merchant_id,
        outlet=outlet or sale.outlet,
        customer=sale.customer,
        kind=TransactionKind.REFUND,
        refund_of=sale,
        occurred_at=at,
        total=-amount,
        payment_method=sale.payment_method,
        channel=sale.channel,
    )
    share = (already + amount) / sale.total if sale.total else Decimal("1")
    full = already + amount == sale.total
    key = f"refund:{refund_tx.pk}"
    reversed_: dict[str, Any] = {}

    def due(suffix: str, whole: bool = True) -> Decimal:
        original = _journal_amount(_journal(sale, suffix))
        target = original * share
        target = target.to_integral_value(ROUND_HALF_UP) if whole else _money(target)
        return max(target - _reversed_so_far(sale, suffix), ZERO)

    earn = _journal(sale, "earn")
    if earn is not None and (n := int(due("earn"))):
        j = points_take_back(earn_journal=earn, points=n, key=f"{key}:earn", at=at)
        reversed_["points_taken_back"] = int(_journal_amount(j))
    redeem = _journal(sale, "redeem")
    if redeem is not None and (n := int(due("redeem"))):
        j = points_give_back(redeem_journal=redeem, points=n, key=f"{key}:redeem", at=at)
        reversed_["points_given_back"] = int(_journal_amount(j))
    cashback = _journal(sale, "cashback")
    if cashback is not None and (m := due("cashback", whole=False)):
        j = credit_take_back(grant_journal=cashback, amount=m, key=f"{key}:cashback", at=at)
        reversed_["cashback_taken_back"] = str(_journal_amount(j))
    tab = _journal(sale, "tab")
    if tab is not None and (m := due("tab", whole=False)):
        j = tab_credit_back(charge_journal=tab, amount=m, key=f"{key}:tab", at=at)
        reversed_["tab_credited"] = str(_journal_amount(j))
    released = []
    if full:
        for redemption in VoucherRedemption.objects.filter(transaction=sale, reversed_at=None):
            if voucher_release(redemption=redemption, at=at):
                released.append(redemption.voucher.code)
    reversed_["vouchers_released"] = released
    member = _member(sale.customer)
    result = {
        "refund": {
            "id": refund_tx.pk,
            "sale_id": sale.pk,
            "amount": str(amount),
            "occurred_at": refund_tx.occurred_at.isoformat(),
            "full": full,
        },
        "reversed": reversed_,
    }
    result.update(_balances(sale.customer, member, False))
    return result


__all__ = [
    "BasketLine",
    "CheckoutRequest",
    "KeyInUse",
    "Payment",
    "RefundRequest",
    "checkout",
    "checkout_quote",
    "refund",
]
