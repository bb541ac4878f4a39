"""Forms of the dashboard."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from langganan.staff.guard import (
    client_address,
    login_address_remember,
    login_failure_record,
    login_lock_get,
    login_success_record,
    minutes_left,
    password_check_slot,
    seconds_left,
)
from langganan.staff.hashers import login_checks
from langganan.staff.messages import ERR_LOGIN_BUSY, err_account_locked, err_address_locked
from langganan.staff.models import Scope
from langganan.staff.two_factor import totp_device_confirmed

ERR_LOGIN_INVALID = _(
    "That username and password do not match. Both are case-sensitive; please try again."
)


class LoginForm(AuthenticationForm):
    """Django's login form with a message that reads well in Bahasa Indonesia."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": ERR_LOGIN_INVALID,
    }
    #: Seconds to wait before trying again when the login was refused unchecked (429).
    retry_after: int | None = None

    def clean(self):
        """Refuse a locked account or address before its password is checked; check the
        password in one of the machine's few password-check slots; count a wrong one."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        address = client_address(self.request)
        lock = login_lock_get(username=username, address=address)
        if lock is not None:
            self._refuse_locked(lock)
        with password_check_slot() as checking:
            if not checking:
                self.retry_after = 2
                raise ValidationError(ERR_LOGIN_BUSY, code="busy")
            with login_checks():  # the hashing at the lowest CPU priority
                self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            lock = login_failure_record(username=username, address=address)
            if lock is not None:
                self._refuse_locked(lock)
            raise self.get_invalid_login_error()
        if totp_device_confirmed(user=self.user_cache) is None:
            # with two-step login the count is cleared only by the right code too
            login_success_record(username=username)
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def _refuse_locked(self, lock):
        self.retry_after = seconds_left(lock)
        login_address_remember(lock)  # this worker refuses the address's next logins early
        if lock.scope == Scope.ADDRESS:
            raise ValidationError(err_address_locked(minutes_left(lock)), code="locked")
        raise ValidationError(err_account_locked(minutes_left(lock)), code="locked")
