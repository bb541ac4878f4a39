"""Writes of the API app: API keys, registration at the counter, offline batches.

Each is a thin composition of other apps' services; the rules live there.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from langganan.core.errors import Conflict, InvalidInput, LanggananError, NotFound
from langganan.core.models import Merchant, Outlet
from langganan.customers.models import Customer
from langganan.loyalty.checkout import CheckoutRequest, checkout
from langganan.loyalty.models import Member, Program

from .models import ApiKey

KEY_PREFIX = "lg_"
PREFIX_LENGTH = 11  # "lg_" and 8 random characters: shown to humans, unique
ERR_OTHER_MERCHANT_OUTLET = "the outlet belongs to another merchant"
ERR_KEY_NOT_FOUND = "no API key with this prefix"
ERR_KEY_ALREADY_REVOKED = "this API key was already revoked"
ERR_NAME_TOO_LONG = "the name is at most 100 characters"
ERR_SALE_CONFLICT = "the sale conflicts with a record that already exists; it was not recorded"
COUNTER_SOURCE = "pos"


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def api_key_create(*, merchant: Merchant, outlet: Outlet, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``outlet``; returns the stored row and the key itself (shown once)."""
    if outlet.merchant_id != merchant.pk:
        raise InvalidInput(ERR_OTHER_MERCHANT_OUTLET, field="outlet")
    if len(name) > 100:
        raise InvalidInput(ERR_NAME_TOO_LONG, field="name")
    for _ in range(10):
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    merchant=merchant,
                    outlet=outlet,
                    name=name.strip(),
                    prefix=raw[:PREFIX_LENGTH],
                    key_hash=key_hash(raw),
                )
            return key, raw
        except IntegrityError:  # a prefix collision: 64**8 prefixes, not expected
            continue
    raise RuntimeError("could not find a free API key prefix")


@transaction.atomic
def api_key_revoke(*, prefix: str, at: datetime | None = None) -> ApiKey:
    key = ApiKey.objects.select_for_update().filter(prefix=prefix.strip()).first()
    if key is None:
        raise NotFound(ERR_KEY_NOT_FOUND, field="prefix")
    if key.revoked_at is not None:
        raise InvalidInput(ERR_KEY_ALREADY_REVOKED, field="prefix")
    key.revoked_at = at or timezone.now()
    key.save(update_fields=["revoked_at"])
    return key


TOUCH_EVERY = timedelta(minutes=1)


def api_key_touch(*, key: ApiKey, at: datetime | None = None) -> None:
    """Record that the key was used; at most once a minute, so requests do not all write."""
    at = at or timezone.now()
    if key.last_used_at is not None and at - key.last_used_at < TOUCH_EVERY:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=at)
    key.last_used_at = at


# -- registration at the counter ---------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    customer: Customer
    member: Member | None
    consents: dict[str, bool]


@transaction.atomic
def member_register(
    *,
    merchant: Merchant,
    outlet: Outlet,
    full_name: str,
    phone: str | None = None,
    email: str = "",
    gender: str = "",
    greeting: str = "",
    birth_date: date | None = None,
    city: str = "",
    member_code: str | None = None,
    consents: Mapping[str, bool] | None = None,
    consent_wording_version: str = "",
    referral_code: str | None = None,
    source: str = COUNTER_SOURCE,
) -> Registration:
    """Register a customer at the counter with the consent they gave per channel, and enrol
    them in the merchant's active loyalty program when there is one — all or nothing.

    ``source`` is where they signed up (the POS, the counter screen, the sign-up page): it is
    the customer's acquisition source, and with the outlet's code (``pos:KOPI1``) the source of
    each consent event."""
    from langganan.customers.services import customer_create
    from langganan.loyalty.members import member_enrol

    customer = customer_create(
        merchant=merchant,
        full_name=full_name,
        phone=phone,
        email=email,
        gender=gender,
        greeting=greeting,
        birth_date=birth_date,
        city=city.strip(),
        member_code=member_code,
        acquisition_source=source,
        consents=consents,
        consent_source=f"{source}:{outlet.code}",
        consent_wording_version=consent_wording_version,
    )
    member = None
    if Program.objects.filter(merchant=merchant, is_active=True).exists():
        member = member_enrol(customer=customer, referral_code=referral_code)
    return Registration(customer=customer, member=member, consents=dict(consents or {}))


# -- offline batches ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    idempotency_key: str
    request: CheckoutRequest


def sale_batch_record(
    *, merchant: Merchant, outlet: Outlet, items: Sequence[BatchItem]
) -> list[dict | LanggananError]:
    """Record sales made while the till was offline, each in its own database transaction and
    under its own idempotency key, in the order given.

    Returns, per item, the checkout result (a replay when the item was recorded before) or the
    domain error that refused it; one refused sale does not stop the others, and sending the
    same batch again records nothing new. A sale whose receipt number is already recorded under
    another key is refused with :class:`~langganan.loyalty.checkout.ReceiptExists` (a 409 that
    names the recorded sale); any other integrity error refuses that sale alone, as a conflict.
    """
    results: list[dict | LanggananError] = []
    for item in items:
        try:
            results.append(
                checkout(
                    merchant=merchant,
                    outlet=outlet,
                    idempotency_key=item.idempotency_key,
                    request=item.request,
                    refuse_while_running=True,
                )
            )
        except LanggananError as exc:
            results.append(exc)
        except IntegrityError:  # rolled back with its own transaction; the others go on
            results.append(Conflict(ERR_SALE_CONFLICT, code="duplicate"))
    return results
