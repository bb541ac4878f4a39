"""Personal-data rights (UU PDP 27/2022) and the audit log.

- :class:`AuditEvent`: who looked at, searched, exported or changed personal data. Append-only:
  the ORM refuses ``save()`` of an existing row, ``delete()`` and queryset ``update()`` /
  ``delete()``; the database refuses UPDATE (trigger, migration 0002). The one delete allowed is
  retention pruning (:func:`langganan.privacy.audit.audit_prune`). An event never holds the
  personal values themselves (a search text is kept as a keyed digest), so erasing a person
  never has to touch it.
- :class:`PrivacyRequest`: the request log (access, correction, erasure) with its 72-hour deadline.
- :class:`Correction`: each field changed through the correction form (old, new, who, when).
- :class:`Erasure`: the record that a customer was anonymised (who, when, reference).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant
from langganan.customers.models import Customer

#: what the law's implementing practice expects: an answer within 3 × 24 hours
REQUEST_DEADLINE = timedelta(hours=72)
#: what an erased value, a redacted message body or ledger memo becomes
ERASED = "[dihapus]"
#: an erased customer's member code: DIHAPUS-<id>
ERASED_CODE_PREFIX = "DIHAPUS-"
ERR_APPEND_ONLY = "audit events are append-only"


class AuditAction(models.TextChoices):
    CUSTOMER_VIEW = "customer.view", _("Customer page viewed")
    CUSTOMER_SEARCH = "customer.search", _("Customers searched")
    DATA_EXPORT = "customer.export", _("Personal data exported")
    TABLE_EXPORT = "export.table", _("Customer or sales table exported")
    TABLE_IMPORT = "import.table", _("Customers or sales imported")
    MESSAGE_PREVIEW = "message.preview", _("Message previewed with a real customer")
    CONSENT_CHANGE = "consent.change", _("Marketing consent changed")
    TAB_LIMIT = "tab.limit", _("Tab limit changed")
    CORRECTION = "customer.correct", _("Personal data corrected")
    ERASURE = "customer.erase", _("Personal data erased")
    REQUEST = "privacy.request", _("Data request logged")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(ERR_APPEND_ONLY)

    def delete(self):
        raise PermissionError(ERR_APPEND_ONLY)

    def _prune(self) -> int:
        """Delete these rows: retention pruning only (see ``audit_prune``)."""
        return self._raw_delete(self.db)


class AuditEvent(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,  # the event outlives the account: never updated
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor = models.CharField(
        _("actor"),
        max_length=150,
        blank=True,
        help_text=_("The user's name when it happened, or what acted without one (CLI)."),
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "at"]),
            models.Index(fields=["merchant", "object_type", "object_id"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError(ERR_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(ERR_APPEND_ONLY)


class AuditPrune(models.Model):
    """One retention pruning: which rows (older than ``cutoff``) went, and how many."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    cutoff = models.DateTimeField()
    deleted = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} -{self.deleted} < {self.cutoff:%Y-%m-%d}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (copy of the data)")
    CORRECTION = "correction", _("Correction")
    ERASURE = "erasure", _("Erasure")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")


class PrivacyRequest(models.Model):
    """A data subject's request, logged when received; due 72 hours later."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("request"), max_length=10, choices=RequestKind.choices)
    requester = models.CharField(
        _("who asked"),
        max_length=200,
        blank=True,
        help_text=_("The customer themselves, or who asked on their behalf, and how."),
    )
    reference = models.CharField(_("reference"), max_length=64)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_label = models.CharField(_("handled by"), max_length=150, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["merchant", "status", "deadline"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["access", "correction", "erasure"]),
                name="privacy_request_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "done", "refused"]),
                name="privacy_request_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.kind})"

    def save(self, *args, **kwargs):
        if self.deadline is None:
            self.deadline = self.received_at + REQUEST_DEADLINE
        super().save(*args, **kwargs)

    def is_overdue(self, now=None) -> bool:
        return self.status == RequestStatus.OPEN and self.deadline < (now or timezone.now())


class Correction(models.Model):
    """One field of a customer changed through the correction form."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(_("field"), max_length=32)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(max_length=150, blank=True)
    request = models.ForeignKey(
        PrivacyRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.field} {self.at:%Y-%m-%d %H:%M}"


class Erasure(models.Model):
    """The record that a customer's personal data was erased (anonymised). Irreversible."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(_("reference"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(max_length=150, blank=True)
    request = models.ForeignKey(
        PrivacyRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counts = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.reference}"
