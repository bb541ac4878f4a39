"""Which merchant a dashboard request is about, and whether the user may see it.

A merchant the user is not a member of is answered with 404, exactly like a merchant that does
not exist, so that the dashboard never confirms that another merchant's data exists. Within
their merchant, what a role may open is the table in :mod:`langganan.web.permissions`, applied
by :func:`merchant_view` to every dashboard page: a page the role may not open is a 403.
"""

from __future__ import annotations

from functools import wraps
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from langganan.core.errors import NotFound
from langganan.core.models import Membership, Merchant, Role
from langganan.core.selectors import membership_get, merchant_get, merchants_for_user

from .permissions import PERMISSIONS, Rule

_CACHE = "_langganan_merchant_access"
#: the session key of the customer a cashier is serving, per merchant
SERVING_KEY = "serving:{merchant_id}"


def merchant_for_request(request, slug: str) -> tuple[Merchant, Membership]:
    """The merchant at ``slug`` and the user's membership there; 404 when there is none."""
    cached = getattr(request, _CACHE, None)
    if cached is not None and cached[0] == slug:
        return cached[1], cached[2]
    try:
        merchant = merchant_get(slug=slug)
    except NotFound as exc:
        raise Http404 from exc
    membership = membership_get(user=request.user, merchant=merchant)
    if membership is None:
        raise Http404
    setattr(request, _CACHE, (slug, merchant, membership))
    return merchant, membership


def serving_set(request, merchant: Merchant, customer_id: int) -> None:
    """Remember the customer the user is serving now (one per merchant: the latest lookup)."""
    request.session[SERVING_KEY.format(merchant_id=merchant.pk)] = int(customer_id)


def serving_get(request, merchant: Merchant) -> int | None:
    return request.session.get(SERVING_KEY.format(merchant_id=merchant.pk))


def start_url(merchant: Merchant, membership: Membership) -> str:
    """Where the role starts: the overview (Ringkasan), or the counter (kasir) for a cashier."""
    name = "web:merchant_home" if membership.role != Role.CASHIER else "counter:screen"
    return reverse(name, kwargs={"slug": merchant.slug})


def _allowed(request, rule: Rule | None, merchant, membership, kwargs) -> bool:
    if rule is None or not rule.allows(membership.role, request.method):
        return False
    if membership.role in rule.served_only:
        try:
            pk = int(kwargs.get("pk"))
        except (TypeError, ValueError):
            return False
        return serving_get(request, merchant) == pk
    return True


def forbidden(request, merchant: Merchant, membership: Membership, rule: Rule | None):
    """The 403 page: which role the user has here, and where they can go instead."""
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "rule": rule,
        "serving_only": rule is not None and membership.role in rule.served_only,
        "start_url": start_url(merchant, membership),
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "web/forbidden.html", context, status=403)


def permission_denied(request, exception=None):
    """``handler403``: a view that refused with PermissionDenied after finding the merchant
    (its own finer rule, e.g. reading allowed but not sending) gets the same 403 page, with the
    merchant's menu; anywhere else the plain 403 page."""
    cached = getattr(request, _CACHE, None)
    if cached is None or not request.user.is_authenticated:
        return render(request, "403.html", status=403)
    _slug, merchant, membership = cached
    match = request.resolver_match
    rule = PERMISSIONS.get(match.view_name) if match is not None else None
    return forbidden(request, merchant, membership, rule)


def merchant_view(view):
    """A dashboard page of one merchant (``slug`` in the URL), opened by the roles that
    :data:`~langganan.web.permissions.PERMISSIONS` names for the page's URL name.

    Someone not logged in goes to the login page; a merchant the user is not a member of is a
    404; a role the table does not allow gets the 403 page (as does a page with no rule). The
    view then finds the merchant and membership with :func:`merchant_for_request` at no cost.
    """

    @wraps(view)
    def wrapped(request, slug: str, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        merchant, membership = merchant_for_request(request, slug)
        match = request.resolver_match
        rule = PERMISSIONS.get(match.view_name) if match is not None else None
        if not _allowed(request, rule, merchant, membership, kwargs):
            return forbidden(request, merchant, membership, rule)
        return view(request, slug, *args, **kwargs)

    wrapped.merchant_view = True  # type: ignore[attr-defined]
    return wrapped


def merchant_zone(merchant: Merchant) -> ZoneInfo:
    """The merchant's time zone (Asia/Jakarta unless the merchant says otherwise)."""
    try:
        return ZoneInfo(merchant.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)
