"""Reads for webhooks. Every read takes the merchant explicitly."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from langganan.core.models import Merchant
from langganan.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's endpoints, each with ``pending_count`` and ``failed_count``."""
    return (
        WebhookEndpoint.objects.filter(merchant=merchant)
        .annotate(
            pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("pk")
    )


def webhook_delivery_list(
    *, merchant: Merchant, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    found = WebhookDelivery.objects.filter(merchant=merchant).select_related("endpoint")
    if status:
        found = found.filter(status=status)
    return found.order_by("-pk")
