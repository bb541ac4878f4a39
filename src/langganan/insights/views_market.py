"""The target market settings, the customer map against it, and "is the CRM worth it?".

Owners and managers only (a cashier gets 403, :mod:`langganan.web.permissions`); another
merchant is a 404. Views parse input, call one service or selector and render.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from langganan.core.models import Merchant
from langganan.core.money import parse_money
from langganan.core.selectors import merchants_for_user
from langganan.insights import market as market_mod
from langganan.insights import worth as worth_mod
from langganan.insights.models import AcquisitionSpend, TargetMarket
from langganan.sales.models import PaymentMethod
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

ERR_MONEY = gettext_lazy("Type an amount in Rupiah, e.g. 25.000.")
ERR_SPEND_ORDER = gettext_lazy("The lower bound is above the upper bound.")
ERR_MONTH = gettext_lazy("Pick a month.")


def _period(request, allowed, default) -> int:
    try:
        days = int(request.GET.get("days", default))
    except (TypeError, ValueError):
        return default
    return days if days in allowed else default


class MoneyField(forms.CharField):
    """Rupiah as merchants type it (``25.000``, ``Rp 25.000``); empty is None."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            amount = parse_money(text)
        except ValueError as exc:
            raise forms.ValidationError(ERR_MONEY) from exc
        if amount < 0:
            raise forms.ValidationError(ERR_MONEY)
        return amount


class TargetForm(forms.Form):
    areas = forms.CharField(
        label=gettext_lazy("Areas (cities or provinces, one per line or separated by commas)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    genders = forms.MultipleChoiceField(
        label=gettext_lazy("Gender"),
        required=False,
        choices=[("F", gettext_lazy("Women")), ("M", gettext_lazy("Men"))],
        widget=forms.CheckboxSelectMultiple,
    )
    age_bands = forms.MultipleChoiceField(
        label=gettext_lazy("Age"),
        required=False,
        choices=[(code, market_mod.age_label(code)) for code in market_mod.AGE_CODES],
        widget=forms.CheckboxSelectMultiple,
    )
    spend_basis = forms.ChoiceField(
        label=gettext_lazy("Spend counted"),
        choices=TargetMarket.SpendBasis.choices,
        widget=forms.RadioSelect,
        initial=TargetMarket.SpendBasis.VISIT,
    )
    spend_min = MoneyField(label=gettext_lazy("Spend from (Rp)"), required=False)
    spend_max = MoneyField(label=gettext_lazy("Spend up to (Rp)"), required=False)
    payment_methods = forms.MultipleChoiceField(
        label=gettext_lazy("Payment methods"),
        required=False,
        choices=PaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    price_whatsapp = MoneyField(label=gettext_lazy("WhatsApp (Rp per message)"), required=False)
    price_sms = MoneyField(label=gettext_lazy("SMS (Rp per message)"), required=False)
    price_email = MoneyField(label=gettext_lazy("E-mail (Rp per message)"), required=False)

    def clean_areas(self) -> list[str]:
        seen, out = set(), []
        for part in re.split(r"[\n,;]", self.cleaned_data.get("areas") or ""):
            name = " ".join(part.split())
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                out.append(name)
        return out

    def clean(self):
        data = super().clean()
        low, high = data.get("spend_min"), data.get("spend_max")
        if low is not None and high is not None and low > high:
            self.add_error("spend_max", ERR_SPEND_ORDER)
        return data


#: months offered in the acquisition spend form: this one and the ones before it (the longest
#: period of the page is a year)
SPEND_MONTHS = 24


def _months_back(today: date, count: int) -> list[date]:
    months, month = [], today.replace(day=1)
    for _i in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


class AcquisitionForm(forms.Form):
    """A month picked from a list named in the page's language (``Desember 2026``): the
    browser's own month picker names months in the browser's language, not the page's."""

    month = forms.ChoiceField(label=gettext_lazy("Month"))
    amount = MoneyField(label=gettext_lazy("Spent on ads and promotions (Rp)"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [
            (f"{month:%Y-%m}", date_format(month, "F Y"))
            for month in _months_back(today, SPEND_MONTHS)
        ]

    def clean_month(self) -> date:
        text = (self.cleaned_data.get("month") or "").strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(ERR_MONTH)
        return date(int(match.group(1)), int(match.group(2)), 1)


def _context(request, merchant: Merchant, membership, **extra) -> dict:
    return {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        **extra,
    }


# -- target market settings ----------------------------------------------------------------


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def target_settings(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    target = market_mod.target_market_get(merchant=merchant)
    if request.method == "POST":
        form = TargetForm(request.POST)
        if form.is_valid():
            market_mod.target_market_save(merchant=merchant, user=request.user, **form.cleaned_data)
            messages.success(request, _("Target market saved."))
            return redirect(reverse("insights:market", kwargs={"slug": merchant.slug}))
    else:
        initial = {}
        if target is not None:
            initial = {
                "areas": "\n".join(target.areas),
                "genders": target.genders,
                "age_bands": target.age_bands,
                "spend_basis": target.spend_basis,
                "spend_min": _plain(target.spend_min),
                "spend_max": _plain(target.spend_max),
                "payment_methods": target.payment_methods,
                "price_whatsapp": _plain(target.price_whatsapp),
                "price_sms": _plain(target.price_sms),
                "price_email": _plain(target.price_email),
            }
        form = TargetForm(initial=initial)
    prices = worth_mod.message_prices(merchant=merchant)
    context = _context(request, merchant, membership, form=form, target=target, prices=prices)
    with timezone.override(merchant_zone(merchant)):
        return render(request, "insights/target.html", context)


def _plain(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"{int(amount):,}".replace(",", ".")


# -- the customer map ----------------------------------------------------------------------


@merchant_view
@require_safe
def market(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    days = _period(request, market_mod.PERIODS, market_mod.DEFAULT_PERIOD)
    with timezone.override(merchant_zone(merchant)):
        result = market_mod.market_map(merchant=merchant, period_days=days)
        context = _context(
            request, merchant, membership, result=result, days=days, periods=market_mod.PERIODS
        )
        return render(request, "insights/market.html", context)


# -- is it worth it? -----------------------------------------------------------------------


@merchant_view
@require_safe
def worth(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    days = _period(request, worth_mod.PERIODS, worth_mod.DEFAULT_PERIOD)
    with timezone.override(merchant_zone(merchant)):
        result = worth_mod.worth_get(merchant=merchant, period_days=days)
        summary = bars = None
        if result is not None:
            acquisition = worth_mod.acquisition_spend(
                merchant=merchant, start=result.period_start, end=result.period_end
            )
            summary = worth_mod.worth_summary(result, acquisition=acquisition)
            top = max(summary["cost"], summary["earned"], Decimal("1"))
            bars = {
                "cost": f"{max(summary['cost'], 0) / top * 100:.1f}",
                "earned": f"{max(summary['earned'], 0) / top * 100:.1f}",
            }
        spend_rows = AcquisitionSpend.objects.filter(merchant=merchant).order_by("-month")[:12]
        today = timezone.localdate()
        form = AcquisitionForm(initial={"month": f"{today:%Y-%m}"}, today=today)
        members = (result.data.get("members") or {}) if result else {}
        joined = {
            key: date.fromisoformat(members[key])
            for key in ("join_from", "join_to")
            if members.get(key)
        }
        context = _context(
            request,
            merchant,
            membership,
            result=result,
            data=result.data if result else None,
            summary=summary,
            bars=bars,
            days=days,
            periods=worth_mod.PERIODS,
            spend_rows=spend_rows,
            form=form,
            joined=joined,
            outcome_days=worth_mod.OUTCOME_DAYS,
            min_matched=worth_mod.MIN_MATCHED,
        )
        return render(request, "insights/worth.html", context)


@merchant_view
@require_POST
def worth_refresh(request, slug: str):
    merchant, _membership = merchant_for_request(request, slug)
    days = _period(request, worth_mod.PERIODS, worth_mod.DEFAULT_PERIOD)
    try:
        days = int(request.POST.get("days", days))
    except (TypeError, ValueError):
        pass
    if days not in worth_mod.PERIODS:
        days = worth_mod.DEFAULT_PERIOD
    worth_mod.worth_compute(merchant, days)
    messages.success(request, _("Computed again."))
    return redirect(f"{reverse('insights:worth', kwargs={'slug': merchant.slug})}?days={days}")


@merchant_view
@require_POST
def worth_spend(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    with timezone.override(merchant_zone(merchant)):
        form = AcquisitionForm(request.POST, today=timezone.localdate())
    try:
        days = int(request.POST.get("days", worth_mod.DEFAULT_PERIOD))
    except (TypeError, ValueError):
        days = worth_mod.DEFAULT_PERIOD
    if days not in worth_mod.PERIODS:
        days = worth_mod.DEFAULT_PERIOD
    if form.is_valid():
        worth_mod.acquisition_spend_set(merchant=merchant, user=request.user, **form.cleaned_data)
        messages.success(request, _("Acquisition spend saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{reverse('insights:worth', kwargs={'slug': merchant.slug})}?days={days}")
