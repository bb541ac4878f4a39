"""Reads for the privacy pages: the request log, the audit log, a customer's corrections."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from langganan.core.errors import NotFound
from langganan.customers.models import Customer
from langganan.privacy.audit import query_digest
from langganan.privacy.models import AuditEvent, Correction, Erasure, PrivacyRequest

ERR_CUSTOMER_REFERENCE = "no single customer has the phone number, member code or id {reference}"


def customer_by_reference(*, merchant, reference: str) -> Customer:
    """The merchant's customer by phone (any Indonesian form), member code, own reference or
    id; :class:`NotFound` when none or several match."""
    from langganan.core.phones import normalize_phone

    text = (reference or "").strip()
    condition = Q(member_code__iexact=text) | Q(external_ref=text)
    try:
        phone = normalize_phone(text)
    except ValueError:
        phone = None
    if phone:
        condition |= Q(phone=phone)
    found = list(Customer.objects.filter(merchant=merchant).filter(condition)[:2])
    if not found and text.isdigit() and len(text) < 9:  # an id, not a phone number
        found = list(Customer.objects.filter(merchant=merchant, pk=int(text)))
    if len(found) != 1:
        raise NotFound(ERR_CUSTOMER_REFERENCE.format(reference=reference), field="customer")
    return found[0]


def privacy_requests(*, merchant) -> QuerySet[PrivacyRequest]:
    return PrivacyRequest.objects.filter(merchant=merchant).select_related("customer", "handled_by")


def corrections_for(*, customer: Customer) -> QuerySet[Correction]:
    return Correction.objects.filter(customer=customer).order_by("-at", "-id")


def erasure_for(*, customer: Customer) -> Erasure | None:
    return Erasure.objects.filter(customer=customer).first()


def audit_events(
    *,
    merchant,
    action: str = "",
    user_id: int | None = None,
    customer: Customer | None = None,
    customer_text: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    zone=None,
) -> QuerySet[AuditEvent]:
    """The merchant's audit events, newest first, filtered. ``customer``: events about that
    customer, and searches whose text was their phone, member code or name; ``customer_text``
    alone (no such customer now): searches for that text."""
    events = AuditEvent.objects.filter(merchant=merchant)
    if action:
        events = events.filter(action=action)
    if user_id:
        events = events.filter(user_id=user_id)
    if customer is not None or customer_text:
        digests = {query_digest(customer_text)} if customer_text else set()
        about = Q(pk__in=[])
        if customer is not None:
            about = Q(object_type="customers.customer", object_id=str(customer.pk))
            for value in (customer.phone, customer.member_code, customer.full_name):
                if value:
                    digests.add(query_digest(value))
        events = events.filter(about | Q(detail__query_digest__in=sorted(digests)))
    if date_from:
        events = events.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(at__lt=end)
    return events.order_by("-at", "-id")
