"""Webhook events of complaints: ``complaint.created``, ``complaint.overdue``,
``complaint.resolved`` (through :func:`langganan.webhooks.services.webhook_emit`, the outbox:
written in the transaction of their cause, sent later, signed and retried by the webhooks app).

The payload names the complaint, its category, status and deadlines, the customer's and the
sale's IDs and the recovery's cost; never the text, a name or a phone number (the receiver asks
for what it needs with its API key).

An overdue complaint is announced once (:func:`complaints_overdue_announce`, run every 15
minutes by the ``care.overdue`` job): the complaint's ``overdue_announced_at`` is set in the same
transaction as the event, so two runs at once announce it once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from langganan.core.models import Merchant

from .models import Complaint
from .selectors import care_settings_for, complaint_cost, deadlines, overdue_q

CREATED = "complaint.created"
OVERDUE = "complaint.overdue"
RESOLVED = "complaint.resolved"


def complaint_payload(complaint: Complaint, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    due = deadlines(complaint, care_settings_for(complaint.merchant), now)
    return {
        "complaint_id": complaint.pk,
        "status": complaint.status,
        "category": complaint.category.code or complaint.category.name,
        "category_name": complaint.category.name,
        "severity": complaint.severity,
        "channel": complaint.channel,
        "customer_id": complaint.customer_id,
        "transaction_id": complaint.transaction_id,
        "outlet": complaint.outlet.code if complaint.outlet_id else None,
        "created_at": complaint.created_at,
        "first_response_at": complaint.first_response_at,
        "resolved_at": complaint.resolved_at,
        "response_due": due.response_due,
        "resolution_due": due.resolution_due,
    }


def _emit(complaint: Complaint, event: str, **extra: Any) -> None:
    from langganan.webhooks.services import webhook_emit

    webhook_emit(
        merchant=complaint.merchant,
        event=event,
        payload={**complaint_payload(complaint), **extra},
    )


def complaint_created_emit(complaint: Complaint) -> None:
    """``complaint.created``: call inside the transaction that recorded it."""
    _emit(complaint, CREATED)


def complaint_resolved_emit(complaint: Complaint) -> None:
    """``complaint.resolved``, with what its service recovery cost (Rupiah, a string)."""
    cost = Decimal(complaint_cost(complaint)).quantize(Decimal("0.01"))
    _emit(complaint, RESOLVED, recovery_cost=cost)


@transaction.atomic
def complaints_overdue_announce(*, merchant: Merchant, now: datetime | None = None) -> int:
    """Emit ``complaint.overdue`` once for each open complaint of the merchant past its first
    response or resolution target; returns how many were announced."""
    now = now or timezone.now()
    targets = care_settings_for(merchant)
    due = list(
        Complaint.objects.select_for_update()
        .filter(merchant=merchant, overdue_announced_at__isnull=True)
        .filter(overdue_q(targets, now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    count = 0
    for complaint in Complaint.objects.filter(pk__in=due).select_related(
        "merchant", "category", "outlet"
    ):
        # claimed by this run only if nobody announced it meanwhile
        claimed = Complaint.objects.filter(pk=complaint.pk, overdue_announced_at__isnull=True)
        if not claimed.update(overdue_announced_at=now):
            continue
        d = deadlines(complaint, targets, now)
        _emit(
            complaint,
            OVERDUE,
            overdue="response" if d.response_overdue else "resolution",
        )
        count += 1
    return count
