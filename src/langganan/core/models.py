"""Tenancy: the merchant (tenant), its outlets, and staff memberships."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,49}$",
    _("2–50 characters: lower-case letters, digits and dashes, starting with a letter or digit."),
)
code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$",
    _("1–20 characters: letters, digits, dash or underscore."),
)


def new_settings_version() -> int:
    """A random stamp: a cache filled under an old stamp can never match a new one, even after
    a database is restored or a test's rows are rolled back and made again."""
    return secrets.randbits(62)


class Merchant(models.Model):
    """A business using Langganan: the tenant every other row belongs to.

    ``settings_version`` changes (database triggers set a new random stamp) whenever the
    merchant's loyalty program, its tiers, earning or cashback rules or webhook endpoints
    change; :mod:`langganan.core.settings_cache` keeps them per process under it.
    """

    class BusinessType(models.TextChoices):
        WARUNG = "warung", _("Warung / warteg")
        CAFE = "cafe", _("Café / coffee shop")
        RESTAURANT = "restaurant", _("Restaurant")
        SALON = "salon", _("Salon / barbershop")
        SHOP = "shop", _("Shop")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=200)
    # comparable merchants (same type) lend each other their purchase models' prior; nullable
    # without a default so that SQLite adds the column in place (a rebuilt table would lose the
    # loyalty settings triggers that name it); empty means "other"
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices, null=True, blank=True
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Jakarta")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    settings_version = models.BigIntegerField(
        _("settings version"), default=new_settings_version, editable=False
    )

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """Save without writing ``settings_version`` back: only the triggers set it, so a form
        read before a settings change cannot restore the old stamp (and a stale cache)."""
        if not self._state.adding and kwargs.get("update_fields") is None and self.pk:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "settings_version"
            ]
        super().save(*args, **kwargs)


class Outlet(models.Model):
    """One store, stall or branch of a merchant."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="outlets")
    code = models.CharField(_("code"), max_length=20, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        ordering = ["merchant", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="outlet_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CASHIER = "cashier", _("Cashier")


class Membership(models.Model):
    """A user's role at a merchant. A user may work for several merchants."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("For cashiers: the outlet they work at."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "manager", "cashier"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


from langganan.core.jobs.models import JobLock, JobRun  # noqa: E402, F401 (core's job tables)
