"""What the counter screen reads (selectors): the menu most sold first, customers by the start
of their name, a recorded sale by its basket key, the customer's time since the last visit in
plain words, and the checkout's refusals in the user's language.

The screen writes nothing itself: a sale goes through :func:`langganan.loyalty.checkout.checkout`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from langganan.core.errors import LanggananError
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty import checkout as co
from langganan.loyalty.models import CheckoutRecord, Program
from langganan.loyalty.vouchers import VoucherRefused
from langganan.sales.models import LineItem, Product, Transaction, TransactionPayment

#: the menu is ranked by the quantity sold over this many days, recomputed at most this often
MENU_RANK_DAYS = 90
MENU_RANK_SECONDS = 600
MENU_RANK_KEEP = 300
#: a name search shows at most this many customers (the counter is no customer list)
NAME_RESULTS = 10
NAME_MIN_LENGTH = 2
#: the prefix of the idempotency keys of the counter's baskets
KEY_PREFIX = "kasir-"
KEY_PATTERN = re.compile(r"^kasir-[0-9a-f]{32}$")
#: a split whose second part leaves nothing for the first method (the counter's own refusal)
ERR_SPLIT_TOO_MUCH = "the second payment (Rp {amount}) must be less than the Rp {due} to be paid"


# -- the menu ----------------------------------------------------------------------------------


def _menu_ranking(merchant: Merchant) -> list[int]:
    """Product ids by quantity sold in the last :data:`MENU_RANK_DAYS` days, most first (kept
    in the cache for :data:`MENU_RANK_SECONDS`: one aggregate per merchant per ten minutes)."""
    key = f"counter:menu-rank:{merchant.pk}"
    ranking = cache.get(key)
    if ranking is None:
        since = timezone.now() - timedelta(days=MENU_RANK_DAYS)
        ranking = list(
            LineItem.objects.filter(
                transaction__merchant=merchant,
                transaction__occurred_at__gte=since,
                product__isnull=False,
            )
            .values("product_id")
            .annotate(sold=Sum("quantity"))
            .order_by("-sold", "product_id")
            .values_list("product_id", flat=True)[:MENU_RANK_KEEP]
        )
        cache.set(key, ranking, MENU_RANK_SECONDS)
    return ranking


def menu_ranked(*, merchant: Merchant) -> list[Product]:
    """The merchant's active products, most sold first, then by name."""
    order = {pk: n for n, pk in enumerate(_menu_ranking(merchant))}
    products = list(
        Product.objects.filter(merchant=merchant, is_active=True).only("id", "name", "price")
    )
    products.sort(key=lambda p: (order.get(p.pk, len(order)), p.name.lower()))
    return products


# -- finding the customer ----------------------------------------------------------------------


def customers_by_name(*, merchant: Merchant, query: str) -> list[Customer]:
    """At most :data:`NAME_RESULTS` customers whose name, or a word of it, starts with
    ``query`` (``"rin"`` finds Rina Wati and Dewi Rinjani), by name."""
    query = " ".join(query.split())
    if len(query) < NAME_MIN_LENGTH:
        return []
    condition = Q(full_name__istartswith=query) | Q(full_name__icontains=" " + query)
    return list(
        Customer.objects.filter(merchant=merchant)
        .filter(condition)
        .only("id", "full_name", "phone", "member_code", "greeting", "gender", "birth_date")
        .order_by("full_name", "id")[:NAME_RESULTS]
    )


def looks_like_a_name(query: str) -> bool:
    """A query with letters and few digits: a name, not a phone number or a member code."""
    letters = sum(ch.isalpha() for ch in query)
    digits = sum(ch.isdigit() for ch in query)
    return letters >= NAME_MIN_LENGTH and digits == 0


def open_complaints(*, merchant: Merchant, customer: Customer) -> list[Any]:
    """The customer's open complaints (langganan.care), newest first, for the card: each
    reads ``#12 · Waktu tunggu · 3 Des``."""
    from langganan.care.models import OPEN_STATUSES, Complaint
    from langganan.loyalty.members import merchant_zone

    zone = merchant_zone(merchant)
    rows = (
        Complaint.objects.filter(merchant=merchant, customer=customer, status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("-created_at", "-pk")[:3]
    )
    return [
        f"#{c.pk} · {c.category.name} · "
        + formats.date_format(timezone.localtime(c.created_at, zone), "j M")
        for c in rows
    ]


# -- the time since the last visit --------------------------------------------------------------


def since_last_visit(last: datetime | None, now: datetime) -> str:
    """``"datang hari ini"``, ``"sudah 4 hari tidak datang"``, ``"sudah 3 minggu tidak
    datang"``, ``"sudah 2 bulan tidak datang"``; empty when she never came."""
    if last is None:
        return ""
    days = (now - last).days
    if days <= 0:
        return _("came today")
    if days == 1:
        return _("came yesterday")
    if days < 14:
        return ngettext(
            "%(n)d day since the last visit", "%(n)d days since the last visit", days
        ) % {"n": days}
    if days < 60:
        weeks = days // 7
        return ngettext(
            "%(n)d week since the last visit", "%(n)d weeks since the last visit", weeks
        ) % {"n": weeks}
    months = days // 30
    return ngettext(
        "%(n)d month since the last visit", "%(n)d months since the last visit", months
    ) % {"n": months}


def last_visit(customer: Customer) -> datetime | None:
    """The customer's last sale: the stored insight's (the live update keeps it current), else
    her latest transaction."""
    from langganan.insights.models import CustomerInsight

    try:
        insight = customer.insight
    except CustomerInsight.DoesNotExist:
        insight = None
    if insight is not None and insight.last_purchase is not None:
        return insight.last_purchase
    return (
        Transaction.objects.filter(customer=customer, kind="sale")
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )


# -- points ------------------------------------------------------------------------------------


def points_max(*, program: Program | None, payable: Decimal, balance: int) -> int:
    """The most points that may pay for ``payable`` (the program's share of the bill, no more
    than the balance); 0 below the program's minimum."""
    if program is None or not program.is_active or payable <= 0:
        return 0
    share = (payable * program.max_redeem_share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    allowed = int((share / program.point_value).to_integral_value(ROUND_DOWN))
    most = min(allowed, max(balance, 0))
    return most if most >= program.min_points_to_redeem else 0


# -- the recorded sale -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedSale:
    """A sale recorded from the counter: the checkout's stored result, its lines, its customer."""

    key: str
    result: dict[str, Any]
    sale: Transaction
    lines: list[LineItem]
    customer: Customer | None
    payments: list[TransactionPayment] = field(default_factory=list)


def sale_by_key(*, merchant: Merchant, key: str) -> RecordedSale | None:
    """The sale recorded with the basket key ``key`` at this merchant, or ``None``."""
    if not KEY_PATTERN.match(key or ""):
        return None
    record = (
        CheckoutRecord.objects.filter(merchant=merchant, operation="checkout", key=key)
        .select_related("transaction__customer", "transaction__outlet")
        .first()
    )
    if record is None or record.transaction is None:
        return None
    sale = record.transaction
    return RecordedSale(
        key=key,
        result=record.response,
        sale=sale,
        lines=list(sale.items.all()),
        customer=sale.customer,
        payments=list(sale.payments.all()),
    )


# -- the checkout's refusals in the user's language -------------------------------------------


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if n % 2 == 0 else f"(?P<{part}>.+?)" for n, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


def _messages() -> list[tuple[re.Pattern[str], str]]:
    """(the service's message, the counter's msgid) — the service's messages are the English
    constants its tests assert on; the counter says them in the user's language."""
    return [
        (_pattern(co.ERR_EMPTY_BASKET), gettext_noop("The basket is empty: tap a product first.")),
        (
            _pattern(co.ERR_TAB_LIMIT),
            gettext_noop(
                "Over the tab limit: only %(available)s can still go on the tab. Pay the rest "
                "another way."
            ),
        ),
        (
            _pattern(co.ERR_POINTS_TOO_MANY),
            gettext_noop("At most %(allowed)s points can pay for this bill (%(share)s%% of it)."),
        ),
        (
            _pattern(co.ERR_POINTS_BELOW_MINIMUM),
            gettext_noop("At least %(minimum)s points are needed."),
        ),
        (
            _pattern(co.ERR_POINTS_BALANCE),
            gettext_noop("Not enough points: %(balance)s available, %(wanted)s asked."),
        ),
        (_pattern(co.ERR_POINTS_NEED_MEMBER), gettext_noop("Only members can pay with points.")),
        (
            _pattern(co.ERR_CREDIT_NEEDS_CUSTOMER),
            gettext_noop("Store credit and the tab need a customer."),
        ),
        (
            _pattern(co.ERR_CREDIT_BALANCE),
            gettext_noop("Not enough store credit: %(balance)s available."),
        ),
        (
            _pattern(co.ERR_OVERPAID),
            gettext_noop("Store credit and the tab together are more than the bill (%(total)s)."),
        ),
        (_pattern(co.ERR_CREDIT_NEGATIVE), gettext_noop("Amounts must not be negative.")),
        (
            _pattern(ERR_SPLIT_TOO_MUCH),
            gettext_noop(
                "The second payment (%(amount)s) must be less than the %(due)s to be paid: the "
                "rest is paid with the first method."
            ),
        ),
        (
            _pattern(co.ERR_PAYMENTS_SUM),
            gettext_noop("The payments add up to %(paid)s, but %(due)s is to be paid."),
        ),
        (
            _pattern(co.ERR_NOTE_TOO_LONG),
            gettext_noop("The note is too long (at most %(max)s characters)."),
        ),
        (
            _pattern(co.ERR_KEY_REUSED),
            gettext_noop("This basket was already paid with other items. Start a new sale."),
        ),
        (
            _pattern(co.ERR_KEY_IN_USE),
            gettext_noop("This sale is still being recorded: wait a moment."),
        ),
    ]


_MONEY_FIELDS = {"available", "balance", "total", "amount", "paid", "due"}


def _money_text(value: str) -> str:
    from langganan.core.money import format_rupiah

    text = value.strip().removeprefix("Rp").strip()
    try:
        return format_rupiah(Decimal(text))
    except Exception:  # noqa: BLE001 (not a number: say it as it is)
        return value


def refusal_message(exc: LanggananError) -> str:
    """The service's refusal as the counter says it, in the active language."""
    if isinstance(exc, VoucherRefused):
        return _voucher_message(exc)
    for pattern, msgid in _messages():
        match = pattern.match(exc.message)
        if match:
            values = {
                k: _money_text(v) if k in _MONEY_FIELDS else v for k, v in match.groupdict().items()
            }
            return _(msgid) % values
    return exc.message


def _voucher_message(exc: VoucherRefused) -> str:
    from langganan.loyalty import vouchers as v

    texts = {
        v.REASON_NOT_FOUND: _("There is no voucher with this code."),
        v.REASON_INACTIVE: _("This voucher has been switched off."),
        v.REASON_NOT_YET_VALID: _("This voucher is not valid yet."),
        v.REASON_EXPIRED: _("This voucher has expired."),
        v.REASON_USED_UP: _("This voucher has been used up."),
        v.REASON_CUSTOMER_LIMIT: _("This customer has already used this voucher."),
        v.REASON_OTHER_CUSTOMER: _("This voucher belongs to another customer."),
        v.REASON_MEMBERS_ONLY: _("This voucher needs a customer: find the customer first."),
        v.REASON_MIN_SPEND: _("This voucher needs a bigger purchase."),
        v.REASON_OUT_OF_SCOPE: _("Nothing in the basket qualifies for this voucher."),
        v.REASON_TEMPLATE: _("This code is a template and cannot be used itself."),
    }
    if exc.reason == v.REASON_MIN_SPEND:
        match = _pattern(v.MSG_MIN_SPEND).match(exc.message)
        if match:
            return _("This voucher needs a purchase of at least %(amount)s.") % {
                "amount": _money_text(match.group("amount"))
            }
    return texts.get(exc.reason, exc.message)


# -- the card's suggested action in the user's language ------------------------------------------


def _actions() -> list[tuple[re.Pattern[str], str]]:
    """(the card's Indonesian sentence, the counter's msgid): the card service says what to say
    in Indonesian (the POS API's words); the counter says it in the user's language."""
    from langganan.loyalty import cashier

    return [
        (_pattern(cashier.ACTION_BIRTHDAY), gettext_noop("Wish %(salutation)s a happy birthday")),
        (
            _pattern(cashier.ACTION_VOUCHER),
            gettext_noop("Remind of voucher %(code)s — valid until %(until)s"),
        ),
        (
            _pattern(cashier.ACTION_WIN_BACK),
            gettext_noop("Greet %(salutation)s warmly, it has been a while"),
        ),
        (_pattern(cashier.ACTION_USUAL), gettext_noop("Offer %(item)s as usual")),
        (_pattern(cashier.ACTION_CROSS_SELL), gettext_noop("Offer %(item)s too")),
        (_pattern(cashier.ACTION_ENROL), gettext_noop("Invite %(salutation)s to become a member")),
        (_pattern(cashier.ACTION_GREET), gettext_noop("Greet %(salutation)s warmly")),
    ]


def suggested_action_text(action: str) -> str:
    """The card's suggested action (``Tawarkan Es Kopi Susu seperti biasa``) in the active
    language."""
    for pattern, msgid in _actions():
        match = pattern.match(action or "")
        if match:
            return _(msgid) % match.groupdict()
    return action
