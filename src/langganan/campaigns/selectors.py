"""Reads for the campaign pages: lists with their counts, one campaign, its messages.

Every selector takes the merchant explicitly; another merchant's row is :class:`NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from langganan.core.errors import NotFound
from langganan.core.models import Merchant
from langganan.customers.models import Customer

from .models import (
    Audience,
    Campaign,
    Group,
    Message,
    MessageStatus,
    MessageTemplate,
    Recipient,
)
from .roi import SENT_STATUSES

ERR_CAMPAIGN_NOT_FOUND = "This merchant has no campaign with this id."
ERR_AUDIENCE_NOT_FOUND = "This merchant has no audience with this id."
ERR_TEMPLATE_NOT_FOUND = "This merchant has no message template with this id."
ERR_CUSTOMER_NOT_FOUND = "This merchant has no customer with this id."
MESSAGE_SAMPLE_SIZE = 20
CUSTOMER_CHOICES = 20


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("campaign_id").annotate(n=Count("id")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def campaign_list(*, merchant: Merchant) -> QuerySet[Campaign]:
    """The merchant's campaigns, newest first, with ``treated``, ``holdout`` and ``sent``."""
    recipients = Recipient.objects.filter(campaign_id=OuterRef("pk"))
    messages = Message.objects.filter(campaign_id=OuterRef("pk"), status__in=SENT_STATUSES)
    return (
        Campaign.objects.filter(merchant=merchant)
        .select_related("template", "audience")
        .annotate(
            treated=_count(recipients.filter(group=Group.TREATED)),
            holdout=_count(recipients.filter(group=Group.HOLDOUT)),
            sent=_count(messages),
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Conversion:
    treated: float | None
    holdout: float | None


def campaign_conversions(*, merchant: Merchant, campaigns: list[Campaign]) -> dict[int, Conversion]:
    """Share of each group with a sale in its attribution window, per campaign (one query)."""
    from langganan.sales.models import Transaction, TransactionKind

    campaigns = [c for c in campaigns if c.merchant_id == merchant.pk]
    if not campaigns:
        return {}
    days = sorted({c.attribution_days for c in campaigns})
    window_end = Case(
        *[
            When(campaign__attribution_days=d, then=F("assigned_at") + timedelta(days=d))
            for d in days
        ],
        output_field=DateTimeField(),
    )
    bought = Transaction.objects.filter(
        merchant=merchant,
        kind=TransactionKind.SALE,
        customer_id=OuterRef("customer_id"),
        occurred_at__gt=OuterRef("assigned_at"),
        occurred_at__lte=OuterRef("window_end"),
    )
    rows = (
        Recipient.objects.filter(merchant=merchant, campaign__in=campaigns)
        .annotate(window_end=window_end, converted=Exists(bought))
        .values("campaign_id", "group")
        .annotate(n=Count("id"), buyers=Count("id", filter=Q(converted=True)))
        .order_by()
    )
    rates: dict[int, dict[str, float]] = {}
    for row in rows:
        rates.setdefault(row["campaign_id"], {})[row["group"]] = (
            row["buyers"] / row["n"] if row["n"] else 0.0
        )
    return {
        c.pk: Conversion(
            treated=rates.get(c.pk, {}).get(Group.TREATED),
            holdout=rates.get(c.pk, {}).get(Group.HOLDOUT),
        )
        for c in campaigns
    }


def campaign_get(*, merchant: Merchant, campaign_id: int) -> Campaign:
    try:
        return Campaign.objects.select_related(
            "template", "audience", "outlet", "voucher_template"
        ).get(merchant=merchant, pk=campaign_id)
    except Campaign.DoesNotExist as exc:
        raise NotFound(ERR_CAMPAIGN_NOT_FOUND) from exc


@dataclass(frozen=True)
class RecipientSummary:
    treated: int
    holdout: int

    @property
    def total(self) -> int:
        return self.treated + self.holdout


def recipients_summary(*, campaign: Campaign) -> RecipientSummary:
    counts = Recipient.objects.filter(campaign=campaign).aggregate(
        treated=Count("id", filter=Q(group=Group.TREATED)),
        holdout=Count("id", filter=Q(group=Group.HOLDOUT)),
    )
    return RecipientSummary(treated=counts["treated"], holdout=counts["holdout"])


def message_status_counts(*, campaign: Campaign) -> list[tuple[str, str, int]]:
    """(status, label, count) for every status, in the lifecycle order of a message."""
    counts = dict(
        Message.objects.filter(campaign=campaign)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in MessageStatus.choices]


def message_sample(*, campaign: Campaign, size: int = MESSAGE_SAMPLE_SIZE) -> list[Message]:
    """The latest messages of the campaign, with their customers."""
    return list(
        Message.objects.filter(campaign=campaign)
        .select_related("customer")
        .order_by("-created_at", "-id")[:size]
    )


def audience_list(*, merchant: Merchant) -> QuerySet[Audience]:
    return (
        Audience.objects.filter(merchant=merchant)
        .annotate(campaign_count=Count("campaigns"))
        .order_by("name", "id")
    )


def audience_get(*, merchant: Merchant, audience_id: int) -> Audience:
    try:
        return Audience.objects.get(merchant=merchant, pk=audience_id)
    except Audience.DoesNotExist as exc:
        raise NotFound(ERR_AUDIENCE_NOT_FOUND) from exc


def template_list(*, merchant: Merchant) -> QuerySet[MessageTemplate]:
    return (
        MessageTemplate.objects.filter(merchant=merchant)
        .annotate(campaign_count=Count("campaigns"))
        .order_by("name", "id")
    )


def template_get(*, merchant: Merchant, template_id: int) -> MessageTemplate:
    try:
        return MessageTemplate.objects.get(merchant=merchant, pk=template_id)
    except MessageTemplate.DoesNotExist as exc:
        raise NotFound(ERR_TEMPLATE_NOT_FOUND) from exc


def preview_customer_get(*, merchant: Merchant, customer_id: int) -> Customer:
    try:
        return Customer.objects.get(merchant=merchant, pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise NotFound(ERR_CUSTOMER_NOT_FOUND) from exc


def preview_customer_choices(
    *, merchant: Merchant, query: str = "", size: int = CUSTOMER_CHOICES
) -> list[Customer]:
    """Customers to preview a message with: matching ``query`` (name, phone, member code)."""
    from langganan.customers.selectors import customer_search

    return list(customer_search(merchant=merchant, query=query)[:size])
