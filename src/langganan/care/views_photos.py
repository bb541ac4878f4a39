"""The complaint page's photos and its refund: adding photos, showing one (only to the
merchant's owners and managers; another merchant's photo is a 404), and refunding the sale a
complaint is about as its service recovery (once per form, see :mod:`langganan.care.refunds`).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from langganan.core.errors import LanggananError
from langganan.core.money import parse_money
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

from .photos import complaint_photos_add, photo_get, photos_check
from .refunds import complaint_refund
from .views import _back, _complaint, _detail_url, _error


def photos_from_request(request, *, already: int = 0):
    """The checked photos of the request's ``photos`` field (raises PhotoRefused)."""
    return photos_check(request.FILES.getlist("photos"), already=already)


@merchant_view
@require_POST
def complaint_photo_add(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    try:
        checked = photos_from_request(request, already=complaint.photos.count())
        if not checked:
            messages.error(request, _("Choose a photo first."))
            return redirect(_detail_url(slug, complaint_id) + "#foto")
        complaint_photos_add(
            complaint=complaint,
            photos=checked,
            caption=request.POST.get("caption", ""),
            by=request.user,
        )
    except LanggananError as exc:
        messages.error(request, _error(exc))
        return redirect(_detail_url(slug, complaint_id) + "#foto")
    messages.success(request, _("The photo was added."))
    return redirect(_detail_url(slug, complaint_id) + "#foto")


@merchant_view
@require_http_methods(["GET", "HEAD"])
def complaint_photo(request, slug: str, complaint_id: int, photo_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    photo = photo_get(merchant=merchant, complaint_id=complaint_id, photo_id=photo_id)
    if photo is None:
        raise Http404
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@merchant_view
@require_POST
def complaint_refund_view(request, slug: str, complaint_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    complaint = _complaint(merchant, complaint_id)
    key = request.POST.get("key", "").strip()[:64]
    raw = request.POST.get("amount", "").strip()
    amount = None
    if not key:
        messages.error(request, _("The form expired: open the complaint again."))
        return redirect(_detail_url(slug, complaint_id) + "#pemulihan")
    if raw:
        try:
            amount = parse_money(raw)
        except (ValueError, ArithmeticError):
            messages.error(request, _("Write the amount in Rupiah, e.g. 25000."))
            return redirect(_detail_url(slug, complaint_id) + "#pemulihan")
    try:
        with timezone.override(merchant_zone(merchant)):
            complaint_refund(complaint=complaint, key=key, amount=amount, by=request.user)
    except LanggananError as exc:
        return _back(request, slug, complaint_id, exc)
    return _back(
        request, slug, complaint_id, ok=_("Refunded, and counted as the complaint's cost.")
    )
