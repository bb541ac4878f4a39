"""The staff page (owners only, ``langganan.web.permissions``): who works here, and "buka
kunci" for a locked login. A manager or cashier gets the 403 page; another merchant is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from langganan.core.errors import NotFound
from langganan.core.selectors import merchants_for_user
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

from .selectors import staff_rows
from .services import staff_unlock


@merchant_view
@require_safe
def staff_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "rows": staff_rows(merchant=merchant),
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "staff/staff_list.html", context)


@merchant_view
@require_POST
def staff_unlock_view(request, slug: str, pk: int):
    merchant, _membership = merchant_for_request(request, slug)
    try:
        lifted = staff_unlock(merchant=merchant, membership_id=pk, by=request.user)
    except NotFound as exc:
        raise Http404 from exc
    if lifted:
        messages.success(request, _("The lock was lifted: they can log in again now."))
    else:
        messages.info(request, _("That login was not locked."))
    return redirect("staff:list", slug=merchant.slug)
