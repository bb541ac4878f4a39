"""The customer's card for the cashier (POS API): who they are, what they have, what to offer.

One selector, :func:`customer_card_get`, reads the customer (by phone or member code), their
loyalty (tier, points, tab, vouchers), their stored insight (lifecycle stage, the usual order,
cross-sell suggestions, the probability of being active and the 12-month value with their
intervals, and why a habit is not shown) and picks one suggested action, in plain Indonesian,
for the cashier to say. Suggestions are chosen in this order: a birthday today, a voucher about
to expire, a customer who has not come for a while, the usual order (items bought equally often
offered as equals), a cross-sell item, an invitation to join the loyalty program; otherwise a
friendly greeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from langganan.core.errors import InvalidInput, NotFound
from langganan.core.models import Merchant
from langganan.core.phones import normalize_phone
from langganan.customers.models import Customer
from langganan.customers.selectors import ERR_CUSTOMER_NOT_FOUND
from langganan.insights.models import CustomerInsight
from langganan.loyalty.customer_rows import customer_with_member
from langganan.loyalty.members import merchant_zone
from langganan.loyalty.models import Voucher
from langganan.loyalty.selectors import customer_loyalty_get

ERR_LOOKUP_ONE_OF = "give either phone or member_code"
ERR_PHONE_INVALID = "not a valid phone number"

ACTION_BIRTHDAY = "Ucapkan selamat ulang tahun untuk {salutation}"
ACTION_VOUCHER = "Ingatkan voucher {code} — berlaku sampai {until}"
ACTION_WIN_BACK = "Sapa hangat {salutation}, sudah lama tidak mampir"
ACTION_USUAL = "Tawarkan {item} seperti biasa"
ACTION_CROSS_SELL = "Tawarkan juga {item}"
ACTION_ENROL = "Ajak {salutation} daftar member"
ACTION_GREET = "Sapa {salutation} dengan ramah"

VOUCHER_SOON = timedelta(days=3)
USUAL_IN_ACTION = 3  # items bought equally often, offered as equals: "Kopi Susu atau Teh Manis"
LAPSING_STAGES = frozenset({"at_risk", "lapsed"})


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    salutation: str
    greeting: str
    is_member: bool
    tier: str | None
    points: int
    points_value: Decimal
    store_credit: Decimal
    tab_owed: Decimal
    tab_limit: Decimal
    vouchers: list[Voucher]
    birthday_this_week: bool
    birthday_today: bool
    lifecycle: str | None
    segment: str | None
    usual_order: list[dict[str, Any]] = field(default_factory=list)
    cross_sell: list[str] = field(default_factory=list)
    next_purchase_date: date | None = None
    suggested_action: str = ""
    # the probability of being active and the 12-month customer value, each with its 80 %
    # interval (None when unknown); clv_note says why the value is blank ("no_repeat_buyers",
    # "no_spend"); evidence: {"habits", "usual", "next_visit"} -> "ok" or why it is not shown
    p_alive: float | None = None
    p_alive_low: float | None = None
    p_alive_high: float | None = None
    clv: Decimal | None = None
    clv_low: Decimal | None = None
    clv_high: Decimal | None = None
    clv_note: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    # care: the customer's complaints still open, and her latest feedback rating (1-5)
    open_complaints: int = 0
    last_rating: int | None = None


def _find(merchant: Merchant, phone: str | None, member_code: str | None) -> Customer:
    if bool(phone) == bool(member_code):
        raise InvalidInput(ERR_LOOKUP_ONE_OF, field="phone")
    # the membership, its tier and the stored insight come with the customer, in one query
    if phone:
        try:
            e164 = normalize_phone(phone)
        except ValueError as exc:
            raise InvalidInput(ERR_PHONE_INVALID, field="phone") from exc
        customer = customer_with_member(merchant, by="phone", value=e164, insight=True)
    else:
        code = (member_code or "").strip()
        customer = customer_with_member(merchant, by="member_code", value=code, insight=True)
        if customer is None:  # a code typed in another case: rare, so the plain ORM
            customer = (
                Customer.objects.filter(merchant=merchant, member_code__iexact=code)
                .select_related("loyalty_member__tier", "insight")
                .order_by("pk")
                .first()
            )
    if customer is None:
        raise NotFound(ERR_CUSTOMER_NOT_FOUND)
    return customer


def _insight_of(merchant: Merchant, customer: Customer) -> CustomerInsight | None:
    """The customer's stored insight (read with the customer by :func:`_find`)."""
    try:
        insight = customer.insight
    except CustomerInsight.DoesNotExist:
        return None
    return insight if insight.merchant_id == merchant.pk else None


def _birthday_in(birth_date: date | None, first: date, last: date) -> bool:
    """Whether the birthday falls between ``first`` and ``last`` (29 February → 28th)."""
    if birth_date is None:
        return False
    for year in {first.year, last.year}:
        try:
            day = birth_date.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if first <= day <= last:
            return True
    return False


def _item_name(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("item") or item.get("name") or "")
    return str(item or "")


def usual_ranked(usual_order: list[Any]) -> list[dict[str, Any]]:
    """The usual order as ``{"item", "times", "rank"}`` rows, most often bought first.

    Items bought equally often share a rank (1 = most often): the stored rank when the engine
    gave one, otherwise a dense rank by ``times``.
    """
    rows = [
        {
            "item": _item_name(u),
            "times": int(u.get("times") or 0) if isinstance(u, dict) else 0,
            "rank": u.get("rank") if isinstance(u, dict) else None,
        }
        for u in usual_order or []
        if _item_name(u)
    ]
    if rows and all(row["rank"] is not None for row in rows):
        for row in rows:
            row["rank"] = int(row["rank"])
    else:
        distinct = sorted({row["times"] for row in rows}, reverse=True)
        for row in rows:
            row["rank"] = distinct.index(row["times"]) + 1
    return sorted(rows, key=lambda row: row["rank"])


def _care(merchant: Merchant, customer: Customer) -> dict[str, Any]:
    """The customer's open complaints and latest rating (langganan.care): one prepared read,
    since every counter and POS lookup shows them."""
    from langganan.loyalty.customer_rows import care_brief

    open_n, rating = care_brief(merchant_id=merchant.pk, customer_id=customer.pk)
    return {"open_complaints": open_n, "last_rating": rating}


def _estimates(insight: CustomerInsight | None) -> dict[str, Any]:
    """The card's model estimates from the stored insight (none without one)."""
    if insight is None:
        return {}
    return {
        "p_alive": insight.p_alive,
        "p_alive_low": insight.p_alive_low,
        "p_alive_high": insight.p_alive_high,
        "clv": insight.clv,
        "clv_low": insight.clv_low,
        "clv_high": insight.clv_high,
        "clv_note": insight.clv_note or "",
        "evidence": dict(insight.evidence or {}),
    }


def customer_card_get(
    *,
    merchant: Merchant,
    phone: str | None = None,
    member_code: str | None = None,
    at: datetime | None = None,
) -> CustomerCard:
    """The card of the merchant's customer with this phone number or member code.

    Raises NotFound when there is none (a customer of another merchant included) and
    InvalidInput when neither or both are given or the phone number is not valid.
    """
    customer = _find(merchant, phone, member_code)
    at = at or timezone.now()
    today = at.astimezone(merchant_zone(merchant)).date()
    loyalty = customer_loyalty_get(merchant=merchant, customer=customer, at=at, movements=False)
    insight = _insight_of(merchant, customer)
    week_start = today - timedelta(days=today.weekday())
    greeting = customer.greeting_on(today)
    first_name = (customer.full_name or "").split(" ")[0]
    salutation = f"{greeting} {first_name}".strip()
    usual = usual_ranked(insight.usual_order if insight else [])
    cross_sell = [name for name in map(_item_name, insight.cross_sell if insight else []) if name]
    card = CustomerCard(
        customer=customer,
        salutation=salutation,
        greeting=greeting,
        is_member=loyalty.is_member,
        tier=loyalty.member.tier.name if loyalty.member and loyalty.member.tier else None,
        points=loyalty.points,
        points_value=loyalty.points_value,
        store_credit=loyalty.store_credit,
        tab_owed=loyalty.tab_owed,
        tab_limit=loyalty.tab_limit,
        vouchers=loyalty.vouchers,
        birthday_this_week=_birthday_in(
            customer.birth_date, week_start, week_start + timedelta(days=6)
        ),
        birthday_today=_birthday_in(customer.birth_date, today, today),
        lifecycle=insight.lifecycle if insight else None,
        segment=insight.segment if insight else None,
        usual_order=usual,
        cross_sell=cross_sell,
        next_purchase_date=insight.next_purchase_date if insight else None,
        **_estimates(insight),
        **_care(merchant, customer),
    )
    action = _suggested_action(card, at=at, has_program=loyalty.program is not None)
    return CustomerCard(**{**card.__dict__, "suggested_action": action})


def _suggested_action(card: CustomerCard, *, at: datetime, has_program: bool) -> str:
    if card.birthday_today:
        return ACTION_BIRTHDAY.format(salutation=card.salutation)
    for voucher in card.vouchers:
        if voucher.valid_until is not None and voucher.valid_until - at <= VOUCHER_SOON:
            until = timezone.localtime(voucher.valid_until).strftime("%d/%m")
            return ACTION_VOUCHER.format(code=voucher.code, until=until)
    if card.lifecycle in LAPSING_STAGES:
        return ACTION_WIN_BACK.format(salutation=card.salutation)
    if card.usual_order:
        first = [u["item"] for u in card.usual_order if u["rank"] == card.usual_order[0]["rank"]]
        return ACTION_USUAL.format(item=" atau ".join(first[:USUAL_IN_ACTION]))
    if card.cross_sell:
        return ACTION_CROSS_SELL.format(item=card.cross_sell[0])
    if has_program and not card.is_member:
        return ACTION_ENROL.format(salutation=card.salutation)
    return ACTION_GREET.format(salutation=card.salutation)
