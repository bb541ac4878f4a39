"""Forms of the dashboard."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

ERR_LOGIN_INVALID = _(
    "That username and password do not match. Both are case-sensitive; please try again."
)


class LoginForm(AuthenticationForm):
    """Django's login form with a message that reads well in Bahasa Indonesia."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": ERR_LOGIN_INVALID,
    }
