"""Privacy pages: the request log and processing purposes, the audit log, the correction form,
the access export and erasure of one customer.

Roles (checked here with the membership, like the other pages): the request log is read by
owners and managers and written by owners; the audit log, the export and erasure are the
owner's; corrections are made by owners and managers. Another merchant's customer is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from langganan.core.errors import LanggananError, NotFound
from langganan.core.models import Role
from langganan.core.phones import format_phone
from langganan.core.selectors import merchants_for_user
from langganan.customers.selectors import customer_get
from langganan.privacy import services
from langganan.privacy.export import personal_data_json, personal_data_xlsx
from langganan.privacy.forms import (
    AuditFilterForm,
    CloseRequestForm,
    CorrectionForm,
    EraseForm,
    RequestForm,
)
from langganan.privacy.models import AuditAction, PrivacyRequest, RequestStatus
from langganan.privacy.purposes import purposes_for
from langganan.privacy.selectors import (
    audit_events,
    corrections_for,
    customer_by_reference,
    erasure_for,
    privacy_requests,
)
from langganan.web.access import merchant_for_request, merchant_zone

OWNER_ONLY = (Role.OWNER,)
READING_ROLES = (Role.OWNER, Role.MANAGER)
REQUESTS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
CUSTOMER_TYPE = "customers.customer"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _merchant(request, slug: str, roles):
    merchant, membership = merchant_for_request(request, slug)
    if membership.role not in roles:
        raise PermissionDenied
    return merchant, membership


def _customer(merchant, pk: int):
    try:
        return customer_get(merchant=merchant, customer_id=pk)
    except NotFound as exc:
        raise Http404 from exc


def _render(request, merchant, membership, template: str, context: dict, status: int = 200):
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        **context,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, template, context, status=status)


# -- the request log ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def privacy_home(request, slug: str):
    """The request log (overdue first in red), the form to log a request, the purposes."""
    merchant, membership = _merchant(request, slug, READING_ROLES)
    form = RequestForm()
    status = 200
    if request.method == "POST":
        if membership.role != Role.OWNER:
            raise PermissionDenied
        form = RequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer = None
                if data["customer"].strip():
                    customer = customer_by_reference(merchant=merchant, reference=data["customer"])
                services.privacy_request_log(
                    merchant=merchant,
                    kind=data["kind"],
                    reference=data["reference"],
                    customer=customer,
                    requester=data["requester"],
                    received_at=data["received_at"],
                    user=request.user,
                    http_request=request,
                )
            except NotFound:
                form.add_error(
                    "customer", _("No single customer has this phone number, member code or id.")
                )
            except LanggananError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("The request was logged. Answer it before its deadline.")
                )
                return redirect("privacy:home", slug=merchant.slug)
        status = 400
    now = timezone.now()
    page = Paginator(privacy_requests(merchant=merchant), REQUESTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(r, r.is_overdue(now)) for r in page.object_list]
    overdue = PrivacyRequest.objects.filter(
        merchant=merchant, status=RequestStatus.OPEN, deadline__lt=now
    ).count()
    return _render(
        request,
        merchant,
        membership,
        "privacy/privacy_home.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "overdue": overdue,
            "purposes": purposes_for(merchant),
            "can_write": membership.role == Role.OWNER,
        },
        status=status,
    )


@login_required
@require_POST
def request_close(request, slug: str, pk: int):
    merchant, membership = _merchant(request, slug, OWNER_ONLY)
    entry = get_object_or_404(PrivacyRequest, merchant=merchant, pk=pk)
    form = CloseRequestForm(request.POST)
    if form.is_valid() and entry.status == RequestStatus.OPEN:
        services.privacy_request_close(
            entry=entry, status=form.cleaned_data["status"], user=request.user
        )
        messages.success(request, _("The request was closed."))
    return redirect("privacy:home", slug=merchant.slug)


# -- the audit log --------------------------------------------------------------------------


@login_required
@require_safe
def audit_list(request, slug: str):
    merchant, membership = _merchant(request, slug, OWNER_ONLY)
    users = (
        get_user_model()
        .objects.filter(memberships__merchant=merchant)
        .order_by("username")
        .distinct()
    )
    form = AuditFilterForm(request.GET or None, users=users)
    filters: dict = {}
    customer_missing = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "action": data["action"],
            "user_id": data["user"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
        text = data["customer"].strip()
        if text:
            try:
                filters["customer"] = customer_by_reference(merchant=merchant, reference=text)
            except NotFound:
                filters["customer_text"] = text
                customer_missing = True
    events = audit_events(merchant=merchant, zone=merchant_zone(merchant), **filters)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    from langganan.customers.models import Customer

    ids = {int(e.object_id) for e in page.object_list if e.object_type == CUSTOMER_TYPE}
    names = {
        str(c.pk): str(c)
        for c in Customer.objects.filter(merchant=merchant, pk__in=ids).only(
            "pk", "full_name", "phone", "member_code"
        )
    }
    return _render(
        request,
        merchant,
        membership,
        "privacy/audit_list.html",
        {
            "form": form,
            "page_obj": page,
            "events": page.object_list,
            "labels": dict(AuditAction.choices),
            "customer_missing": customer_missing,
            "names": names,
        },
    )


# -- one customer ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def customer_edit(request, slug: str, pk: int):
    """Correct a customer's personal data; each change is kept with who made it and when."""
    merchant, membership = _merchant(request, slug, READING_ROLES)
    customer = _customer(merchant, pk)
    erasure = erasure_for(customer=customer)
    initial = {f: getattr(customer, f) for f in services.CORRECTABLE_FIELDS}
    initial["phone"] = format_phone(customer.phone)
    form = CorrectionForm(initial=initial)
    status = 200
    if request.method == "POST" and erasure is None:
        form = CorrectionForm(request.POST, initial=initial)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reference = data.pop("reference")
            changes = {f: v for f, v in data.items() if f in form.changed_data}
            try:
                rows = services.customer_correct(
                    customer=customer,
                    changes=changes,
                    user=request.user,
                    reference=reference,
                    http_request=request,
                )
            except LanggananError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, _(exc.message))  # PROFILE_ERRORS are translated
            else:
                if rows:
                    messages.success(request, _("The changes were saved and recorded."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("privacy:customer_edit", slug=merchant.slug, pk=customer.pk)
        status = 400
    return _render(
        request,
        merchant,
        membership,
        "privacy/customer_edit.html",
        {
            "customer": customer,
            "form": form,
            "erasure": erasure,
            "corrections": corrections_for(customer=customer)[:100],
            "field_labels": {name: form.fields[name].label for name in services.CORRECTABLE_FIELDS},
        },
        status=status,
    )


@login_required
@require_POST
def customer_export(request, slug: str, pk: int, fmt: str):
    """The customer's data as a file (owner only), logged as an access request and audited."""
    merchant, membership = _merchant(request, slug, OWNER_ONLY)
    customer = _customer(merchant, pk)
    if fmt not in ("json", "xlsx"):
        raise Http404
    data = services.personal_data_export(
        customer=customer,
        fmt=fmt,
        reference=request.POST.get("reference", "")[:64],
        user=request.user,
        http_request=request,
    )
    if fmt == "json":
        response = HttpResponse(personal_data_json(data), content_type="application/json")
    else:
        response = HttpResponse(personal_data_xlsx(data), content_type=XLSX)
    name = f"data-pribadi-{customer.member_code}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def customer_erase(request, slug: str, pk: int):
    """Confirm, then erase (anonymise) the customer's personal data (owner only)."""
    merchant, membership = _merchant(request, slug, OWNER_ONLY)
    customer = _customer(merchant, pk)
    erasure = erasure_for(customer=customer)
    form = EraseForm()
    status = 200
    if request.method == "POST" and erasure is None:
        form = EraseForm(request.POST)
        if form.is_valid():
            try:
                services.customer_erase(
                    customer=customer,
                    reference=form.cleaned_data["reference"],
                    user=request.user,
                    http_request=request,
                )
            except LanggananError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("The customer's personal data was erased."))
                return redirect("privacy:customer_erase", slug=merchant.slug, pk=customer.pk)
        else:
            status = 400
    from langganan.loyalty.tab import tab_balance

    owed, _limit = tab_balance(customer=customer)
    return _render(
        request,
        merchant,
        membership,
        "privacy/customer_erase.html",
        {"customer": customer, "form": form, "erasure": erasure, "owed": owed},
        status=status,
    )
