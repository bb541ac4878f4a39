"""Failed sign-ins and the locks they lead to (see :mod:`langganan.staff.guard`).

Both tables are in the database, not in a cache: the app runs as several gunicorn worker
processes, and Django's default cache is per process, so a count kept there would let an
attacker spread attempts over the workers. A failure row is written only for a wrong password
or key; a valid API key writes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    LOGIN = "login", _("staff login")
    API_KEY = "api_key", _("API key")


class Scope(models.TextChoices):
    ACCOUNT = "account", _("account")
    ADDRESS = "address", _("address")


class SignInFailure(models.Model):
    """One wrong password (for ``username``, from ``address``) or one wrong API key."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    address = models.CharField(_("IP address"), max_length=45)
    username = models.CharField(_("username"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            models.Index(fields=["kind", "username", "at"], name="signin_failure_user"),
            models.Index(fields=["kind", "address", "at"], name="signin_failure_address"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.username or '-'} from {self.address} at {self.at:%Y-%m-%d %H:%M}"


class SignInLock(models.Model):
    """Sign-ins of one account or from one address refused until ``until`` (or lifted)."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    value = models.CharField(_("username or address"), max_length=150)
    created_at = models.DateTimeField(_("locked at"))
    until = models.DateTimeField(_("locked until"))
    failures = models.PositiveIntegerField(_("failures counted"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    class Meta:
        verbose_name = _("sign-in lock")
        verbose_name_plural = _("sign-in locks")
        indexes = [models.Index(fields=["kind", "scope", "value", "until"], name="signin_lock")]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope} {self.value} until {self.until:%Y-%m-%d %H:%M}"
