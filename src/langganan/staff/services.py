"""Writes of the staff page."""

from __future__ import annotations

from langganan.core.errors import NotFound
from langganan.core.models import Membership, Merchant

from .guard import lock_lift

ERR_NOT_STAFF = "no such staff member at this business"


def staff_unlock(*, merchant: Merchant, membership_id: int, by) -> int:
    """Lift the login lock of one of ``merchant``'s staff; the number of locks lifted."""
    membership = (
        Membership.objects.filter(merchant=merchant, pk=membership_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound(ERR_NOT_STAFF)
    return lock_lift(username=membership.user.get_username(), by=by)
