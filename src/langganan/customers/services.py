"""Writes for customers and their consent."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Merchant
from langganan.core.phones import normalize_phone
from langganan.customers.models import Channel, ConsentEvent, Customer, Gender, Greeting

ERR_PHONE_TAKEN = "another customer of this merchant already has this phone number"
ERR_MEMBER_CODE_TAKEN = "another customer of this merchant already has this member code"
ERR_EXTERNAL_REF_TAKEN = "another customer of this merchant already has this reference"
ERR_EMAIL_INVALID = "not a valid email address"
ERR_GENDER_INVALID = "gender must be M, F or empty"
ERR_GREETING_INVALID = "greeting must be one of Kak, Mas, Mbak, Pak, Bu"
ERR_CHANNEL_INVALID = "channel must be one of email, whatsapp, sms"
ERR_BIRTH_DATE_FUTURE = "birth date is in the future"

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the counter


def member_code_generate() -> str:
    return "LG" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def _clean_profile(
    *, phone: str | None, email: str, gender: str, greeting: str, birth_date: date | None
) -> str | None:
    try:
        e164 = normalize_phone(phone)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="phone") from exc
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise InvalidInput(ERR_EMAIL_INVALID, field="email") from exc
    if gender not in Gender.values:
        raise InvalidInput(ERR_GENDER_INVALID, field="gender")
    if greeting not in Greeting.values:
        raise InvalidInput(ERR_GREETING_INVALID, field="greeting")
    if birth_date is not None and birth_date > timezone.localdate():
        raise InvalidInput(ERR_BIRTH_DATE_FUTURE, field="birth_date")
    return e164


@transaction.atomic
def customer_create(
    *,
    merchant: Merchant,
    full_name: str = "",
    phone: str | None = None,
    email: str = "",
    gender: str = "",
    greeting: str = "",
    birth_date: date | None = None,
    address: str = "",
    city: str = "",
    province: str = "",
    member_code: str | None = None,
    external_ref: str | None = None,
    joined_at: datetime | None = None,
    acquisition_source: str = "",
    tags: list[str] | None = None,
    notes: str = "",
    consents: Mapping[str, bool] | None = None,
    consent_source: str = "",
    consent_wording_version: str = "",
) -> Customer:
    """Register a customer; ``consents`` maps channel → granted, each recorded as an event."""
    e164 = _clean_profile(
        phone=phone, email=email, gender=gender, greeting=greeting, birth_date=birth_date
    )
    if e164 and Customer.objects.filter(merchant=merchant, phone=e164).exists():
        raise Conflict(ERR_PHONE_TAKEN, field="phone")
    if member_code and Customer.objects.filter(merchant=merchant, member_code=member_code).exists():
        raise Conflict(ERR_MEMBER_CODE_TAKEN, field="member_code")
    if (
        external_ref
        and Customer.objects.filter(merchant=merchant, external_ref=external_ref).exists()
    ):
        raise Conflict(ERR_EXTERNAL_REF_TAKEN, field="external_ref")
    customer = Customer(
        merchant=merchant,
        full_name=full_name.strip(),
        phone=e164,
        email=email.strip(),
        gender=gender,
        greeting=greeting,
        birth_date=birth_date,
        address=address,
        city=city,
        province=province,
        member_code=member_code or member_code_generate(),
        external_ref=external_ref or None,
        joined_at=joined_at or timezone.now(),
        acquisition_source=acquisition_source,
        tags=list(tags or []),
        notes=notes,
    )
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict(ERR_PHONE_TAKEN, field="phone") from exc
    for channel, granted in (consents or {}).items():
        consent_record(
            customer=customer,
            channel=channel,
            granted=granted,
            source=consent_source or acquisition_source or "unknown",
            wording_version=consent_wording_version,
            occurred_at=customer.joined_at,
        )
    from langganan.webhooks.services import webhook_emit  # the webhooks app builds on this one

    webhook_emit(
        merchant=merchant,
        event="customer.created",
        # only what a till needs to recognise the customer (data minimisation): no phone,
        # e-mail, address or birth date in a message that leaves the system
        payload={
            "customer_id": customer.pk,
            "member_code": customer.member_code,
            "name": customer.full_name,
            "joined_at": customer.joined_at,
        },
    )
    return customer


@transaction.atomic
def consent_record(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    wording_version: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Append a grant or withdrawal; the latest event per channel is the current state."""
    if channel not in Channel.values:
        raise InvalidInput(ERR_CHANNEL_INVALID, field="channel")
    _audit_consent(customer, channel, granted, source)
    return ConsentEvent.objects.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        channel=channel,
        granted=granted,
        source=source,
        wording_version=wording_version,
        occurred_at=occurred_at or timezone.now(),
    )


def _audit_consent(customer: Customer, channel: str, granted: bool, source: str) -> None:
    from langganan.privacy import audit  # the privacy app builds on this one

    audit.record(
        None,
        customer.merchant,
        "consent.change",
        customer,
        actor=source[:150],
        channel=channel,
        granted=granted,
    )
