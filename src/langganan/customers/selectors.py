"""Reads for customers. Every selector takes the merchant explicitly."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from langganan.core.errors import NotFound
from langganan.core.models import Merchant
from langganan.core.phones import normalize_phone
from langganan.customers.models import Channel, ConsentEvent, Customer

ERR_CUSTOMER_NOT_FOUND = "customer not found"


def customer_get(*, merchant: Merchant, customer_id: int) -> Customer:
    try:
        return Customer.objects.get(merchant=merchant, pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(ERR_CUSTOMER_NOT_FOUND) from exc


def customer_search(*, merchant: Merchant, query: str = "") -> QuerySet[Customer]:
    """Customers matching a name fragment, a phone number (any common form) or a member code."""
    customers = Customer.objects.filter(merchant=merchant)
    query = query.strip()
    if not query:
        return customers.order_by("full_name", "id")
    condition = Q(full_name__icontains=query) | Q(member_code__iexact=query)
    condition |= Q(external_ref=query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4:
        try:
            e164 = normalize_phone(query)
        except ValueError:
            e164 = None
        if e164:
            condition |= Q(phone=e164)
        # a fragment of the number as the cashier reads it ("3456" or "0812 34")
        fragment = digits[1:] if digits.startswith("0") else digits
        condition |= Q(phone__contains=fragment)
    return customers.filter(condition).order_by("full_name", "id")


def consent_current(*, customer: Customer) -> dict[str, ConsentEvent | None]:
    """The latest consent event per channel (``None`` when never asked)."""
    current: dict[str, ConsentEvent | None] = {channel: None for channel in Channel.values}
    for event in customer.consent_events.order_by("occurred_at", "id"):
        current[event.channel] = event
    return current


def consent_history(*, customer: Customer) -> QuerySet[ConsentEvent]:
    return customer.consent_events.order_by("-occurred_at", "-id")


def customer_lookup_exact(*, merchant: Merchant, query: str) -> Customer | None:
    """The one customer whose phone number (any common form) or member code is exactly
    ``query``; ``None`` otherwise. No name search and no fragments: the counter's lookup."""
    query = query.strip()
    if not query:
        return None
    customers = Customer.objects.filter(merchant=merchant)
    found = customers.filter(member_code__iexact=query).order_by("pk").first()
    if found is not None:
        return found
    try:
        e164 = normalize_phone(query)
    except ValueError:
        return None
    if not e164:
        return None
    return customers.filter(phone=e164).order_by("pk").first()
