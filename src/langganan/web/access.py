"""Which merchant a dashboard request is about, and whether the user may see it.

A merchant the user is not a member of is answered with 404, exactly like a merchant that does
not exist, so that the dashboard never confirms that another merchant's data exists.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import Http404

from langganan.core.errors import NotFound
from langganan.core.models import Membership, Merchant
from langganan.core.selectors import membership_get, merchant_get


def merchant_for_request(request, slug: str) -> tuple[Merchant, Membership]:
    """The merchant at ``slug`` and the user's membership there; 404 when there is none."""
    try:
        merchant = merchant_get(slug=slug)
    except NotFound as exc:
        raise Http404 from exc
    membership = membership_get(user=request.user, merchant=merchant)
    if membership is None:
        raise Http404
    return merchant, membership


def merchant_zone(merchant: Merchant) -> ZoneInfo:
    """The merchant's time zone (Asia/Jakarta unless the merchant says otherwise)."""
    try:
        return ZoneInfo(merchant.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)
