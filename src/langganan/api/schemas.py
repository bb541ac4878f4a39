"""Request and response schemas of the POS API.

Requests are validated strictly at the edge, so that no input, however malformed, reaches the
services in a form they cannot handle: every number has bounds, every text a length, no text may
contain NUL or invalid Unicode, times must carry a time zone. Money travels as a decimal string
(``"25000.00"``) in responses and as a string or number in requests, never as a float.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    WithJsonSchema,
    model_validator,
)

from langganan.loyalty.checkout import (
    NOTE_MAX_LENGTH,
    BasketLine,
    CheckoutRequest,
    Payment,
    RefundRequest,
)
from langganan.sales.models import PaymentMethod, SalesChannel

CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
MAX_ID = 2**63 - 1
MAX_LINES = 200
MAX_BATCH = 500
MAX_BILL = Decimal("100000000000")  # Rp 100 billion: more than any till sells at once
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_YEAR = 2100

ERR_TEXT_NUL = "text must not contain NUL characters"
ERR_TEXT_UNICODE = "text must be valid Unicode"
ERR_TIME_RANGE = f"time must be between 2000 and {LATEST_YEAR}"
ERR_BILL_TOO_LARGE = f"the basket is worth more than Rp {MAX_BILL:,}"


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError(ERR_TEXT_NUL)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800")
        raise ValueError(ERR_TEXT_UNICODE) from exc
    return value


def _in_range(value: datetime) -> datetime:
    if not (EARLIEST <= value and value.year < LATEST_YEAR):
        raise ValueError(ERR_TIME_RANGE)
    return value


def text(max_length: int, min_length: int = 0):
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean_text)
    ]


Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]  # strict: true is not 1
Time = Annotated[AwareDatetime, AfterValidator(_in_range)]
# A decimal sent as a string must be written plainly ("25000", "25000.50"): the pattern is in
# the OpenAPI document and enforced here, so the document and the server agree on what is valid
# (pydantic alone would also take "1e3", " 5" or "+5"). Each pattern encodes the field's range.
MONEY_PATTERN = r"^(?:(?:0|[1-9][0-9]{0,10})(?:\.[0-9]{1,2})?|100000000000(?:\.00?)?)$"
POSITIVE_MONEY_PATTERN = (
    r"^(?:0\.(?:0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,10}(?:\.[0-9]{1,2})?|100000000000(?:\.00?)?)$"
)
QUANTITY_PATTERN = (
    r"^(?:0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])"
    r"|[1-9][0-9]{0,4}(?:\.[0-9]{1,3})?|100000(?:\.0{1,3})?)$"
)
ERR_DECIMAL_FORMAT = "write the number plainly, e.g. 25000 or 25000.50, within the field's range"


def _decimal(pattern: str, minimum: dict, maximum: int, places: int, **bounds):
    """A decimal field taking a JSON number or a plain decimal string matching ``pattern``."""
    compiled = re.compile(pattern)

    def plain(value: object) -> object:
        if isinstance(value, str) and not compiled.match(value):
            raise ValueError(ERR_DECIMAL_FORMAT)
        return value

    number = {"type": "number", **minimum, "maximum": maximum}
    return Annotated[
        Decimal,
        Field(**bounds, decimal_places=places, allow_inf_nan=False),
        BeforeValidator(plain),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


MoneyIn = _decimal(
    MONEY_PATTERN, {"minimum": 0}, int(MAX_BILL), 2, ge=0, le=MAX_BILL, max_digits=14
)
PositiveMoneyIn = _decimal(
    POSITIVE_MONEY_PATTERN,
    {"exclusiveMinimum": 0},
    int(MAX_BILL),
    2,
    gt=0,
    le=MAX_BILL,
    max_digits=14,
)
Quantity = _decimal(
    QUANTITY_PATTERN, {"exclusiveMinimum": 0}, 100000, 3, gt=0, le=100000, max_digits=12
)
Points = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
VoucherCode = text(32, 1)
IdempotencyKey = Annotated[
    str, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"), AfterValidator(_clean_text)
]
Money = Annotated[str, Field(description="Rupiah as a decimal string", examples=["25000.00"])]

PaymentMethodName = Literal[tuple(PaymentMethod.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(SalesChannel.values)]  # type: ignore[valid-type]


# -- problems ----------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    field: str
    detail: str


class ExistingSaleOut(Schema):
    """The sale already recorded under a receipt number (``external_id``)."""

    id: int
    external_id: str
    occurred_at: datetime
    total: str


class ExistingFeedbackOut(Schema):
    """The feedback already recorded for a sale (one answer per sale)."""

    id: int
    rating: int
    created_at: str


class ProblemOut(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(examples=["urn:langganan:problem:not_found"])
    title: str
    status: int
    detail: str
    code: str = Field(description="machine-readable error code")
    errors: list[FieldErrorOut] | None = None
    reason: str | None = Field(None, description="why a voucher was refused")
    detail_id: str | None = Field(
        None,
        description="the detail in Indonesian, to show on the till (payments that do not add up)",
    )
    existing_transaction: ExistingSaleOut | None = Field(
        None,
        description="for code receipt_exists: the sale already recorded with this external_id",
    )
    existing_feedback: ExistingFeedbackOut | None = Field(
        None,
        description="for code feedback_exists: the answer already recorded for the sale",
    )


# -- requests ---------------------------------------------------------------------------------

ERR_NOT_AN_OBJECT = "must be a JSON object"


class InputSchema(Schema):
    """A request body (or a part of one): a JSON object and nothing else.

    Ninja's ``Schema`` reads fields as attributes of whatever it is given, so without this a
    list, a number or ``null`` would pass as an object whose fields all take their defaults."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: object) -> object:
        # Ninja's own validator (of the base class) has already wrapped the input
        raw = data._obj if isinstance(data, DjangoGetter) else data
        if not isinstance(raw, dict):
            raise ValueError(ERR_NOT_AN_OBJECT)
        return data


# -- baskets -----------------------------------------------------------------------------------


class LineIn(InputSchema):
    product_id: Id | None = Field(None, description="a product of the merchant's menu")
    name: text(200) = Field("", description="free-text item name (or the product's name)")
    quantity: Quantity
    unit_price: MoneyIn | None = Field(None, description="default: the product's price")
    discount: MoneyIn = Decimal("0")


class BasketIn(InputSchema):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    customer_id: Id | None = None

    def basket_lines(self) -> list[BasketLine]:
        return [
            BasketLine(
                quantity=ln.quantity.quantize(THOUSANDTH),
                unit_price=None if ln.unit_price is None else ln.unit_price.quantize(CENT),
                product_id=ln.product_id,
                name=ln.name,
                discount=ln.discount.quantize(CENT),
            )
            for ln in self.lines
        ]

    def to_request(self) -> CheckoutRequest:
        return CheckoutRequest(
            lines=self.basket_lines(),
            customer_id=self.customer_id,
            occurred_at=getattr(self, "occurred_at", None),
        )

    @model_validator(mode="after")
    def _bill_in_range(self):
        worth = sum((ln.quantity * (ln.unit_price or 0) for ln in self.lines), Decimal("0"))
        if worth > MAX_BILL:
            raise ValueError(ERR_BILL_TOO_LARGE)
        return self


class PaymentIn(InputSchema):
    method: PaymentMethodName = Field(  # type: ignore[valid-type]
        description="cash, qris, …; tab charges the customer's tab (within its limit), "
        "store_credit spends their store credit"
    )
    amount: PositiveMoneyIn = Field(description="Rupiah this method pays, more than 0")


class CheckoutIn(BasketIn):
    payment_method: PaymentMethodName = Field(  # type: ignore[valid-type]
        PaymentMethod.CASH.value,
        description="how the rest of the bill is paid (after store_credit and tab_charge); "
        "tab puts it on the customer's tab. With payments: the largest payment's method is "
        "recorded as the sale's main method instead.",
    )
    channel: ChannelName = SalesChannel.DINE_IN.value  # type: ignore[valid-type]
    voucher_codes: list[VoucherCode] = Field(default_factory=list, max_length=10)
    points_to_redeem: Points = 0
    reward_ids: list[Id] = Field(default_factory=list, max_length=20)
    store_credit: MoneyIn = Decimal("0")
    tab_charge: MoneyIn = Decimal("0")
    occurred_at: Time | None = Field(None, description="default: now")
    external_id: text(64) | None = Field(None, description="the POS's own receipt number")
    payments: list[PaymentIn] | None = Field(
        None,
        max_length=len(PaymentMethod.values),
        description="a split payment (e.g. half QRIS, half cash): each method once, the "
        "amounts adding up to the amount due — the total after discounts less store_credit "
        "and tab_charge — or the sale is refused (422, code invalid, field payments, "
        "detail_id in Indonesian). Default: everything due is paid with payment_method.",
    )
    note: text(NOTE_MAX_LENGTH) = Field(
        "", description='the basket\'s note ("tanpa sambal"), kept with the sale'
    )

    def to_request(self) -> CheckoutRequest:
        return CheckoutRequest(
            lines=self.basket_lines(),
            payment_method=self.payment_method,
            customer_id=self.customer_id,
            voucher_codes=tuple(self.voucher_codes),
            points_to_redeem=self.points_to_redeem,
            reward_ids=tuple(self.reward_ids),
            store_credit=self.store_credit.quantize(CENT),
            tab_charge=self.tab_charge.quantize(CENT),
            channel=self.channel,
            occurred_at=self.occurred_at,
            external_id=self.external_id,
            payments=tuple(
                Payment(method=p.method, amount=p.amount.quantize(CENT))
                for p in self.payments or ()
            ),
            note=self.note,
        )


class BatchItemIn(CheckoutIn):
    idempotency_key: IdempotencyKey
    occurred_at: Time = Field(description="when the sale happened at the till")  # type: ignore[assignment]


class BatchIn(InputSchema):
    transactions: list[BatchItemIn] = Field(min_length=1, max_length=MAX_BATCH)


class RefundIn(InputSchema):
    amount: PositiveMoneyIn | None = Field(None, description="default: all that is left")
    reason: text(200) = ""
    occurred_at: Time | None = None

    def to_request(self, sale_id: int) -> RefundRequest:
        return RefundRequest(
            sale_id=sale_id,
            amount=None if self.amount is None else self.amount.quantize(CENT),
            reason=self.reason,
            occurred_at=self.occurred_at,
        )


class VoucherCheckIn(BasketIn):
    occurred_at: Time | None = None


# -- customers ---------------------------------------------------------------------------------

ConsentChannel = Literal["email", "whatsapp", "sms"]


class CustomerIn(InputSchema):
    full_name: text(200, 1)
    phone: text(32) | None = None
    email: text(254) = ""
    gender: Literal["", "M", "F"] = ""
    greeting: Literal["", "Kak", "Mas", "Mbak", "Pak", "Bu"] = ""
    birth_date: date | None = None
    member_code: text(32, 1) | None = None
    consents: dict[ConsentChannel, bool] = Field(
        default_factory=dict, description="marketing consent given at the counter, per channel"
    )
    consent_wording_version: text(50) = ""
    referral_code: text(32, 1) | None = None


class RegistrationOut(Schema):
    id: int
    member_code: str
    full_name: str
    salutation: str
    phone: str | None
    email: str
    consents: dict[str, bool]
    member: bool
    tier: str | None
    referral_code: str | None


class VoucherOut(Schema):
    code: str
    name: str
    discount_type: str
    value: Money
    valid_until: datetime | None


class TabOut(Schema):
    owed: Money
    limit: Money


class UsualItemOut(Schema):
    item: str
    times: int
    rank: int | None = Field(
        None, description="1 = bought most often; items bought equally often share a rank"
    )


class EvidenceOut(Schema):
    habits: str | None = Field(
        None, description="usual day and hour: ok, few_visits or no_pattern (why not shown)"
    )
    usual: str | None = Field(
        None, description="the usual order: ok, few_visits or no_pattern (why it is empty)"
    )
    next_visit: str | None = Field(
        None, description="next_purchase_date: ok, few_visits, overdue or far (why it is empty)"
    )


class CardOut(Schema):
    id: int
    member_code: str
    full_name: str
    greeting: str = Field(examples=["Kak"])
    salutation: str = Field(examples=["Kak Rina"])
    phone: str | None
    member: bool
    tier: str | None
    points: int
    points_value: Money
    store_credit: Money
    tab: TabOut
    vouchers: list[VoucherOut]
    birthday_this_week: bool
    lifecycle: str | None = Field(description="new, active, loyal, at_risk or lapsed")
    segment: str | None
    usual_order: list[UsualItemOut]
    cross_sell: list[str]
    next_purchase_date: date | None
    suggested_action: str = Field(examples=["Tawarkan Kopi Susu seperti biasa"])
    p_alive: float | None = Field(
        None, ge=0, le=1, description="probability that the customer is still active"
    )
    p_alive_low: float | None = Field(None, ge=0, le=1, description="80 % interval, low end")
    p_alive_high: float | None = Field(None, ge=0, le=1, description="80 % interval, high end")
    clv: Money | None = Field(None, description="expected spend in the next 12 months")
    clv_low: Money | None = Field(None, description="80 % interval, low end")
    clv_high: Money | None = Field(None, description="80 % interval, high end")
    clv_note: str | None = Field(
        None, description="why clv is null: no_repeat_buyers or no_spend (null when filled)"
    )
    evidence: EvidenceOut | None = Field(
        None, description="why a habit, the usual order or the next visit is not given"
    )
    open_complaints: int = Field(0, ge=0, description="the customer's complaints still open")
    last_rating: int | None = Field(
        None, ge=1, le=5, description="the customer's latest feedback rating (1-5)"
    )


# -- checkout results --------------------------------------------------------------------------


class DiscountOut(Schema):
    type: Literal["voucher", "reward", "points"]
    amount: Money
    code: str | None = None
    reward_id: int | None = None
    name: str | None = None
    points: int | None = None


class PaymentOut(Schema):
    method: PaymentMethodName  # type: ignore[valid-type]
    amount: Money


class PaidOut(Schema):
    store_credit: Money
    tab: Money
    payment_method: Money = Field(description="the part paid with money (not credit or tab)")
    method: PaymentMethodName | None = Field(  # type: ignore[valid-type]
        None, description="the sale's main method: the one that paid the largest part"
    )
    payments: list[PaymentOut] = Field(
        default_factory=list,
        description="what each method paid (store credit and tab included), adding up to total",
    )


class QuoteOut(Schema):
    subtotal: Money
    discounts: list[DiscountOut]
    total: Money
    paid: PaidOut
    points_earned: int
    cashback: Money
    member: bool


class SaleRefOut(Schema):
    id: int
    occurred_at: datetime
    total: Money
    external_id: str | None
    payment_method: PaymentMethodName | None = None  # type: ignore[valid-type]
    note: str = ""


class BalancesOut(Schema):
    points: int
    store_credit: Money
    tab_owed: Money
    tab_limit: Money


class TierOut(Schema):
    name: str
    changed: bool


class SaleOut(QuoteOut):
    transaction: SaleRefOut
    customer_id: int | None
    balances: BalancesOut | None
    tier: TierOut | None
    receipt_line: str


class BatchResultOut(Schema):
    index: int
    idempotency_key: str
    status: int = Field(description="201 recorded (or replayed), or the problem's status")
    replayed: bool | None = None
    result: SaleOut | None = None
    problem: ProblemOut | None = None


class BatchOut(Schema):
    recorded: int
    replayed: int
    failed: int
    results: list[BatchResultOut]


class RefundRefOut(Schema):
    id: int
    sale_id: int
    amount: Money
    occurred_at: datetime
    full: bool


class ReversedOut(Schema):
    points_taken_back: int | None = None
    points_given_back: int | None = None
    cashback_taken_back: Money | None = None
    tab_credited: Money | None = None
    vouchers_released: list[str] = Field(default_factory=list)


class RefundOut(Schema):
    refund: RefundRefOut
    reversed: ReversedOut
    customer_id: int | None
    balances: BalancesOut | None
    tier: TierOut | None


# -- ledger and vouchers -----------------------------------------------------------------------


class LedgerEntryOut(Schema):
    id: int
    posted_at: datetime
    ledger: Literal["points", "credit", "tab"]
    kind: str = Field(description="earn, bonus, redeem, expire, cashback, tab, tab_pay, …")
    label: str
    amount: str = Field(description="points (whole) or Rupiah; positive adds to the balance")
    transaction_id: int | None
    memo: str


class LedgerPageOut(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[LedgerEntryOut]


class VoucherCheckOut(Schema):
    code: str
    applies: bool
    reason: str | None = Field(None, description="why not: expired, used_up, min_spend, …")
    detail: str | None = None
    discount: Money | None = None
    quote: QuoteOut | None = None
