"""The complaint pages (keluhan) under ``/m/<merchant>/keluhan/`` and the public feedback page.

- the queue: filters by status and overdue, the overdue ones counted and highlighted;
- a complaint: its facts, deadlines, timeline, and the actions (note, status, assignee,
  service recovery, a reply by WhatsApp);
- recording one: from the queue, or from a customer's page ("Catat keluhan"), which a cashier
  may use for the customer they are serving (and is then sent back to that customer: a cashier
  sees no complaint pages);
- the categories: the merchant's own list;
- ``/ulasan/<token>/``: the feedback page of one sale (public, signed token, see
  :mod:`langganan.care.feedback`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from langganan.core.errors import LanggananError, NotFound
from langganan.core.models import Outlet, Role
from langganan.core.money import format_rupiah
from langganan.customers.models import Customer
from langganan.customers.selectors import customer_lookup_exact
from langganan.sales.models import Transaction
from langganan.staff.guard import client_address
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone
from langganan.web.views import _render_for_merchant

from . import feedback as feedback_service
from .forms import ComplaintForm, FeedbackForm, NoteForm, RecoveryForm
from .inbound import inbound_to_complaint
from .models import (
    OPEN_STATUSES,
    TRANSITIONS,
    ComplaintCategory,
    EventKind,
    Feedback,
    InboundMessage,
    RecoveryKind,
    Status,
)
from .selectors import (
    care_settings_for,
    categories_of,
    complaint_cost,
    complaint_get,
    complaints_for,
    deadlines,
    feedback_scores,
    overdue_count,
)
from .services import (
    assignable_users,
    care_settings_save,
    categories_ensure,
    category_add,
    category_set_active,
    complaint_assign,
    complaint_create,
    complaint_note,
    complaint_recover,
    complaint_reply,
    complaint_set_status,
)

#: what a status change is called on its button
STATUS_ACTIONS = {
    Status.IN_PROGRESS: gettext_noop("Handle it"),
    Status.RESOLVED: gettext_noop("Mark resolved"),
    Status.CLOSED: gettext_noop("Close"),
    Status.REJECTED: gettext_noop("Reject"),
}


def _error(exc: LanggananError) -> str:
    params = getattr(exc, "params", None)
    if params:
        labels = {k: str(Status(v).label) if v in Status.values else v for k, v in params.items()}
        return _(exc.message) % labels
    return _(exc.message)


def _complaint(merchant, complaint_id: int):
    try:
        return complaint_get(merchant=merchant, pk=complaint_id)
    except NotFound as exc:
        raise Http404 from exc


def _detail_url(slug: str, complaint_id: int) -> str:
    return reverse("care:complaint_detail", kwargs={"slug": slug, "complaint_id": complaint_id})


# -- the queue ----------------------------------------------------------------------------------


@merchant_view
@require_http_methods(["GET", "HEAD"])
def complaint_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    now = timezone.now()
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *Status.values):
        status = "open"
    overdue_only = request.GET.get("overdue") == "1"
    targets = care_settings_for(merchant)
    qs = complaints_for(
        merchant=merchant, status="" if status == "all" else status, overdue=overdue_only, now=now
    )
    rows = [{"c": c, "due": deadlines(c, targets, now)} for c in qs[:200]]
    rows.sort(key=lambda row: not row["due"].overdue)  # the overdue ones first, newest first
    filters = [("open", _("Open")), *[(s.value, s.label) for s in Status], ("all", _("All"))]
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/complaint_list.html",
        {
            "rows": rows,
            "status": status,
            "overdue_only": overdue_only,
            "overdue_total": overdue_count(merchant=merchant, now=now),
            "open_total": complaints_for(merchant=merchant, status="open").count(),
            "filters": filters,
            "targets": targets,
        },
    )


# -- recording ----------------------------------------------------------------------------------


def _sales_of(customer: Customer):
    sales = list(
        Transaction.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .select_related("outlet")
        .order_by("-occurred_at")[:10]
    )
    zone = merchant_zone(customer.merchant)
    for sale in sales:
        when = timezone.localtime(sale.occurred_at, zone)
        sale.label = f"{when:%d/%m/%Y %H:%M} · {format_rupiah(sale.total)} · {sale.outlet.name}"
    return sales


def _photos_checked(request, form):
    """The photos sent with the form, checked (an error on the form when one is refused)."""
    from .views_photos import photos_from_request

    try:
        return photos_from_request(request)
    except LanggananError as exc:
        form.add_error(None, _error(exc))
        return []


def _photos_store(request, complaint, photos) -> None:
    if photos:
        from .photos import complaint_photos_add

        complaint_photos_add(
            complaint=complaint,
            photos=photos,
            caption=request.POST.get("caption", ""),
            by=request.user,
        )


def _record(request, slug: str, customer: Customer | None):
    merchant, membership = merchant_for_request(request, slug)
    categories_ensure(merchant=merchant)
    categories = list(categories_of(merchant))
    outlets = list(Outlet.objects.filter(merchant=merchant, is_active=True).order_by("name"))
    sales = _sales_of(customer) if customer is not None else None
    initial = {"outlet": membership.outlet_id} if membership.outlet_id else {}
    form = ComplaintForm(
        request.POST or None,
        categories=categories,
        outlets=outlets,
        sales=sales,
        fixed_customer=customer is not None,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            chosen = customer
            if chosen is None and data.get("customer_query"):
                chosen = customer_lookup_exact(merchant=merchant, query=data["customer_query"])
                if chosen is None:
                    form.add_error(
                        "customer_query",
                        _("No customer has that phone number or member code."),
                    )
            photos = _photos_checked(request, form)
            if not form.errors:
                sale = None
                if data.get("sale"):
                    sale = next((s for s in sales or () if s.pk == data["sale"]), None)
                outlet = next((o for o in outlets if o.pk == data.get("outlet")), None)
                category = next((c for c in categories if c.pk == data["category"]), None)
                try:
                    with timezone.override(merchant_zone(merchant)):
                        complaint = complaint_create(
                            merchant=merchant,
                            text=data["text"],
                            channel=data["channel"],
                            category=category,
                            severity=data["severity"],
                            customer=chosen,
                            contact_name=data.get("contact_name", ""),
                            contact_phone=data.get("contact_phone", ""),
                            outlet=outlet,
                            transaction_obj=sale,
                            by=request.user,
                        )
                except LanggananError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, _error(exc))
                else:
                    _photos_store(request, complaint, photos)
                    messages.success(request, _("The complaint was recorded."))
                    if membership.role == Role.CASHIER:
                        return redirect("customers:customer_detail", slug=slug, pk=customer.pk)
                    return redirect(_detail_url(slug, complaint.pk))
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/complaint_form.html",
        {"form": form, "customer": customer, "photo_max_mb": _photo_max_mb()},
        status=status,
    )


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_create_view(request, slug: str):
    return _record(request, slug, None)


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_create_for(request, slug: str, pk: int):
    merchant, _membership = merchant_for_request(request, slug)
    customer = Customer.objects.filter(merchant=merchant, pk=pk).select_related("merchant").first()
    if customer is None:
        raise Http404
    return _record(request, slug, customer)


# -- one complaint ------------------------------------------------------------------------------


def _reply_text(complaint, merchant) -> str:
    """The reply's first draft, in Indonesian (it is for the customer)."""
    if complaint.customer_id:
        with timezone.override(merchant_zone(merchant)):
            who = complaint.customer.salutation
    else:
        who = (
            f"Kak {complaint.contact_name.split(' ')[0]}".strip()
            if complaint.contact_name
            else "Kak"
        )
    text = (
        f"Halo {who}, kami dari {merchant.name}. Terima kasih sudah menyampaikan keluhannya, "
        f"dan mohon maaf atas ketidaknyamanannya. "
    )
    voucher = next((r.voucher for r in complaint.recoveries.all() if r.voucher_id), None)
    if voucher is not None:
        text += (
            f"Sebagai permintaan maaf, ada voucher {format_rupiah(voucher.value)} "
            f"dengan kode {voucher.code} untuk kunjungan berikutnya. "
        )
    return text + "Semoga kami bisa melayani lebih baik lagi. 🙏"


@merchant_view
@require_http_methods(["GET", "HEAD"])
def complaint_detail(request, slug: str, complaint_id: int):
    merchant, membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    now = timezone.now()
    events = list(complaint.events.select_related("by"))
    recoveries = list(complaint.recoveries.select_related("voucher", "by"))
    phone = complaint.customer.phone if complaint.customer_id else complaint.contact_phone
    is_member = False
    if complaint.customer_id:
        from langganan.loyalty.models import Member

        is_member = Member.objects.filter(customer_id=complaint.customer_id).exists()
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/complaint_detail.html",
        {
            "complaint": complaint,
            "due": deadlines(complaint, care_settings_for(merchant), now),
            "events": events,
            "recoveries": recoveries,
            "cost": complaint_cost(complaint),
            "next_statuses": [
                (s, _(STATUS_ACTIONS[s])) for s in Status if s in TRANSITIONS[complaint.status]
            ],
            "users": assignable_users(merchant),
            "note_form": NoteForm(),
            "recovery_form": RecoveryForm(initial={"key": uuid.uuid4().hex}),
            "recovery_kinds": RecoveryKind,
            "is_member": is_member,
            "reply_text": _reply_text(complaint, merchant) if phone else "",
            "event_kinds": EventKind,
            "is_open": complaint.status in OPEN_STATUSES,
            **_photos_and_refund(complaint),
        },
    )


def _photo_max_mb() -> int:
    from .photos import max_bytes

    return max_bytes() // (1024 * 1024)


def _photos_and_refund(complaint) -> dict:
    """The complaint page's photos, and what is left to refund of its sale."""
    from .photos import MAX_PHOTOS
    from .refunds import refund_left

    left = refund_left(complaint.transaction) if complaint.transaction_id else None
    return {
        "photos": list(complaint.photos.all()),
        "max_photos": MAX_PHOTOS,
        "photo_max_mb": _photo_max_mb(),
        "refund_left": left,
        "refund_key": uuid.uuid4().hex,
    }


def _back(request, slug, complaint_id, exc: LanggananError | None = None, ok: str = ""):
    if exc is not None:
        messages.error(request, _error(exc))
    elif ok:
        messages.success(request, ok)
    return redirect(_detail_url(slug, complaint_id))


@merchant_view
@require_POST
def complaint_note_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    try:
        complaint_note(complaint=complaint, text=request.POST.get("text", ""), by=request.user)
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return _back(request, slug, complaint_id, ok=_("The note was added."))


@merchant_view
@require_POST
def complaint_status_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    try:
        complaint_set_status(
            complaint=complaint,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "").strip()[:2000],
            by=request.user,
        )
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return _back(request, slug, complaint_id, ok=_("The status was changed."))


@merchant_view
@require_POST
def complaint_assign_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    raw = request.POST.get("assignee", "")
    assignee = None
    if raw:
        assignee = assignable_users(merchant).filter(pk=raw if raw.isdigit() else 0).first()
        if assignee is None:
            messages.error(request, _("Choose a staff member of this business."))
            return redirect(_detail_url(slug, complaint_id))
    try:
        complaint_assign(complaint=complaint, assignee=assignee, by=request.user)
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return _back(request, slug, complaint_id, ok=_("The complaint was assigned."))


@merchant_view
@require_POST
def complaint_recover_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    form = RecoveryForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
            break
        return redirect(_detail_url(slug, complaint_id) + "#pemulihan")
    data = form.cleaned_data
    try:
        with timezone.override(merchant_zone(merchant)):
            complaint_recover(
                complaint=complaint,
                kind=data["kind"],
                key=data["key"],
                amount=data.get("amount"),
                points=data.get("points"),
                by=request.user,
            )
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return _back(request, slug, complaint_id, ok=_("Given, and counted as the complaint's cost."))


@merchant_view
@require_POST
def complaint_reply_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    try:
        link = complaint_reply(
            complaint=complaint, text=request.POST.get("text", "")[:2000], by=request.user
        )
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return redirect(link)


# -- categories ---------------------------------------------------------------------------------


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def categories(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    categories_ensure(merchant=merchant)
    if request.method == "POST":
        try:
            if request.POST.get("targets"):
                try:
                    values = {
                        name: int(request.POST.get(name, ""))
                        for name in ("first_response_hours", "resolution_hours", "low_rating")
                    }
                except ValueError:
                    values = {"first_response_hours": 0, "resolution_hours": 0, "low_rating": 0}
                care_settings_save(merchant=merchant, **values)
                messages.success(request, _("The targets were saved."))
            elif request.POST.get("toggle"):
                raw = request.POST["toggle"]
                category = ComplaintCategory.objects.filter(
                    merchant=merchant, pk=raw if raw.isdigit() else 0
                ).first()
                if category is None:
                    raise Http404
                category_set_active(category=category, active=not category.is_active)
            else:
                category_add(merchant=merchant, name=request.POST.get("name", ""))
                messages.success(request, _("The category was added."))
        except LanggananError as exc:
            messages.error(request, _error(exc))
        return redirect("care:categories", slug=slug)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/categories.html",
        {
            "categories": categories_of(merchant, active_only=False),
            "targets": care_settings_for(merchant),
        },
    )


# -- the public feedback page -------------------------------------------------------------------


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def feedback(request, token: str):
    """One sale's feedback form: no login; a bad token is a 404; nothing about the customer."""
    sale = feedback_service.feedback_sale(token)
    if sale is None:
        raise Http404
    merchant = sale.merchant
    context = {"merchant_name": merchant.name, "outlet_name": sale.outlet.name}
    if Feedback.objects.filter(transaction=sale).exists():
        return _private(render(request, "care/feedback_thanks.html", context))
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not feedback_service.feedback_allowed(address=client_address(request)):
            response = render(request, "care/feedback_limited.html", context, status=429)
            response["Retry-After"] = "3600"
            return _private(response)
        if form.is_bot():
            return _private(render(request, "care/feedback_thanks.html", context))
        if form.is_valid():
            data = form.cleaned_data
            try:
                feedback_service.feedback_submit(
                    sale=sale,
                    rating=data["rating"],
                    nps=data.get("nps"),
                    comment=data.get("comment", ""),
                    suggestion=data.get("suggestion", ""),
                )
            except LanggananError:  # answered meanwhile: thanked all the same
                pass
            return _private(render(request, "care/feedback_thanks.html", context))
        status = 400
    context["form"] = form
    return _private(render(request, "care/feedback.html", context, status=status))


# -- messages customers sent back ---------------------------------------------------------------


@merchant_view
@require_http_methods(["GET", "HEAD"])
def inbound_list(request, slug: str):
    """The WhatsApp and SMS messages customers sent (newest first), each with its customer."""
    merchant, membership = merchant_for_request(request, slug)
    rows = list(
        InboundMessage.objects.filter(merchant=merchant).select_related("customer", "complaint")[
            :200
        ]
    )
    return _render_for_merchant(
        request, merchant, membership, "care/inbound_list.html", {"rows": rows}
    )


@merchant_view
@require_POST
def inbound_complaint(request, slug: str, inbound_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    message = InboundMessage.objects.filter(merchant=merchant, pk=inbound_id).first()
    if message is None:
        raise Http404
    complaint = inbound_to_complaint(message=message, merchant=merchant, by=request.user)
    messages.success(request, _("The complaint was recorded."))
    return redirect(_detail_url(slug, complaint.pk))


# -- feedback after a visit ---------------------------------------------------------------------


@merchant_view
@require_http_methods(["GET", "HEAD"])
def feedback_list(request, slug: str):
    """The latest answers (rating, NPS, comment, suggestion) and the last 30 days' scores."""
    merchant, membership = merchant_for_request(request, slug)
    answers = Feedback.objects.filter(merchant=merchant)
    rows = list(answers.select_related("customer", "outlet", "complaint")[:200])
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/feedback_list.html",
        {
            "rows": rows,
            "scores": feedback_scores(merchant=merchant, since=timezone.now() - timedelta(days=30)),
        },
    )
