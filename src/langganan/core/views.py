"""Set-up pages: a new business from the browser, then its checklist (outlets, the loyalty
program, staff, messages, the first import).

Views parse input, call one service or selector, and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from langganan.core.errors import LanggananError
from langganan.core.forms import BusinessForm, OutletForm
from langganan.core.models import Membership, Outlet
from langganan.core.selectors import merchants_for_user
from langganan.core.services import (
    may_create_merchant,
    merchant_setup,
    outlet_code_next,
    outlet_create,
)
from langganan.web.access import merchant_for_request, merchant_view
from langganan.web.views import _render_for_merchant


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup_start(request):
    """Create a business: its name, type, time zone and first outlet; the user becomes its
    owner. Only for an account that may create businesses (``langganan owner create``)."""
    if not may_create_merchant(request.user):
        raise PermissionDenied
    form = BusinessForm(request.POST or None, initial={"time_zone": "Asia/Jakarta"})
    if request.method == "POST" and form.is_valid():
        try:
            merchant = merchant_setup(user=request.user, **form.cleaned_data)
        except LanggananError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("%(name)s is ready. Next: the loyalty program.") % {"name": merchant.name},
            )
            return redirect("setup:checklist", slug=merchant.slug)
    return render(
        request,
        "core/setup_start.html",
        {"form": form, "merchants": merchants_for_user(user=request.user)},
        status=400 if form.errors else 200,
    )


def _steps(merchant) -> list[dict]:
    from django.urls import reverse

    from langganan.loyalty.models import Program

    slug = merchant.slug
    outlets = Outlet.objects.filter(merchant=merchant).count()
    staff = Membership.objects.filter(merchant=merchant).count()
    program = Program.objects.filter(merchant=merchant).first()
    has_sales = merchant.transactions.exists()
    tier_names = (
        list(program.tiers.order_by("rank").values_list("name", flat=True)) if program else []
    )
    return [
        {
            "key": "business",
            "title": _("Business"),
            "done": True,
            "text": merchant.name,
            "url": "",
        },
        {
            "key": "outlets",
            "title": _("Outlets"),
            "done": outlets > 0,
            "text": _("%(n)s outlet(s)") % {"n": outlets},
            "url": "#outlets",
            "action": _("Add an outlet"),
        },
        {
            "key": "program",
            "title": _("Loyalty program"),
            "done": program is not None,
            "text": program.name
            if program
            else _("Not set up yet: points, their value, the welcome voucher."),
            "url": reverse("loyalty:program", args=[slug]),
            "action": _("Change the program") if program else _("Set up the program"),
        },
        {
            "key": "tiers",
            "title": _("Member tiers"),
            "done": tier_names != [],
            "text": ", ".join(tier_names)
            if tier_names
            else _("Optional: Silver, Gold… with more points or cashback for your best customers."),
            "url": reverse("loyalty:tiers", args=[slug]) if program else "",
            "action": _("Change the tiers") if tier_names else _("Add tiers"),
        },
        {
            "key": "staff",
            "title": _("Staff"),
            "done": staff > 1,
            "text": _("%(n)s login(s) with a role") % {"n": staff},
            "url": reverse("staff:list", args=[slug]) + "#add-staff",
            "action": _("Add staff"),
        },
        {
            "key": "messages",
            "title": _("Messages to customers"),
            "done": True,
            "text": _(
                "WhatsApp by hand is on: the campaign page lists each message with a button that "
                "opens WhatsApp on your phone."
            ),
            "url": reverse("campaigns_web:channels", args=[slug]),
            "action": _("Message channels"),
        },
        {
            "key": "data",
            "title": _("Your customers and sales"),
            "done": has_sales,
            "text": _("Import your history from Excel or CSV, or record sales at the counter.")
            if not has_sales
            else _("Sales are recorded."),
            "url": reverse("data:export", args=[slug]),
            "action": _("Import and export"),
        },
    ]


@merchant_view
@require_http_methods(["GET", "HEAD"])
def setup_checklist(request, slug: str):
    """What is set up and what is next, with the outlets and a form to add one."""
    merchant, membership = merchant_for_request(request, slug)
    steps = _steps(merchant)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "core/setup.html",
        {
            "steps": steps,
            "done": sum(1 for s in steps if s["done"]),
            "outlets": Outlet.objects.filter(merchant=merchant).order_by("code"),
            "outlet_form": OutletForm(),
        },
    )


@merchant_view
@require_POST
def outlet_add(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    form = OutletForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outlet = outlet_create(
                merchant=merchant,
                code=outlet_code_next(merchant, data["city"] or data["name"]),
                name=data["name"].strip(),
                city=data["city"].strip(),
                address=data["address"].strip(),
            )
        except LanggananError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Outlet %(name)s added (code %(code)s).")
                % {
                    "name": outlet.name,
                    "code": outlet.code,
                },
            )
            return redirect("setup:checklist", slug=merchant.slug)
    steps = _steps(merchant)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "core/setup.html",
        {
            "steps": steps,
            "done": sum(1 for s in steps if s["done"]),
            "outlets": Outlet.objects.filter(merchant=merchant).order_by("code"),
            "outlet_form": form,
        },
        status=400,
    )
