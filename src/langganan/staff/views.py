"""The staff page (owners only, ``langganan.web.permissions``): who works here, and "buka
kunci" for a locked login. A manager or cashier gets the 403 page; another merchant is a 404."""

from __future__ import annotations

import secrets
import time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from langganan.core.errors import Conflict, InvalidInput, NotFound
from langganan.core.selectors import merchants_for_user
from langganan.core.services import staff_user_create
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

from .forms import StaffAddForm
from .guard import (
    client_address,
    login_failure_record,
    login_lock_get,
    login_success_record,
    minutes_left,
)
from .messages import err_account_locked, err_address_locked
from .models import Scope
from .selectors import staff_rows
from .services import staff_unlock
from .two_factor import (
    totp_confirm,
    totp_device_confirmed,
    totp_device_pending,
    totp_disable,
    totp_qr_svg,
    totp_secret,
    totp_verify,
)


def _staff_page(request, merchant, membership, form, created=None, status=200):
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "rows": staff_rows(merchant=merchant),
        "two_factor_on": two_factor_on(request.user),
        "form": form,
        "created": created,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "staff/staff_list.html", context, status=status)


@merchant_view
@require_safe
def staff_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    return _staff_page(request, merchant, membership, StaffAddForm(merchant=merchant))


@merchant_view
@require_POST
def staff_add(request, slug: str):
    """A new login with a role; its first password is generated and shown once, on this
    answer only (not stored in a message), for the owner to hand over."""
    merchant, membership = merchant_for_request(request, slug)
    form = StaffAddForm(request.POST, merchant=merchant)
    if form.is_valid():
        data = form.cleaned_data
        password = secrets.token_urlsafe(9)
        try:
            user = staff_user_create(
                merchant=merchant,
                username=data["username"],
                password=password,
                role=data["role"],
                outlet=data["outlet"],
            )
        except Conflict:
            form.add_error("username", _("This username is taken; choose another."))
        else:
            first, _space, last = data["full_name"].strip().partition(" ")
            user.first_name, user.last_name = first[:150], last[:150]
            user.save(update_fields=["first_name", "last_name"])
            created = {"username": user.get_username(), "password": password}
            return _staff_page(
                request, merchant, membership, StaffAddForm(merchant=merchant), created
            )
    return _staff_page(request, merchant, membership, form, status=400)


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


# -- two-factor login (owners) -------------------------------------------------------------------

PENDING = "langganan_login_code"
PENDING_SECONDS = 300  # the password was right this long ago at most


def two_factor_on(user) -> bool:
    """Whether ``user`` logs in with a code after the password."""
    return totp_device_confirmed(user=user) is not None


def login_code_start(request, user, next_url: str):
    """The password was right and the user has an authenticator: ask for its code next."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", None),
        "next": next_url,
        "at": time.time(),
    }
    return redirect("staff:login_code")


@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second step of an owner's login: the current code of their authenticator app."""
    pending = request.session.get(PENDING)
    user = device = None
    if pending and time.time() - pending.get("at", 0) <= PENDING_SECONDS:
        user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
        device = totp_device_confirmed(user=user)
    if user is None or device is None:
        request.session.pop(PENDING, None)
        return redirect("web:login")
    error, status = None, 200
    if request.method == "POST":
        address = client_address(request)
        lock = login_lock_get(username=user.get_username(), address=address)
        if lock is None:
            if totp_verify(device=device, code=request.POST.get("code", "")):
                request.session.pop(PENDING, None)
                auth_login(request, user, backend=pending.get("backend"))
                login_success_record(username=user.get_username())
                return redirect(pending.get("next") or "web:home")
            lock = login_failure_record(username=user.get_username(), address=address)
            error = _("That code is not right. Type the code your authenticator app shows now.")
        if lock is not None:
            request.session.pop(PENDING, None)
            minutes = minutes_left(lock)
            error = (
                err_address_locked(minutes)
                if lock.scope == Scope.ADDRESS
                else err_account_locked(minutes)
            )
            status = 429
    return render(request, "staff/login_code.html", {"error": error}, status=status)


@merchant_view
@require_http_methods(["GET", "POST"])
def two_factor(request, slug: str):
    """An owner turns two-factor login on (scan, then type the first code) or off."""
    merchant, membership = merchant_for_request(request, slug)
    error = None
    if request.method == "POST":
        code = request.POST.get("code", "")
        try:
            if request.POST.get("action") == "disable":
                totp_disable(user=request.user, code=code)
                messages.success(request, _("Two-step login is off."))
            else:
                totp_confirm(user=request.user, code=code)
                messages.success(
                    request, _("Two-step login is on: the next login will ask for a code.")
                )
            return redirect("staff:two_factor", slug=merchant.slug)
        except InvalidInput:
            error = _("That code is not right. Type the code your authenticator app shows now.")
    device = totp_device_confirmed(user=request.user)
    pending = None if device else totp_device_pending(user=request.user)
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "device": device,
        "qr": mark_safe(totp_qr_svg(pending)) if pending else None,  # noqa: S308 (segno's SVG)
        "secret": totp_secret(pending) if pending else None,
        "error": error,
    }
    return render(request, "staff/two_factor.html", context)
