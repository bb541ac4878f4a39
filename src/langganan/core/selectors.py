"""Reads for tenancy."""

from __future__ import annotations

from django.db.models import QuerySet

from langganan.core.errors import NotFound
from langganan.core.models import Membership, Merchant, Outlet

ERR_MERCHANT_NOT_FOUND = "no merchant with this slug"
ERR_OUTLET_NOT_FOUND = "this merchant has no outlet with this code"


def merchant_get(*, slug: str) -> Merchant:
    try:
        return Merchant.objects.get(slug=slug)
    except Merchant.DoesNotExist as exc:
        raise NotFound(f"{ERR_MERCHANT_NOT_FOUND}: {slug}") from exc


def merchant_list() -> QuerySet[Merchant]:
    return Merchant.objects.order_by("slug")


def outlet_get(*, merchant: Merchant, code: str) -> Outlet:
    try:
        return Outlet.objects.get(merchant=merchant, code=code)
    except Outlet.DoesNotExist as exc:
        raise NotFound(f"{ERR_OUTLET_NOT_FOUND}: {code}") from exc


def merchants_for_user(*, user) -> QuerySet[Merchant]:
    if not user.is_authenticated:
        return Merchant.objects.none()
    return Merchant.objects.filter(memberships__user=user).order_by("name")


def membership_get(*, user, merchant: Merchant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, merchant=merchant).first()
