"""Loyalty pages: the program's settings in plain words (owners only)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from langganan.core.errors import LanggananError
from langganan.loyalty.forms import ProgramForm, TierForm, TierFormSet, TierSettingsForm
from langganan.loyalty.models import Member, Program, Tier
from langganan.loyalty.program import EXAMPLE_BILL, earn_example, program_save, tiers_save
from langganan.web.access import merchant_for_request, merchant_view
from langganan.web.views import _render_for_merchant


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def program(request, slug: str):
    """Set up or change the loyalty program, with a live example of what a purchase earns."""
    merchant, membership = merchant_for_request(request, slug)
    current = Program.objects.filter(merchant=merchant).select_related("welcome_voucher").first()
    form = ProgramForm(request.POST or None, initial=ProgramForm.initial_for(current, merchant))
    if request.method == "POST" and form.is_valid():
        try:
            program_save(merchant=merchant, **form.cleaned_data)
        except LanggananError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The loyalty program is saved."))
            return redirect("setup:checklist", slug=merchant.slug)
    values = form.cleaned_data if form.is_bound and form.is_valid() else form.initial
    if form.is_bound and not form.is_valid():
        values = ProgramForm.initial_for(current, merchant)
    points, worth = earn_example(
        earn_step=Decimal(values["earn_step"]),
        earn_points=int(values["earn_points"]),
        point_value=Decimal(values["point_value"]),
    )
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "loyalty/program.html",
        {
            "form": form,
            "program": current,
            "example_bill": EXAMPLE_BILL,
            "example_points": points,
            "example_worth": worth,
        },
        status=400 if form.errors else 200,
    )


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def tiers(request, slug: str):
    """The program's tiers (e.g. Silver, Gold): what it takes to reach each and what it gives."""
    merchant, membership = merchant_for_request(request, slug)
    program = Program.objects.filter(merchant=merchant).first()
    if program is None:
        messages.info(request, _("Set up the loyalty program first; tiers come after it."))
        return redirect("loyalty:program", slug=merchant.slug)
    current = list(
        Tier.objects.filter(program=program)
        .annotate(holders=Count("members", distinct=True))
        .order_by("rank")
    )
    settings_initial = {
        "tier_basis": program.tier_basis,
        "tier_window_days": program.tier_window_days,
        "tier_review_months": program.tier_review_months,
    }
    data = request.POST if request.method == "POST" else None
    settings_form = TierSettingsForm(data, initial=settings_initial)
    formset = TierFormSet(data, initial=[TierForm.initial_for(t) for t in current], prefix="tier")
    if data is not None and settings_form.is_valid() and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if not f.cleaned_data.get("empty")]
        rows = [r for r in rows if r]  # an untouched extra row has no data at all
        try:
            tiers_save(
                merchant=merchant,
                basis=settings_form.cleaned_data["tier_basis"],
                window_days=settings_form.cleaned_data["tier_window_days"],
                review_months=settings_form.cleaned_data["tier_review_months"],
                rows=rows,
            )
        except LanggananError as exc:
            settings_form.add_error(None, exc.message)
        else:
            messages.success(request, _("The tiers are saved."))
            return redirect("loyalty:tiers", slug=merchant.slug)
    holders = {t.pk: t.holders for t in current}
    rows = [(form, holders.get(form.initial.get("id"))) for form in formset.forms]
    bound = data is not None
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "loyalty/tiers.html",
        {
            "program": program,
            "settings_form": settings_form,
            "formset": formset,
            "rows": rows,
            "tiers": current,
            "members": Member.objects.filter(merchant=merchant).count(),
        },
        status=400 if bound and (settings_form.errors or not formset.is_valid()) else 200,
    )
