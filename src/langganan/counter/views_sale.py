"""The counter screen (kasir): find the customer, their card, the basket, record the sale and
show the receipt. Views parse the form, call one selector or the checkout service, and render.

Payment: one method for the rest of the bill (kasbon — ``tab`` — puts it on the customer's tab),
or "Bagi pembayaran": a second method and the amount it pays, the rest going to the first (half
QRIS, half tunai; part on the tab, the rest in cash). The basket's note is kept with the sale.

The page works as plain server-rendered forms; ``counter/screen.js`` only saves round trips
(a product tap fills the basket in the page, the menu filters as you type, the member QR is
scanned with the camera where the browser can). The basket lives in the form itself, with its
idempotency key, generated when the basket starts: a double tap, a reload or a retry on a flaky
network posts the same key, and the checkout service records the sale once and replays it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from langganan.campaigns.channels.manual import wa_me_link
from langganan.core.errors import InvalidInput, LanggananError, NotFound
from langganan.core.models import Membership, Merchant, Outlet, Role
from langganan.core.money import format_rupiah
from langganan.core.selectors import merchants_for_user
from langganan.customers.models import Customer
from langganan.customers.selectors import customer_lookup_exact
from langganan.loyalty.cashier import CustomerCard, customer_card_get
from langganan.loyalty.checkout import (
    NOTE_MAX_LENGTH,
    BasketLine,
    CheckoutRequest,
    Payment,
    checkout,
    checkout_quote,
)
from langganan.loyalty.members import program_of
from langganan.privacy import audit
from langganan.sales.models import PaymentMethod, Product
from langganan.web.access import (
    SERVING_KEY,
    forbidden,
    merchant_for_request,
    merchant_view,
    merchant_zone,
    serving_get,
    serving_set,
)
from langganan.web.permissions import PERMISSIONS

from .screen import (
    ERR_SPLIT_TOO_MUCH,
    KEY_PREFIX,
    RecordedSale,
    customers_by_name,
    last_visit,
    looks_like_a_name,
    menu_ranked,
    open_complaints,
    points_max,
    refusal_message,
    sale_by_key,
    since_last_visit,
    suggested_action_text,
)

SEARCH_MAX_LENGTH = 100
QUANTITY_MAX = Decimal("999")
CANDIDATES_KEY = "counter:candidates:{merchant_id}"
OUTLET_KEY = "counter:outlet:{merchant_id}"
#: "kasbon": the rest of the bill goes on the customer's tab (its own payment method)
TAB = PaymentMethod.TAB.value
PAYMENT_CHOICES = [
    (PaymentMethod.CASH, gettext_lazy("Cash")),
    (PaymentMethod.QRIS, "QRIS"),
    (PaymentMethod.E_WALLET, gettext_lazy("E-wallet")),
    (PaymentMethod.DEBIT_CARD, gettext_lazy("Debit card")),
    (PaymentMethod.CREDIT_CARD, gettext_lazy("Credit card")),
    (PaymentMethod.BANK_TRANSFER, gettext_lazy("Bank transfer")),
    (TAB, gettext_lazy("Tab (kasbon)")),
]
PAYMENT_VALUES = {value for value, _label in PAYMENT_CHOICES}


def new_key() -> str:
    return f"{KEY_PREFIX}{uuid.uuid4().hex}"


# -- the basket in the form --------------------------------------------------------------------


@dataclass
class Basket:
    key: str
    customer_id: int | None = None
    lines: dict[int, Decimal] = field(default_factory=dict)  # product id -> quantity, in order
    note: str = ""
    method: str = PaymentMethod.CASH
    points: int = 0
    voucher: str = ""
    credit: Decimal = Decimal("0")
    tab: Decimal = Decimal("0")
    #: "Bagi pembayaran": the second method and the amount it pays ("" and 0: no split)
    split_method: str = ""
    split_amount: Decimal = Decimal("0")
    errors: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return bool(self.split_method) and self.split_amount > 0

    def add(self, product_id: int, quantity: Decimal = Decimal("1")) -> None:
        self.lines[product_id] = min(
            self.lines.get(product_id, Decimal("0")) + quantity, QUANTITY_MAX
        )
        if self.lines[product_id] <= 0:
            del self.lines[product_id]


def _decimal(value: str | None) -> Decimal:
    text = (value or "").strip().replace(".", "").replace(",", ".") if value else ""
    try:
        number = Decimal(text) if text else Decimal("0")
    except InvalidOperation:
        return Decimal("0")
    return number if number.is_finite() else Decimal("0")


def _quantity(value: str | None) -> Decimal:
    try:
        number = Decimal((value or "").strip().replace(",", "."))
    except InvalidOperation:
        return Decimal("0")
    return number if number.is_finite() else Decimal("0")


def _int(value: str | None) -> int:
    try:
        return max(int((value or "0").strip().replace(".", "") or 0), 0)
    except ValueError:
        return 0


def _ids(value: str | None) -> list[int]:
    return [int(part) for part in (value or "").split(",") if part.strip().isdigit()]


def basket_from_post(post, menu: dict[int, Product]) -> Basket:
    """The basket as the form sent it: ``q<product id>`` quantities in the page's order, the
    payment fields, then the one edit the tapped button asks for (``add``, ``inc``, ``dec``)."""
    customer = post.get("customer", "").strip()
    basket = Basket(
        key=post.get("key", "").strip(),
        customer_id=int(customer) if customer.isdigit() else None,
        note=" ".join(post.get("note", "").split())[:NOTE_MAX_LENGTH],
        method=post.get("method", PaymentMethod.CASH),
        points=_int(post.get("points")),
        voucher=post.get("use_voucher", post.get("voucher", "")).strip().upper()[:32],
        credit=_decimal(post.get("credit")),
        tab=_decimal(post.get("tab")),
        split_method=post.get("split_method", "").strip(),
        split_amount=max(_decimal(post.get("split_amount")), Decimal("0")),
    )
    if basket.method not in PAYMENT_VALUES:
        basket.method = PaymentMethod.CASH
    if basket.split_method not in PAYMENT_VALUES or basket.split_method == basket.method:
        basket.split_method = ""
    for name, value in post.items():
        if name.startswith("q") and name[1:].isdigit() and int(name[1:]) in menu:
            quantity = _quantity(value)
            if quantity > 0:
                basket.lines[int(name[1:])] = min(quantity, QUANTITY_MAX)
    for product_id in _ids(post.get("add")):
        if product_id in menu:
            basket.add(product_id)
    for product_id in _ids(post.get("inc")):
        if product_id in basket.lines:
            basket.add(product_id)
    for product_id in _ids(post.get("dec")):
        if product_id in basket.lines:
            basket.add(product_id, Decimal("-1"))
    return basket


def _request_for(
    basket: Basket,
    *,
    tab: Decimal | None = None,
    points: int | None = None,
    method: str | None = None,
    payments: tuple[Payment, ...] = (),
):
    return CheckoutRequest(
        lines=[BasketLine(product_id=pk, quantity=qty) for pk, qty in basket.lines.items()],
        payment_method=basket.method if method is None else method,
        customer_id=basket.customer_id,
        voucher_codes=[basket.voucher] if basket.voucher else [],
        points_to_redeem=basket.points if points is None else points,
        store_credit=basket.credit,
        tab_charge=basket.tab if tab is None else tab,
        payments=payments,
        note=basket.note,
    )


def checkout_request(*, merchant: Merchant, basket: Basket) -> CheckoutRequest:
    """The checkout request of the basket. Kasbon (``tab``) puts everything left after store
    credit and the tab field on the tab (the service does). A split pays ``split_amount`` with
    the second method and what is left of the amount due (priced by the service's own quote)
    with the first; a second part as large as the amount due is refused."""
    if not basket.split:
        return _request_for(basket)
    quote = checkout_quote(
        merchant=merchant, request=_request_for(basket, method=PaymentMethod.CASH)
    )
    due = Decimal(quote["paid"]["payment_method"])
    amount = basket.split_amount.quantize(Decimal("0.01"))
    if amount >= due:
        raise InvalidInput(ERR_SPLIT_TOO_MUCH.format(amount=amount, due=due), field="split_amount")
    return _request_for(
        basket,
        payments=(
            Payment(method=basket.method, amount=due - amount),
            Payment(method=basket.split_method, amount=amount),
        ),
    )


# -- who, where --------------------------------------------------------------------------------


def _outlet(request, merchant: Merchant, membership: Membership, outlets: list[Outlet]):
    """The cashier's outlet (their membership's), else the one chosen on this screen (kept in
    the session), else the merchant's first."""
    if membership.outlet_id is not None:
        for outlet in outlets:
            if outlet.pk == membership.outlet_id:
                return outlet
    session_key = OUTLET_KEY.format(merchant_id=merchant.pk)
    wanted = request.POST.get("outlet") or request.session.get(session_key)
    for outlet in outlets:
        if str(outlet.pk) == str(wanted):
            if request.session.get(session_key) != outlet.pk:
                request.session[session_key] = outlet.pk
            return outlet
    return outlets[0] if outlets else None


def _serving_clear(request, merchant: Merchant) -> None:
    request.session.pop(SERVING_KEY.format(merchant_id=merchant.pk), None)


def _served_customer(merchant: Merchant, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = (
        Customer.objects.filter(merchant=merchant, pk=customer_id).only("id", "member_code").first()
    )
    if customer is None:
        raise Http404
    return customer


def _card(merchant: Merchant, customer: Customer | None) -> CustomerCard | None:
    if customer is None:
        return None
    try:
        return customer_card_get(merchant=merchant, member_code=customer.member_code)
    except NotFound as exc:
        raise Http404 from exc


def _may_serve(request, merchant: Merchant, membership: Membership, customer_id: int | None):
    """A cashier sells only to the customer they found (or to a walk-in)."""
    if customer_id is None or membership.role != Role.CASHIER:
        return True
    return serving_get(request, merchant) == customer_id


# -- the page ----------------------------------------------------------------------------------


def _usual_buttons(card: CustomerCard | None, menu: list[Product]) -> list[dict]:
    """ "Yang biasa?": the items she buys on most visits as one tap; when none is bought that
    often, each of her most-bought items (bought equally often) as its own tap."""
    if card is None or not card.usual_order:
        return []
    by_name = {p.name.casefold(): p for p in menu}
    insight = getattr(card.customer, "insight", None)
    orders = getattr(insight, "orders", 0) or 0
    rows = [(u, by_name.get(u["item"].casefold())) for u in card.usual_order]
    rows = [(u, p) for u, p in rows if p is not None]
    if not rows:
        return []
    regular = [p for u, p in rows if orders and u["times"] * 2 >= orders]
    if regular:
        return [{"products": regular, "ids": ",".join(str(p.pk) for p in regular)}]
    top = rows[0][0]["rank"]
    return [{"products": [p], "ids": str(p.pk)} for u, p in rows if u["rank"] == top]


def _render(
    request,
    merchant: Merchant,
    membership: Membership,
    *,
    basket: Basket,
    status: int = 200,
    q: str = "",
    results: list[Customer] | None = None,
    not_found: bool = False,
    quote: dict | None = None,
    menu_q: str = "",
):
    now = timezone.now()
    customer = _served_customer(merchant, basket.customer_id)
    card = _card(merchant, customer)
    menu = menu_ranked(merchant=merchant)
    by_id = {p.pk: p for p in menu}
    lines = [
        {"product": by_id[pk], "quantity": qty, "amount": qty * by_id[pk].price}
        for pk, qty in basket.lines.items()
        if pk in by_id
    ]
    outlets = list(Outlet.objects.filter(merchant=merchant, is_active=True).order_by("code"))
    outlet = _outlet(request, merchant, membership, outlets)
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "basket": basket,
        "card": card,
        "suggested": suggested_action_text(card.suggested_action) if card else "",
        "usual": _usual_buttons(card, menu),
        "since_last": since_last_visit(last_visit(card.customer), now) if card else "",
        "complaints": open_complaints(merchant=merchant, customer=card.customer) if card else [],
        "tab_available": max(card.tab_limit - card.tab_owed, Decimal("0")) if card else 0,
        "menu": menu,
        "menu_q": menu_q,
        "lines": lines,
        "subtotal": sum((line["amount"] for line in lines), Decimal("0")),
        "quote": quote,
        "payment_choices": PAYMENT_CHOICES,
        "note_max_length": NOTE_MAX_LENGTH,
        "q": q,
        "results": results,
        "not_found": not_found,
        "enrol_phone": q if not_found and not looks_like_a_name(q) else "",
        "outlets": outlets if membership.outlet_id is None and len(outlets) > 1 else [],
        "outlet": outlet,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "counter/screen.html", context, status=status)


def _quote(merchant: Merchant, basket: Basket) -> dict | None:
    """The bill of a non-empty basket as the checkout would price it; refusals become the
    basket's errors."""
    if not basket.lines:
        return None
    try:
        return checkout_quote(
            merchant=merchant, request=checkout_request(merchant=merchant, basket=basket)
        )
    except NotFound as exc:
        raise Http404 from exc
    except LanggananError as exc:
        basket.errors.append(refusal_message(exc))
        return None


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def screen(request, slug: str):
    """``/m/<merchant>/kasir/``: GET starts a basket (``?q=`` finds the customer, ``?baru=1``
    starts over without one); POST is a basket edit sent without JavaScript (a product tapped,
    a quantity changed, the most points asked for) and answers the page again."""
    merchant, membership = merchant_for_request(request, slug)
    if request.method == "POST":
        menu = {p.pk: p for p in menu_ranked(merchant=merchant)}
        basket = basket_from_post(request.POST, menu)
        if not basket.key.startswith(KEY_PREFIX):
            basket.key = new_key()
        if not _may_serve(request, merchant, membership, basket.customer_id):
            return forbidden(request, merchant, membership, PERMISSIONS.get("counter:screen"))
        if "points_max" in request.POST and basket.customer_id is not None:
            basket.points = _points_max(merchant, basket)
            if not basket.points:
                program = program_of(merchant)
                basket.errors.append(
                    _("Not enough points to pay with yet (at least %(minimum)s).")
                    % {"minimum": program.min_points_to_redeem if program else 0}
                )
        return _render(
            request,
            merchant,
            membership,
            basket=basket,
            quote=_quote(merchant, basket),
            menu_q=request.POST.get("menu_q", "").strip()[:SEARCH_MAX_LENGTH],
        )
    if request.GET.get("baru"):
        _serving_clear(request, merchant)
        return redirect("counter:screen", slug=merchant.slug)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    results = None
    not_found = False
    if q:
        found = customer_lookup_exact(merchant=merchant, query=q)
        if found is not None:
            audit.record(request, merchant, "customer.search", query=q, results=1)
            audit.record(request, merchant, "customer.view", found, page="counter")
            serving_set(request, merchant, found.pk)
            return redirect("counter:screen", slug=merchant.slug)
        if looks_like_a_name(q):
            results = customers_by_name(merchant=merchant, query=q)
            request.session[CANDIDATES_KEY.format(merchant_id=merchant.pk)] = [
                c.pk for c in results
            ]
        audit.record(request, merchant, "customer.search", query=q, results=len(results or []))
        not_found = not results
    basket = Basket(key=new_key(), customer_id=serving_get(request, merchant))
    try:
        return _render(
            request, merchant, membership, basket=basket, q=q, results=results, not_found=not_found
        )
    except Http404:  # the customer being served is gone (merged away): serve nobody
        if basket.customer_id is None:
            raise
        _serving_clear(request, merchant)
        return redirect("counter:screen", slug=merchant.slug)


def _points_max(merchant: Merchant, basket: Basket) -> int:
    """The most points this basket may use: the program's share of what is left after the
    vouchers, no more than the customer's balance."""
    if not basket.lines:
        return 0
    try:
        quote = checkout_quote(
            merchant=merchant,
            request=_request_for(basket, tab=Decimal("0"), points=0),
        )
    except LanggananError:
        return basket.points
    customer = _served_customer(merchant, basket.customer_id)
    card = _card(merchant, customer)
    balance = card.points if card else 0
    return points_max(
        program=program_of(merchant), payable=Decimal(quote["total"]), balance=balance
    )


@merchant_view
@require_safe
def pick(request, slug: str, pk: int):
    """Serve one of the customers the last name search found (the cashier: only those)."""
    merchant, membership = merchant_for_request(request, slug)
    candidates = request.session.get(CANDIDATES_KEY.format(merchant_id=merchant.pk), [])
    if (
        membership.role == Role.CASHIER
        and pk not in candidates
        and serving_get(request, merchant) != pk
    ):
        return forbidden(request, merchant, membership, PERMISSIONS.get("counter:pick"))
    customer = Customer.objects.filter(merchant=merchant, pk=pk).only("id").first()
    if customer is None:
        raise Http404
    audit.record(request, merchant, "customer.view", customer, page="counter")
    serving_set(request, merchant, pk)
    return redirect("counter:screen", slug=merchant.slug)


@merchant_view
@require_POST
def sale(request, slug: str):
    """Record the basket's sale through the checkout service, once per basket key, and show
    its receipt; a refusal answers the screen again with the basket and why, in words."""
    merchant, membership = merchant_for_request(request, slug)
    menu = {p.pk: p for p in menu_ranked(merchant=merchant)}
    basket = basket_from_post(request.POST, menu)
    if not basket.key.startswith(KEY_PREFIX) or len(basket.key) > 64:
        basket.key = new_key()
        basket.errors.append(_("This basket has no key: check it and tap Pay again."))
        return _render(request, merchant, membership, basket=basket, status=400)
    if not _may_serve(request, merchant, membership, basket.customer_id):
        return forbidden(request, merchant, membership, PERMISSIONS.get("counter:sale"))
    recorded = sale_by_key(merchant=merchant, key=basket.key)
    if recorded is not None:
        if _same_basket(recorded, basket):  # a double tap or a retry: already recorded
            return redirect("counter:receipt", slug=merchant.slug, key=basket.key)
        # back to a paid basket and changed it: a new sale, never the old receipt by mistake
        basket.key = new_key()
        basket.errors.append(
            _("This basket was already paid. Check it and tap Pay again for a new sale.")
        )
        return _render(request, merchant, membership, basket=basket, status=409)
    outlets = list(Outlet.objects.filter(merchant=merchant, is_active=True).order_by("code"))
    outlet = _outlet(request, merchant, membership, outlets)
    if outlet is None:
        basket.errors.append(_("This business has no outlet yet: add one first."))
        return _render(request, merchant, membership, basket=basket, status=400)
    if not basket.lines:
        basket.errors.append(_("The basket is empty: tap a product first."))
        return _render(request, merchant, membership, basket=basket, status=400)
    try:
        checkout(
            merchant=merchant,
            outlet=outlet,
            idempotency_key=basket.key,
            request=checkout_request(merchant=merchant, basket=basket),
            recorded_by=request.user,
        )
    except NotFound as exc:
        raise Http404 from exc
    except LanggananError as exc:
        if exc.code == "idempotency_key_reused":
            basket.key = new_key()
        basket.errors.append(refusal_message(exc))
        return _render(request, merchant, membership, basket=basket, status=422)
    return redirect("counter:receipt", slug=merchant.slug, key=basket.key)


def _same_basket(recorded: RecordedSale, basket: Basket) -> bool:
    """Whether the basket is the recorded sale's: the same customer and the same products in
    the same quantities."""
    lines: dict[int | None, Decimal] = {}
    for line in recorded.lines:
        lines[line.product_id] = lines.get(line.product_id, Decimal("0")) + line.quantity
    return recorded.sale.customer_id == basket.customer_id and lines == basket.lines


# -- the receipt -------------------------------------------------------------------------------


def payment_label(method: str) -> str:
    """A payment method as the counter names it, in the active language."""
    labels = dict(PAYMENT_CHOICES)
    labels[PaymentMethod.STORE_CREDIT] = gettext_lazy("Store credit")
    if method in labels:
        return str(labels[method])
    return str(dict(PaymentMethod.choices).get(method, method))


def _payment_rows(recorded: RecordedSale) -> list[tuple[str, Decimal]]:
    """How the sale was paid, (label, amount) per method: its payment rows, in the order the
    checkout wrote them (money first, then store credit, then the tab)."""
    return [(payment_label(p.method), p.amount) for p in recorded.payments]


def _receipt_text(merchant: Merchant, recorded: RecordedSale, greeting: str, note: str = "") -> str:
    """The digital receipt sent by WhatsApp: what was bought, the total, the points."""
    result = recorded.result
    when = timezone.localtime(recorded.sale.occurred_at, merchant_zone(merchant))
    rows = [merchant.name, when.strftime("%d/%m/%Y %H:%M")]
    for line in recorded.lines:
        quantity = f"{line.quantity.normalize():f}"
        amount = format_rupiah(line.quantity * line.unit_price - line.discount)
        rows.append(f"{quantity} × {line.product_name}  {amount}")
    for discount in result.get("discounts", []):
        label = discount.get("code") or (_("Points") if discount["type"] == "points" else "")
        rows.append(f"{label} -{format_rupiah(Decimal(discount['amount']))}")
    if note:
        rows.append(_("Note: %(note)s") % {"note": note})
    rows.append(_("Total %(amount)s") % {"amount": format_rupiah(Decimal(result["total"]))})
    payments = _payment_rows(recorded)
    if len(payments) > 1 or Decimal(result["paid"]["tab"]):
        for label, amount in payments:
            rows.append(f"{label} {format_rupiah(amount)}")
    balances = result.get("balances")
    if balances is not None and result.get("member"):
        rows.append(
            _("Points +%(earned)s, your points now %(balance)s")
            % {
                "earned": result["points_earned"],
                "balance": f"{balances['points']:,}".replace(",", "."),
            }
        )
        tier = result.get("tier")
        if tier and tier.get("changed"):
            rows.append(_("Congratulations, you are now %(tier)s!") % {"tier": tier["name"]})
    rows.append(_("Thank you, %(name)s!") % {"name": greeting} if greeting else _("Thank you!"))
    return "\n".join(rows)


def _recorded_or_404(merchant: Merchant, key: str) -> RecordedSale:
    recorded = sale_by_key(merchant=merchant, key=key)
    if recorded is None:
        raise Http404
    return recorded


def _greeting(merchant: Merchant, customer: Customer | None) -> str:
    if customer is None:
        return ""
    with timezone.override(merchant_zone(merchant)):
        today = timezone.localdate()
    first_name = (customer.full_name or "").split(" ")[0]
    return f"{customer.greeting_on(today)} {first_name}".strip()


@merchant_view
@require_safe
def receipt(request, slug: str, key: str):
    """After the sale: the total, points earned and the new balance, a tier change, and the
    receipt to send by WhatsApp."""
    merchant, membership = merchant_for_request(request, slug)
    recorded = _recorded_or_404(merchant, key)
    result = recorded.result
    greeting = _greeting(merchant, recorded.customer)
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "recorded": recorded,
        "result": result,
        "greeting": greeting,
        "lines": [
            {"line": line, "amount": line.quantity * line.unit_price - line.discount}
            for line in recorded.lines
        ],
        "tab_paid": Decimal(result["paid"]["tab"]),
        "credit_paid": Decimal(result["paid"]["store_credit"]),
        "method_paid": Decimal(result["paid"]["payment_method"]),
        "method_label": dict(PAYMENT_CHOICES).get(recorded.sale.payment_method, ""),
        "payments": _payment_rows(recorded),
        "note": recorded.sale.note,
        "receipt_text": _receipt_text(merchant, recorded, greeting, recorded.sale.note),
        "whatsapp": bool(recorded.customer and recorded.customer.phone),
        "new_sale_url": reverse("counter:screen", kwargs={"slug": merchant.slug}) + "?baru=1",
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "counter/screen_receipt.html", context)


@merchant_view
@require_safe
def receipt_whatsapp(request, slug: str, key: str):
    """Open WhatsApp with the receipt typed in (``wa.me``), to the sale's customer: the page
    itself never shows the full number."""
    merchant, _membership = merchant_for_request(request, slug)
    recorded = _recorded_or_404(merchant, key)
    if recorded.customer is None or not recorded.customer.phone:
        raise Http404
    greeting = _greeting(merchant, recorded.customer)
    text = _receipt_text(merchant, recorded, greeting, recorded.sale.note)
    return HttpResponseRedirect(wa_me_link(recorded.customer.phone, text))
