"""Care: complaints (keluhan) with their timeline and service recovery, feedback after a visit.

Every row carries its merchant. The timeline (:class:`ComplaintEvent`) is append-only: an event
is never changed or deleted once written. The status moves only along
:data:`TRANSITIONS` (see :func:`langganan.care.services.complaint_set_status`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet
from langganan.customers.models import Customer
from langganan.sales.models import Transaction

MONEY = {"max_digits": 14, "decimal_places": 2}


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    FEEDBACK = "feedback", _("Feedback form")
    REVIEW = "review", _("Online review")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")


#: the statuses of a complaint still to be handled
OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS)

#: from each status, where it may go next
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),  # closed, or reopened
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
}

#: the categories a merchant starts with (their names are the merchant's own data after that)
DEFAULT_CATEGORIES = (
    ("taste", "Rasa / kualitas"),
    ("order", "Pesanan salah atau kurang"),
    ("waiting", "Waktu tunggu"),
    ("staff", "Sikap staf"),
    ("price", "Harga / tagihan"),
    ("cleanliness", "Kebersihan"),
    ("payment", "Pembayaran"),
    ("other", "Lainnya"),
)


class CareSettings(models.Model):
    """A merchant's complaint targets and feedback threshold (defaults when none saved)."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="care")
    first_response_hours = models.PositiveIntegerField(
        _("first response within (hours)"), default=24
    )
    resolution_hours = models.PositiveIntegerField(_("resolution within (hours)"), default=72)
    low_rating = models.PositiveSmallIntegerField(
        _("a rating at or below this opens a complaint"), default=2
    )

    class Meta:
        verbose_name = _("care settings")
        verbose_name_plural = _("care settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_response_hours__gte=1, resolution_hours__gte=1),
                name="care_settings_targets_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(low_rating__lte=5), name="care_settings_low_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.first_response_hours}h / {self.resolution_hours}h"


class ComplaintCategory(models.Model):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="complaint_categories"
    )
    code = models.CharField(max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="complaint_category_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="complaints")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    contact_name = models.CharField(_("name"), max_length=200, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    outlet = models.ForeignKey(
        Outlet, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    transaction = models.ForeignKey(
        Transaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.ForeignKey(
        ComplaintCategory, on_delete=models.PROTECT, related_name="complaints"
    )
    severity = models.CharField(
        _("severity"), max_length=6, choices=Severity.choices, default=Severity.MEDIUM
    )
    text = models.TextField(_("what happened"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("received"))
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    #: when the ``complaint.overdue`` webhook was emitted for it (once; see care.events)
    overdue_announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["new", "in_progress", "resolved", "closed", "rejected"]
                ),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=["low", "medium", "high"]),
                name="complaint_severity_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def who(self) -> str:
        if self.customer_id:
            return self.customer.full_name or self.customer.member_code
        return self.contact_name


class EventKind(models.TextChoices):
    CREATED = "created", _("Recorded")
    NOTE = "note", _("Note")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    RECOVERY = "recovery", _("Service recovery")
    REPLY = "reply", _("Reply to the customer")


class AppendOnly(Exception):
    pass


class ComplaintEvent(models.Model):
    """One line of a complaint's timeline; never changed or deleted."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    text = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"#{self.complaint_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("a complaint's timeline is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("a complaint's timeline is append-only")


class RecoveryKind(models.TextChoices):
    VOUCHER = "voucher", _("Apology voucher")
    POINTS = "points", _("Bonus points")
    CREDIT = "credit", _("Store credit")
    REFUND = "refund", _("Refund")


class ComplaintRecovery(models.Model):
    """What was given to make up for a complaint, through the loyalty services; ``cost`` in
    Rupiah (a voucher's value, points at the program's point value, the credit granted)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="recoveries")
    kind = models.CharField(max_length=8, choices=RecoveryKind.choices)
    key = models.CharField(max_length=64)
    voucher = models.ForeignKey(
        "loyalty.Voucher", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    journal = models.ForeignKey(
        "loyalty.Journal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: the refund transaction of a refund (see :mod:`langganan.care.refunds`)
    refund = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(**MONEY)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "key"], name="complaint_recovery_once"),
            models.CheckConstraint(condition=models.Q(cost__gte=0), name="recovery_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.complaint_id} {self.kind} Rp {self.cost:.0f}"


class Feedback(models.Model):
    """A customer's answer after a visit: one per sale."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="feedback")
    transaction = models.OneToOneField(
        Transaction, on_delete=models.CASCADE, related_name="feedback"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    nps = models.PositiveSmallIntegerField(_("would recommend (0-10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    suggestion = models.TextField(_("suggestion"), blank=True)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_range"
            ),
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__lte=10),
                name="feedback_nps_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 · {self.transaction_id}"


class FeedbackAttempt(models.Model):
    """One submission of the public feedback page, for its rate limit per address."""

    address = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.address} {self.at:%Y-%m-%d %H:%M}"


class InboundMessage(models.Model):
    """A WhatsApp or SMS message a customer sent that was not an opt-out: kept as the
    conversation with them, and turned into a complaint with one click when it is one."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    sender = models.CharField(max_length=32)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    received_at = models.DateTimeField()
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "received_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.sender} {self.received_at:%Y-%m-%d %H:%M}"


def _photo_path(photo: ComplaintPhoto, filename: str) -> str:
    """A random name in the merchant's folder; the uploaded name is never used in the path."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"care/{photo.merchant_id}/{uuid.uuid4().hex}.{extension}"


class ComplaintPhoto(models.Model):
    """A photo of a complaint, in the default storage (outside the web root): served only by
    :func:`langganan.care.views_photos.complaint_photo`, which checks merchant and role."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"#{self.complaint_id} {self.file.name}"
