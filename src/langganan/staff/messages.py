"""What a refused login says (constants the tests assert on)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

ERR_LOGIN_BUSY = _("The server is busy checking other logins. Please try again in a moment.")


def err_account_locked(minutes: int) -> str:
    return ngettext(
        "Too many login attempts. Try again in %(minutes)s minute, or ask the business owner "
        "to unlock your account.",
        "Too many login attempts. Try again in %(minutes)s minutes, or ask the business owner "
        "to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def err_address_locked(minutes: int) -> str:
    return ngettext(
        "Too many login attempts from this address. Try again in %(minutes)s minute.",
        "Too many login attempts from this address. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
