"""Reads of the staff page."""

from __future__ import annotations

from dataclasses import dataclass

from langganan.core.models import Membership, Merchant

from .guard import account_locks, minutes_left
from .models import SignInLock


@dataclass(frozen=True)
class StaffRow:
    membership: Membership
    lock: SignInLock | None

    @property
    def minutes_left(self) -> int | None:
        return minutes_left(self.lock) if self.lock else None


def staff_rows(*, merchant: Merchant) -> list[StaffRow]:
    """The merchant's staff (owners first), each with the lock on their login if there is one."""
    memberships = list(
        Membership.objects.filter(merchant=merchant)
        .select_related("user", "outlet")
        .order_by("role", "user__username")
    )
    order = {"owner": 0, "manager": 1, "cashier": 2}
    memberships.sort(key=lambda m: (order.get(m.role, 9), m.user.username.casefold()))
    locks = account_locks(usernames=[m.user.username for m in memberships])
    return [StaffRow(membership=m, lock=locks.get(m.user.username)) for m in memberships]
