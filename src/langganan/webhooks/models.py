"""Webhooks out: a merchant's endpoints and the outbox of deliveries to them.

:func:`langganan.webhooks.services.webhook_emit` writes one :class:`WebhookDelivery` per matching
endpoint in the caller's database transaction (the outbox pattern), so an event exists exactly
when its cause committed. A worker (``langganan webhooks deliver``) sends the due deliveries
later, see :mod:`langganan.webhooks.delivery`.
"""

from __future__ import annotations

import uuid

from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant


class Event(models.TextChoices):
    """The events a webhook endpoint can subscribe to."""

    CUSTOMER_CREATED = "customer.created", "customer.created"
    TRANSACTION_RECORDED = "transaction.recorded", "transaction.recorded"
    TIER_CHANGED = "tier.changed", "tier.changed"
    POINTS_EXPIRING = "points.expiring", "points.expiring"
    COMPLAINT_CREATED = "complaint.created", "complaint.created"
    COMPLAINT_OVERDUE = "complaint.overdue", "complaint.overdue"
    COMPLAINT_RESOLVED = "complaint.resolved", "complaint.resolved"


EVENTS: tuple[str, ...] = tuple(Event.values)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


http_url_validator = URLValidator(schemes=["http", "https"])


class WebhookEndpoint(models.Model):
    """A URL of the merchant's that receives signed POSTs for the events it subscribes to.

    ``secret`` signs every delivery (HMAC-SHA256), so it is stored as is; the CLI shows it once
    when the endpoint is added. ``events`` is a list of event names; empty means every event.
    """

    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("merchant"),
    )
    url = models.URLField(_("URL"), max_length=500, validators=[http_url_validator])
    secret = models.CharField(_("signing secret"), max_length=100)
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Empty: every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["merchant", "pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, and the record of sending it.

    While a worker sends it, a pending delivery's ``next_attempt_at`` is pushed a lease ahead
    and ``attempts`` already counts the attempt (see :mod:`langganan.webhooks.delivery`).
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook endpoint"),
    )
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status code"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["merchant", "created_at"], name="webhook_delivery_merchant"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_event_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.DELIVERED)
                | models.Q(delivered_at__isnull=False),
                name="webhook_delivery_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint_id}"
