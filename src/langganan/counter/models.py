"""The counter's own tables.

Self sign-up by QR (issue 16, point 5): each outlet has a sign-up link whose token is printed as
a QR code on its poster; every sign-up sent through the link is counted (per address and per
outlet) for the rate limits of :mod:`langganan.counter.enrolment`. The counts are rows in the
database, not a cache: the app runs as several gunicorn worker processes, and Django's default
cache is per process (the same reason as :mod:`langganan.staff.models`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet


class SignupLink(models.Model):
    """The public sign-up page of one outlet: ``/daftar/<token>/``.

    The token is random (not the outlet's id or code), so nobody finds another outlet's page by
    counting; a new token (a poster that leaked) makes the old link a 404.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    outlet = models.OneToOneField(Outlet, on_delete=models.CASCADE, related_name="signup_link")
    token = models.CharField(_("token"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("sign-up link")
        verbose_name_plural = _("sign-up links")

    def __str__(self) -> str:
        return f"sign-up link of outlet {self.outlet_id}"


class SignupAttempt(models.Model):
    """One sign-up sent from the public page (kept a day, for the rate limits)."""

    link = models.ForeignKey(SignupLink, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(_("IP address"), max_length=45)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("sign-up attempt")
        verbose_name_plural = _("sign-up attempts")
        indexes = [
            models.Index(fields=["address", "at"], name="signup_attempt_address"),
            models.Index(fields=["link", "at"], name="signup_attempt_link"),
        ]

    def __str__(self) -> str:
        return f"sign-up from {self.address} at {self.at:%Y-%m-%d %H:%M}"


class MemberSignup(models.Model):
    """Where and by whom a new customer was signed up from the counter or a sign-up poster:
    the outlet, the staff user (none for a self sign-up) and the time — for the day at the
    counter's new members per outlet and cashier. Written only when a customer is created; a
    known phone number adds nothing."""

    class Source(models.TextChoices):
        COUNTER = "counter", _("at the counter")
        SIGNUP = "signup", _("self sign-up by QR")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="counter_signup"
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed up by"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("member sign-up")
        verbose_name_plural = _("member sign-ups")
        indexes = [models.Index(fields=["merchant", "at"], name="member_signup_day")]

    def __str__(self) -> str:
        return f"{self.source} sign-up of customer {self.customer_id} at {self.at:%Y-%m-%d %H:%M}"
