"""Customer profiles and per-channel marketing consent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant
from langganan.customers.greetings import derive_greeting


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Greeting(models.TextChoices):
    AUTO = "", _("Automatic")
    KAK = "Kak", "Kak"
    MAS = "Mas", "Mas"
    MBAK = "Mbak", "Mbak"
    PAK = "Pak", "Pak"
    BU = "Bu", "Bu"


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"


class Customer(models.Model):
    """A person who buys from the merchant. A walk-in sale has no customer."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customers")
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    greeting = models.CharField(
        _("preferred greeting"), max_length=4, choices=Greeting.choices, blank=True
    )
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.TextField(_("address"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    member_code = models.CharField(_("member code"), max_length=32)
    external_ref = models.CharField(
        _("merchant's customer reference"),
        max_length=64,
        null=True,
        blank=True,
        help_text=_("The customer id in the merchant's own or previous system."),
    )
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    acquisition_source = models.CharField(_("acquisition source"), max_length=50, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["full_name", "id"]
        constraints = [
            # Full unique indexes (NULLs never collide), usable by every "IN (…)" look-up.
            models.UniqueConstraint(
                fields=["merchant", "phone"], name="customer_phone_unique_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["merchant", "member_code"], name="customer_member_code_unique"
            ),
            models.UniqueConstraint(
                fields=["merchant", "external_ref"], name="customer_external_ref_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(phone__isnull=True) | models.Q(phone__startswith="+"),
                name="customer_phone_e164",
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=["", "M", "F"]), name="customer_gender_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(greeting__in=["", "Kak", "Mas", "Mbak", "Pak", "Bu"]),
                name="customer_greeting_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(member_code=""), name="customer_member_code_not_empty"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "full_name"]),
        ]

    def __str__(self) -> str:
        return self.full_name or self.phone or self.member_code

    def greeting_on(self, today) -> str:
        return self.greeting or derive_greeting(self.gender, self.birth_date, today)

    @property
    def salutation(self) -> str:
        """What the cashier says: ``Kak Rina``."""
        first = (self.full_name or "").split(" ")[0]
        greeting = self.greeting_on(timezone.localdate())
        return f"{greeting} {first}".strip()


class ConsentEvent(models.Model):
    """One grant or withdrawal of marketing consent for one channel. Append-only.

    The customer's current consent on a channel is the latest event for it (UU PDP 27/2022:
    the controller must be able to show when, how and to which wording consent was given).
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    source = models.CharField(
        _("source"), max_length=50, help_text=_("Where it was captured: counter, import, web…")
    )
    wording_version = models.CharField(_("wording version"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["customer", "channel", "-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=["email", "whatsapp", "sms"]),
                name="consent_channel_valid",
            ),
        ]
        indexes = [models.Index(fields=["customer", "channel", "occurred_at"])]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.customer} {self.channel} {state}"
