"""Campaigns: who is reached (audiences), when (kinds and their triggers), with what (templates),
how (the outbox and channel accounts), and what it earned (recipients with a holdout group).

Every row carries its merchant. A customer is assigned to a campaign at most once per
*occasion* (a one-off broadcast has the single occasion ``""``; a birthday greeting's occasion is
the year, a reminder's the predicted purchase date, a win-back's the last purchase date), which the
database enforces; the random holdout group is drawn at assignment and never messaged.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet
from langganan.customers.models import Channel, Customer

MONEY = {"max_digits": 16, "decimal_places": 2}
CHANNELS = [c.value for c in Channel]


class Audience(models.Model):
    """A saved filter over customers and their stored insights (see :mod:`.audiences`)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audiences")
    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="audience_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class MessageTemplate(models.Model):
    """A message in Bahasa Indonesia and English with ``{placeholders}`` (see :mod:`.templating`).

    ``whatsapp_template`` names the template approved in the merchant's WhatsApp Business
    account; the Cloud API sends it with the rendered placeholders as body parameters.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    subject_id = models.CharField(_("subject (Indonesian)"), max_length=200, blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_id = models.TextField(_("message (Indonesian)"))
    body_en = models.TextField(_("message (English)"), blank=True)
    whatsapp_template = models.CharField(_("WhatsApp template name"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="template_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignKind(models.TextChoices):
    BROADCAST = "broadcast", _("One-off broadcast")
    WELCOME = "welcome", _("Welcome new members")
    BIRTHDAY = "birthday", _("Birthday greeting")
    HOLIDAY = "holiday", _("Holiday greeting")
    REMINDER = "reminder", _("Repeat-order reminder")
    WINBACK = "winback", _("Win-back of lapsed customers")
    POINTS_EXPIRY = "points_expiry", _("Points-expiry reminder")
    TIER_UPGRADE = "tier_upgrade", _("Tier-upgrade congratulations")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")


class Campaign(models.Model):
    """What to send, to whom, when, over which channel, and with which offer."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=CampaignKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    manual_whatsapp = models.BooleanField(
        _("manual WhatsApp"),
        default=False,
        help_text=_("No API account: staff send each message from a wa.me link."),
    )
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="campaigns"
    )
    audience = models.ForeignKey(
        Audience,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text=_("Empty: every customer (the kind's own trigger still applies)."),
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=[("id", "Bahasa Indonesia"), ("en", "English")],
        default="id",
        help_text=_("Which version of the template is sent."),
    )
    # offer
    voucher_template = models.ForeignKey(
        "loyalty.Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_template": True},
        help_text=_("Each treated customer gets a personal code copied from it."),
    )
    voucher_valid_days = models.PositiveIntegerField(_("voucher valid for (days)"), default=14)
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    # timing
    send_at = models.DateTimeField(
        _("send at"), null=True, blank=True, help_text=_("Broadcasts: when to send.")
    )
    days_before = models.PositiveSmallIntegerField(
        _("days before"),
        default=0,
        help_text=_("Birthday, holiday and points expiry: how many days ahead to send."),
    )
    holiday = models.CharField(
        _("holiday"),
        max_length=100,
        blank=True,
        help_text=_("Holiday campaigns: the holiday's name in the calendar (e.g. Idul Fitri)."),
    )
    # measurement
    holdout_percent = models.DecimalField(
        _("holdout (%)"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=14)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="campaign_name_unique"),
            models.CheckConstraint(
                condition=Q(holdout_percent__gte=0) & Q(holdout_percent__lt=100),
                name="campaign_holdout_in_range",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=CHANNELS), name="campaign_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(manual_whatsapp=True) | Q(channel="whatsapp"),
                name="campaign_manual_is_whatsapp",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.TextChoices):
    TREATED = "treated", _("Treated")
    HOLDOUT = "holdout", _("Holdout")


class Recipient(models.Model):
    """One customer's assignment to a campaign for one occasion: treated or held out."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    occasion = models.CharField(_("occasion"), max_length=40, blank=True)
    group = models.CharField(_("group"), max_length=8, choices=Group.choices)
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    voucher = models.ForeignKey(
        "loyalty.Voucher", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bonus_points = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occasion"], name="recipient_once_per_occasion"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "group"])]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.customer} ({self.group})"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (consent, cap or quiet hours)")
    UNKNOWN = "unknown", _("Interrupted while sending: check before resending")


class Message(models.Model):
    """One message in the outbox: written in the same transaction as the decision to send."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    recipient = models.OneToOneField(
        Recipient, on_delete=models.CASCADE, null=True, blank=True, related_name="message"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    manual = models.BooleanField(_("manual WhatsApp"), default=False)
    to = models.CharField(_("to"), max_length=254)
    language = models.CharField(max_length=5, default="id")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    # WhatsApp template messages: the approved template and its body parameters
    template_name = models.CharField(max_length=100, blank=True)
    template_params = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=CHANNELS), name="message_channel_valid"),
            models.CheckConstraint(
                condition=~Q(manual=True) | Q(channel="whatsapp"), name="message_manual_whatsapp"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["customer", "sent_at"]),
            models.Index(fields=["channel", "provider_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to} ({self.status})"


class ChannelAccount(models.Model):
    """A merchant's account on one channel: where and how messages go out.

    ``settings`` per channel — email: ``from_email``, ``reply_to``; whatsapp: ``base_url``,
    ``api_version``, ``phone_number_id``, ``access_token``, ``app_secret``, ``verify_token``;
    sms: ``url``, ``api_key``, ``sender``, ``callback_secret``.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    price_per_message = models.DecimalField(
        _("price per message (Rp)"), **MONEY, default=Decimal("0")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "channel"], name="channel_account_one_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=CHANNELS), name="channel_account_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(price_per_message__gte=0), name="channel_account_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.channel}"


class MessagingPolicy(models.Model):
    """The merchant's guardrails: quiet hours (local time) and a frequency cap per customer."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="messaging_policy"
    )
    quiet_start_hour = models.PositiveSmallIntegerField(_("quiet hours start"), default=21)
    quiet_end_hour = models.PositiveSmallIntegerField(_("quiet hours end"), default=8)
    cap_messages = models.PositiveSmallIntegerField(_("at most this many messages"), default=2)
    cap_days = models.PositiveSmallIntegerField(_("per this many days"), default=7)

    class Meta:
        verbose_name = _("messaging policy")
        verbose_name_plural = _("messaging policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start_hour__lte=23) & Q(quiet_end_hour__lte=23),
                name="policy_quiet_hours_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant}: {self.quiet_start_hour}–{self.quiet_end_hour}"
