"""Kasbon (the tab) at the counter: the open tabs, taking a payment, the reminder, the limit.

- ``/m/<merchant>/kasbon/``: every customer who owes — balance, limit, age of the oldest unpaid
  charge, last payment (owner, manager, cashier);
- ``/m/<merchant>/kasbon/<customer>/``: one customer's tab with the payment form (full or
  partial, tunai / QRIS / transfer …), the latest payments, the limit and its history;
- ``…/bayar/`` (POST): records the payment through
  :func:`langganan.loyalty.tab_payments.tab_payment_record`; the form carries an idempotency key
  made when the form was shown, so a double tap or a re-sent form records one payment;
- ``…/limit/`` (POST, owner and manager only): :func:`langganan.loyalty.tab.tab_set_limit`,
  recorded in the audit log with who changed it and shown as the limit's history.

The polite WhatsApp reminder (a wa.me link with the amount, greeting the customer as the owner
would) is shown to the roles that see customers' phone numbers (owner, manager); a cashier sees
the phone masked and no link.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from langganan.core.errors import LanggananError
from langganan.core.models import Outlet, Role
from langganan.core.money import format_rupiah, parse_money
from langganan.customers.models import Customer
from langganan.loyalty.models import TabPaymentMethod
from langganan.loyalty.tab import tab_balance, tab_limit_history, tab_set_limit
from langganan.loyalty.tab_payments import tab_payment_record, tab_payments_of, tabs_open
from langganan.privacy import audit
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone
from langganan.web.permissions import CONTACT_ROLES, may_open
from langganan.web.views import _render_for_merchant

#: the methods offered on the page, most used first
PAGE_METHODS = (
    TabPaymentMethod.CASH,
    TabPaymentMethod.QRIS,
    TabPaymentMethod.BANK_TRANSFER,
    TabPaymentMethod.E_WALLET,
    TabPaymentMethod.DEBIT_CARD,
)
METHOD_LABELS = {
    TabPaymentMethod.CASH: gettext_lazy("Cash"),
    TabPaymentMethod.QRIS: "QRIS",
    TabPaymentMethod.BANK_TRANSFER: gettext_lazy("Transfer"),
    TabPaymentMethod.E_WALLET: gettext_lazy("E-wallet"),
    TabPaymentMethod.DEBIT_CARD: gettext_lazy("Debit"),
}
MONTHS_ID = (
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
).split()


class MoneyField(forms.Field):
    """Rupiah as people type it: ``25000``, ``25.000``, ``Rp 25.000``."""

    widget = forms.TextInput

    def __init__(self, *, min_value: Decimal | None = None, **kwargs):
        super().__init__(**kwargs)
        self.min_value = min_value

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            if len(text) > 20:
                raise ValueError(text)
            amount = parse_money(text)
        except (ValueError, ArithmeticError) as exc:
            raise forms.ValidationError(_("Write the amount in Rupiah, e.g. 25000.")) from exc
        if amount > Decimal("100000000000"):
            raise forms.ValidationError(_("The amount is too large."))
        return amount

    def validate(self, value):
        super().validate(value)
        if value is not None and self.min_value is not None and value < self.min_value:
            raise forms.ValidationError(
                _("The amount must be at least %(amount)s.")
                % {"amount": format_rupiah(self.min_value)}
            )


class TabPaymentForm(forms.Form):
    amount = MoneyField(label=gettext_lazy("Amount paid"), min_value=Decimal("1"))
    method = forms.ChoiceField(
        label=gettext_lazy("Paid with"),
        choices=[(m.value, METHOD_LABELS[m]) for m in PAGE_METHODS],
        initial=TabPaymentMethod.CASH,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    outlet = forms.ModelChoiceField(
        label=gettext_lazy("Outlet"),
        queryset=Outlet.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose the outlet"),
    )

    def __init__(self, *args, outlets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if outlets:
            self.fields["outlet"].queryset = outlets
            self.fields["outlet"].required = True
        else:
            del self.fields["outlet"]


class TabLimitForm(forms.Form):
    limit = MoneyField(label=gettext_lazy("New credit limit"), min_value=Decimal("0"))


# -- helpers ----------------------------------------------------------------------------------


def _customer(merchant, pk: int) -> Customer:
    customer = Customer.objects.filter(merchant=merchant, pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def _payment_outlets(merchant, membership):
    """``(outlet, None)`` when the payment's outlet is known (the cashier's own, or the only
    one), else ``(None, the outlets to choose from)``."""
    if membership.outlet_id:
        return membership.outlet, None
    outlets = Outlet.objects.filter(merchant=merchant).order_by("name", "pk")
    if len(outlets) == 1:
        return outlets[0], None
    return None, outlets or None


def _date_id(day) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def reminder_text(*, merchant, customer: Customer, owed: Decimal, since=None, today=None) -> str:
    """The polite reminder sent from the owner's WhatsApp, always in Indonesian (it is for the
    customer): greeting as the owner would say it, the amount, since when, and a thank-you."""
    today = today or timezone.localdate()
    greeting = customer.greeting_on(today)
    first = (customer.full_name or "").split(" ")[0]
    who = f"{greeting} {first}".strip()
    since_text = f" (sejak {_date_id(since)})" if since else ""
    return (
        f"Halo {who}, semoga sehat selalu. Kami dari {merchant.name} mau mengingatkan "
        f"kasbon {greeting} sebesar {format_rupiah(owed)}{since_text}. "
        f"Kalau sudah sempat, bisa dibayar saat mampir lagi atau lewat transfer/QRIS. "
        f"Terima kasih banyak, {greeting}! 🙏"
    )


def reminder_link(*, merchant, customer: Customer, owed: Decimal, since=None) -> str:
    from langganan.campaigns.channels.manual import wa_me_link

    if not customer.phone:
        return ""
    text = reminder_text(merchant=merchant, customer=customer, owed=owed, since=since)
    return wa_me_link(customer.phone, text)


# -- pages ------------------------------------------------------------------------------------


@merchant_view
@require_safe
def tab_list(request, slug: str):
    """The open tabs: who owes, how much of what limit, since when, the last payment."""
    merchant, membership = merchant_for_request(request, slug)
    with timezone.override(merchant_zone(merchant)):
        tabs = tabs_open(merchant=merchant)
    sees_contact = membership.role in CONTACT_ROLES
    rows = []
    for tab in tabs:
        rows.append(
            {
                "tab": tab,
                "url": reverse("counter:tab_detail", kwargs={"slug": slug, "pk": tab.customer.pk}),
                "reminder": reminder_link(
                    merchant=merchant,
                    customer=tab.customer,
                    owed=tab.owed,
                    since=tab.oldest_unpaid_on,
                )
                if sees_contact
                else "",
            }
        )
    total = sum((t.owed for t in tabs), Decimal("0"))
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "counter/tab_list.html",
        {"rows": rows, "total_owed": total, "sees_contact": sees_contact},
    )


def _detail_context(request, merchant, membership, customer, *, pay_form=None, limit_form=None):
    owed, limit = tab_balance(customer=customer)
    tabs = {t.customer.pk: t for t in tabs_open(merchant=merchant)}
    tab = tabs.get(customer.pk)
    outlet, outlets = _payment_outlets(merchant, membership)
    if pay_form is None:
        pay_form = TabPaymentForm(
            outlets=outlets,
            initial={"key": uuid.uuid4().hex, "amount": "", "method": TabPaymentMethod.CASH},
        )
    may_limit = may_open(membership.role, "counter:tab_limit")
    if limit_form is None and may_limit:
        limit_form = TabLimitForm(initial={"limit": formats.number_format(int(limit))})
    sees_contact = membership.role in CONTACT_ROLES
    return {
        "customer": customer,
        "owed": owed,
        "limit": limit,
        "available": max(Decimal("0"), limit - owed),
        "tab": tab,
        "pay_form": pay_form,
        "limit_form": limit_form if may_limit else None,
        "payment_outlet": outlet,
        "payments": tab_payments_of(customer=customer),
        "history": tab_limit_history(customer=customer),
        "sees_contact": sees_contact,
        "reminder": reminder_link(
            merchant=merchant,
            customer=customer,
            owed=owed,
            since=tab.oldest_unpaid_on if tab else None,
        )
        if sees_contact and owed > 0
        else "",
        "full_amount": formats.number_format(owed, 0) if owed else "",
        "owed_plain": f"{owed:.0f}" if owed == owed.to_integral_value() else f"{owed:.2f}",
    }


@merchant_view
@require_safe
def tab_detail(request, slug: str, pk: int):
    """One customer's tab: pay it off, remind, change the limit (owner and manager)."""
    merchant, membership = merchant_for_request(request, slug)
    customer = _customer(merchant, pk)
    audit.record(request, merchant, "customer.view", customer, page="tab")
    with timezone.override(merchant_zone(merchant)):
        context = _detail_context(request, merchant, membership, customer)
    return _render_for_merchant(request, merchant, membership, "counter/tab_detail.html", context)


def _render_detail(request, merchant, membership, customer, status: int, **forms_):
    with timezone.override(merchant_zone(merchant)):
        context = _detail_context(request, merchant, membership, customer, **forms_)
    response = _render_for_merchant(
        request, merchant, membership, "counter/tab_detail.html", context
    )
    response.status_code = status
    return response


@merchant_view
@require_POST
def tab_pay(request, slug: str, pk: int):
    """Record a payment (POST from the tab's page); a replay of the same form records nothing
    more and says so."""
    merchant, membership = merchant_for_request(request, slug)
    customer = _customer(merchant, pk)
    outlet, outlets = _payment_outlets(merchant, membership)
    form = TabPaymentForm(request.POST, outlets=outlets)
    if not form.is_valid():
        return _render_detail(request, merchant, membership, customer, 400, pay_form=form)
    data = form.cleaned_data
    try:
        result = tab_payment_record(
            merchant=merchant,
            customer_id=customer.pk,
            amount=data["amount"],
            method=data["method"],
            idempotency_key="page:" + data["key"],
            outlet=data.get("outlet") or outlet,
            recorded_by=request.user,
            memo=data.get("note", ""),
        )
    except LanggananError as exc:
        form.add_error("amount" if exc.field == "amount" else None, _tab_error(exc, customer))
        return _render_detail(request, merchant, membership, customer, 400, pay_form=form)
    owed = Decimal(result["tab"]["owed"])
    amount = format_rupiah(Decimal(result["payment"]["amount"]))
    if result["replayed"]:
        messages.info(request, _("This payment was already recorded; it was not recorded again."))
    elif owed == 0:
        messages.success(
            request, _("Payment of %(amount)s recorded. The tab is paid off.") % {"amount": amount}
        )
    else:
        messages.success(
            request,
            _("Payment of %(amount)s recorded. Still owed: %(owed)s.")
            % {"amount": amount, "owed": format_rupiah(owed)},
        )
    return redirect("counter:tab_detail", slug=merchant.slug, pk=customer.pk)


def _tab_error(exc: LanggananError, customer: Customer) -> str:
    """The service's refusal in the page's language."""
    from langganan.loyalty import tab as tab_module

    owed, limit = tab_balance(customer=customer)
    if exc.message.startswith(tab_module.ERR_PAY_MORE_THAN_OWED.split("{")[0]):
        return _("That is more than the customer owes (%(owed)s).") % {"owed": format_rupiah(owed)}
    if exc.message.startswith(tab_module.ERR_LIMIT_BELOW_OWED.split("{")[0]):
        return _(
            "The customer already owes %(owed)s, more than this limit: take a payment first "
            "or set a higher limit."
        ) % {"owed": format_rupiah(owed)}
    if exc.message == tab_module.ERR_AMOUNT_NOT_POSITIVE:
        return _("The amount must be more than zero.")
    return exc.message


@merchant_view
@require_POST
def tab_limit(request, slug: str, pk: int):
    """Set or raise the customer's credit limit (owner and manager; the table in
    :mod:`langganan.web.permissions` refuses a cashier with 403)."""
    merchant, membership = merchant_for_request(request, slug)
    customer = _customer(merchant, pk)
    form = TabLimitForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, merchant, membership, customer, 400, limit_form=form)
    try:
        tab_set_limit(
            customer=customer, limit=form.cleaned_data["limit"], at=timezone.now(), request=request
        )
    except LanggananError as exc:
        form.add_error("limit", _tab_error(exc, customer))
        return _render_detail(request, merchant, membership, customer, 400, limit_form=form)
    messages.success(
        request,
        _("Credit limit set to %(limit)s.") % {"limit": format_rupiah(form.cleaned_data["limit"])},
    )
    return redirect("counter:tab_detail", slug=merchant.slug, pk=customer.pk)


# -- the end-of-day summary -------------------------------------------------------------------

#: labels of the payment table's lines (the sales' payment methods, the tab payments')
RECEIVED_LABELS = {
    "cash": gettext_lazy("Cash"),
    "qris": "QRIS",
    "debit_card": gettext_lazy("Debit card"),
    "credit_card": gettext_lazy("Credit card"),
    "e_wallet": gettext_lazy("E-wallet"),
    "bank_transfer": gettext_lazy("Bank transfer"),
    "store_credit": gettext_lazy("Store credit"),
    "tab": gettext_lazy("Tab"),
    "unknown": gettext_lazy("Not recorded (import)"),
}
SOURCE_LABELS = {
    "": gettext_lazy("Not recorded"),
    "counter": gettext_lazy("At the counter"),
    "pos": gettext_lazy("POS"),
    "signup": gettext_lazy("Self sign-up (QR)"),
    "qr": gettext_lazy("Self sign-up (QR)"),
    "import": gettext_lazy("Import"),
}


class DayForm(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@merchant_view
@require_safe
def day_summary(request, slug: str):
    """``/m/<merchant>/kasir/ringkasan/?day=YYYY-MM-DD``: the day at the counter (default
    today, merchant-local), per outlet and cashier. A cashier sees today at their own outlet
    (every outlet when they have none) and no other day."""
    from langganan.counter.day import day_summary as summary_of
    from langganan.counter.day import merchant_today

    merchant, membership = merchant_for_request(request, slug)
    today = merchant_today(merchant, timezone.now())
    day, outlet = today, None
    own_day = membership.role == Role.CASHIER  # a cashier: today, at their own outlet
    if own_day:
        outlet = membership.outlet
    else:
        form = DayForm(request.GET or None)
        if form.is_valid() and form.cleaned_data.get("day"):
            day = form.cleaned_data["day"]
    summary = summary_of(merchant=merchant, day=day, outlet=outlet)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "counter/day_summary.html",
        {
            "summary": summary,
            "day": day,
            "today": today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1) if day < today else None,
            "own_day": own_day,
        },
    )
