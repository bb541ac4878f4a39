"""Enrolling members at the counter and by self sign-up (issue 16, points 4 and 5).

Both go through :func:`langganan.api.services.member_register` (the POS API's registration):
the customer, their consent per channel, the membership with its sign-up bonus and welcome
voucher, all in one transaction. What this module adds:

* **At the counter** (:func:`counter_enrol`): a phone number the merchant already has is
  recognised and that customer is returned (their profile unchanged, nothing duplicated; one
  who was not a member yet — imported, or from a POS — is enrolled now); the consent
  events' source is ``counter:<outlet code>``, their wording version :data:`COUNTER_WORDING`.
* **Self sign-up** (:func:`signup_submit`): through an outlet's :class:`SignupLink` (a random
  token printed as a QR code on the outlet's poster). A new phone number becomes a member; a
  known one gets only the consents the person ticked (never a withdrawal, never a change to the
  profile) and the membership when it had none, and the caller answers the same either way.
  Sign-ups are counted per address and per outlet in the database (:func:`signup_allowed`),
  as failed logins are in :mod:`langganan.staff.guard`.

The wording versions name the exact sentences the person saw (:data:`CONSENT_WORDING`): change a
sentence, give it a new version.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Merchant, Outlet
from langganan.core.phones import normalize_phone
from langganan.customers.models import Channel, Customer, Gender, Greeting
from langganan.loyalty.models import Member, Program, Voucher

from .models import MemberSignup, SignupAttempt, SignupLink

COUNTER_SOURCE = "counter"
SIGNUP_SOURCE = "signup"
COUNTER_WORDING = "counter-2026-12"
SIGNUP_WORDING = "signup-2026-12"

#: what the person was asked, per wording version and channel (shown on the form; a new
#: sentence needs a new version, so every consent event points at the words it answered)
CONSENT_WORDING = {
    COUNTER_WORDING: {
        Channel.WHATSAPP: _("Promos and reminders by WhatsApp"),
        Channel.SMS: _("Promos and reminders by SMS"),
        Channel.EMAIL: _("Promos and reminders by email"),
    },
    SIGNUP_WORDING: {
        Channel.WHATSAPP: _("Yes, send me promos and reminders by WhatsApp."),
        Channel.SMS: _("Yes, send me promos and reminders by SMS."),
        Channel.EMAIL: _("Yes, send me promos and reminders by email."),
    },
}
CHANNELS = (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)

#: the greeting also tells the gender (Kak says nothing about it)
GENDER_OF_GREETING = {
    Greeting.KAK: Gender.UNKNOWN,
    Greeting.MAS: Gender.MALE,
    Greeting.PAK: Gender.MALE,
    Greeting.MBAK: Gender.FEMALE,
    Greeting.BU: Gender.FEMALE,
}

ERR_NO_OUTLET = "the merchant has no active outlet"
ERR_NAME_MISSING = "a name is needed"
ERR_PHONE_MISSING = "a phone number is needed"

TOKEN_BYTES = 18  # 24 URL-safe characters


@dataclass(frozen=True)
class Enrolment:
    """The customer at the counter; ``created`` is False when their phone number was known."""

    customer: Customer
    member: Member | None
    welcome_voucher: Voucher | None
    created: bool
    #: a known customer who was not a member and is one now
    enrolled_now: bool = False


def _clean(phone: str, full_name: str) -> tuple[str, str]:
    name = " ".join((full_name or "").split())
    if not (phone or "").strip():
        raise InvalidInput(ERR_PHONE_MISSING, field="phone")
    try:
        e164 = normalize_phone(phone)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="phone") from exc
    if not name:
        raise InvalidInput(ERR_NAME_MISSING, field="full_name")
    return e164 or "", name


def welcome_voucher_of(customer: Customer) -> Voucher | None:
    """The customer's welcome voucher (issued at enrolment), if the program gave one."""
    from langganan.loyalty.vouchers import WELCOME_BATCH

    return (
        Voucher.objects.filter(
            merchant_id=customer.merchant_id, customer=customer, batch=WELCOME_BATCH
        )
        .order_by("id")
        .first()
    )


def counter_outlet(*, merchant: Merchant, outlet: Outlet | None) -> Outlet:
    """The outlet a counter works for: the staff member's own, else the merchant's first."""
    if outlet is not None and outlet.merchant_id == merchant.pk:
        return outlet
    found = Outlet.objects.filter(merchant=merchant, is_active=True).order_by("pk").first()
    if found is None:
        raise InvalidInput(ERR_NO_OUTLET)
    return found


def counter_enrol(
    *,
    merchant: Merchant,
    outlet: Outlet,
    phone: str,
    full_name: str,
    greeting: str = "",
    birth_date: date | None = None,
    city: str = "",
    email: str = "",
    consents: dict[str, bool] | None = None,
    staff=None,
) -> Enrolment:
    """Enrol the customer in front of the cashier; a known phone number returns that customer.

    A new customer is recorded as a :class:`~.models.MemberSignup` of ``outlet`` by ``staff``
    (the logged-in user), in the same transaction.

    Raises :class:`InvalidInput` for a missing name or phone, a number that is not a phone
    number, a greeting not in Kak/Mas/Mbak/Pak/Bu or a birth date in the future.
    """
    from langganan.api.services import member_register

    e164, name = _clean(phone, full_name)
    if greeting not in GENDER_OF_GREETING:
        greeting = ""
    existing = Customer.objects.filter(merchant=merchant, phone=e164).first()
    if existing is not None:
        return _known(existing, outlet, COUNTER_SOURCE, staff)
    try:
        with transaction.atomic():
            registration = member_register(
                merchant=merchant,
                outlet=outlet,
                full_name=name,
                phone=e164,
                greeting=greeting,
                gender=GENDER_OF_GREETING.get(greeting, Gender.UNKNOWN),
                birth_date=birth_date,
                city=city,
                email=(email or "").strip(),
                consents={channel: bool((consents or {}).get(channel)) for channel in CHANNELS},
                consent_wording_version=COUNTER_WORDING,
                source=COUNTER_SOURCE,
            )
            _signup_record(registration.customer, outlet, COUNTER_SOURCE, staff)
    except Conflict:  # registered meanwhile (another till, the sign-up page)
        existing = Customer.objects.filter(merchant=merchant, phone=e164).first()
        if existing is None:
            raise
        return _known(existing, outlet, COUNTER_SOURCE, staff)
    customer = registration.customer
    return Enrolment(
        customer=customer,
        member=registration.member,
        welcome_voucher=welcome_voucher_of(customer),
        created=True,
    )


def _signup_record(customer: Customer, outlet: Outlet, source: str, staff, at=None) -> None:
    MemberSignup.objects.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        outlet=outlet,
        staff=staff if staff is not None and getattr(staff, "pk", None) else None,
        source=source,
        at=at or customer.joined_at,
    )


def _known(customer: Customer, outlet: Outlet, source: str, staff) -> Enrolment:
    """A customer the merchant already has: nothing of their profile changes, but one who is
    not a member yet (imported, or from a POS) is enrolled now — what the sign-up was for."""
    enrolled_now = membership_make(customer=customer, outlet=outlet, source=source, staff=staff)
    return Enrolment(
        customer=customer,
        member=Member.objects.filter(customer=customer).select_related("tier").first(),
        welcome_voucher=welcome_voucher_of(customer),
        created=False,
        enrolled_now=enrolled_now,
    )


@transaction.atomic
def membership_make(*, customer: Customer, outlet: Outlet, source: str, staff=None) -> bool:
    """Enrol a known customer who is not a member yet in the active program (sign-up bonus and
    welcome voucher as for a new one); True when they became a member now. Without an active
    program, or for a member, nothing is done."""
    from langganan.loyalty.members import member_enrol

    if Member.objects.filter(customer=customer).exists():
        return False
    if not Program.objects.filter(merchant_id=customer.merchant_id, is_active=True).exists():
        return False
    member_enrol(customer=customer)
    if not MemberSignup.objects.filter(customer=customer).exists():
        _signup_record(customer, outlet, source, staff, at=timezone.now())
    return True


# -- the card sent by WhatsApp -----------------------------------------------------------------

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


def public_url(request, path: str) -> str:
    """The address a customer's phone opens: ``PUBLIC_BASE_URL`` + ``path`` when it is set,
    else the address the staff member's browser used (the same server)."""
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
    if base and base != DEFAULT_PUBLIC_BASE_URL:
        return base + path
    return request.build_absolute_uri(path)


CARD_SALT = "langganan.counter.card"


def card_token(customer: Customer) -> str:
    """A signed token naming the customer: the link to their card sent by WhatsApp."""
    from django.core import signing

    return signing.dumps(
        {"m": customer.merchant_id, "c": customer.pk}, salt=CARD_SALT, compress=True
    )


def card_customer(token: str) -> Customer | None:
    """The customer a card token names; None when forged, damaged or the customer is gone."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=CARD_SALT)
        merchant_id, customer_id = int(data["m"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Customer.objects.filter(pk=customer_id, merchant_id=merchant_id)
        .select_related("merchant")
        .first()
    )


def card_message(*, customer: Customer, merchant: Merchant, card_url: str) -> str:
    """The WhatsApp message that sends the new member their card."""
    from django.utils.translation import gettext

    return gettext(
        "Hello %(salutation)s, welcome as a member of %(merchant)s! Your member code is "
        "%(code)s. Show your card at the cashier to collect points: %(url)s"
    ) % {
        "salutation": customer.salutation,
        "merchant": merchant.name,
        "code": customer.member_code,
        "url": card_url,
    }


# -- self sign-up by QR --------------------------------------------------------------------------


def signup_link_get(*, outlet: Outlet) -> SignupLink:
    """The outlet's sign-up link, made on first use."""
    link = SignupLink.objects.filter(outlet=outlet).first()
    if link is not None:
        return link
    link, _created = SignupLink.objects.get_or_create(
        outlet=outlet,
        defaults={
            "merchant_id": outlet.merchant_id,
            "token": secrets.token_urlsafe(TOKEN_BYTES),
            "created_at": timezone.now(),
        },
    )
    return link


def signup_link_find(token: str) -> SignupLink | None:
    """The active link of ``token`` (with its outlet and merchant), or None."""
    if not token or len(token) > 64:
        return None
    return (
        SignupLink.objects.filter(token=token, is_active=True, outlet__is_active=True)
        .select_related("outlet", "merchant")
        .first()
    )


@transaction.atomic
def signup_link_renew(*, outlet: Outlet) -> SignupLink:
    """Give the outlet a new token: the old poster's link stops working (404)."""
    link = signup_link_get(outlet=outlet)
    link.token = secrets.token_urlsafe(TOKEN_BYTES)
    link.created_at = timezone.now()
    link.save(update_fields=["token", "created_at"])
    return link


def qr_svg(text: str) -> str:
    """``text`` as a QR code drawn as the member cards' are (:mod:`langganan.loyalty.card`:
    segno, error correction at least M), an inline SVG with a viewBox and no fixed size, so
    the page's CSS sizes it without cutting it off."""
    import segno

    out = io.BytesIO()
    segno.make_qr(text, error="m").save(
        out, kind="svg", xmldecl=False, omitsize=True, svgclass="qr-code", lineclass=None
    )
    return out.getvalue().decode()


@dataclass(frozen=True)
class SignupPolicy:
    per_address: int
    per_outlet: int
    window: timedelta


def signup_policy() -> SignupPolicy:
    """Sign-ups allowed per window: ``SIGNUP_PER_ADDRESS`` (10) from one IP address — a café's
    guests may share its Wi-Fi — and ``SIGNUP_PER_OUTLET`` (200) through one outlet's link,
    within ``SIGNUP_WINDOW`` (one hour); settings read from the environment (README,
    Configuration)."""
    return SignupPolicy(
        per_address=getattr(settings, "SIGNUP_PER_ADDRESS", 10),
        per_outlet=getattr(settings, "SIGNUP_PER_OUTLET", 200),
        window=getattr(settings, "SIGNUP_WINDOW", timedelta(hours=1)),
    )


KEEP_ATTEMPTS = timedelta(days=1)


def signup_allowed(*, link: SignupLink, address: str, at: datetime | None = None) -> bool:
    """Count one sign-up from ``address`` through ``link``; False when over either limit (the
    refused one is counted too, so a flood stays refused until the window has passed)."""
    at = at or timezone.now()
    policy = signup_policy()
    since = at - policy.window
    with transaction.atomic():
        SignupAttempt.objects.create(link=link, address=address, at=at)
        by_address = SignupAttempt.objects.filter(address=address, at__gt=since).count()
        by_outlet = SignupAttempt.objects.filter(link=link, at__gt=since).count()
    allowed = by_address <= policy.per_address and by_outlet <= policy.per_outlet
    if not allowed:  # rare: the old rows go at each refusal
        SignupAttempt.objects.filter(at__lt=at - KEEP_ATTEMPTS).delete()
    return allowed


@transaction.atomic
def signup_submit(
    *,
    link: SignupLink,
    phone: str,
    full_name: str,
    birth_date: date | None = None,
    email: str = "",
    consents: dict[str, bool] | None = None,
) -> Customer:
    """A sign-up from the outlet's poster: a new phone number becomes a member; a known one
    gets the consents ticked now (a grant only: an unticked box withdraws nothing, since anyone
    may type anyone's number) and, when not a member yet, the membership; nothing of the profile
    changes. Returns the customer either way; the page must answer the same for both."""
    from langganan.api.services import member_register
    from langganan.customers.selectors import consent_current
    from langganan.customers.services import consent_record

    e164, name = _clean(phone, full_name)
    merchant, outlet = link.merchant, link.outlet
    ticked = {channel: bool((consents or {}).get(channel)) for channel in CHANNELS}
    existing = Customer.objects.filter(merchant=merchant, phone=e164).first()
    if existing is None:
        try:
            with transaction.atomic():
                customer = member_register(
                    merchant=merchant,
                    outlet=outlet,
                    full_name=name,
                    phone=e164,
                    birth_date=birth_date,
                    email=(email or "").strip(),
                    consents=ticked,
                    consent_wording_version=SIGNUP_WORDING,
                    source=SIGNUP_SOURCE,
                ).customer
                _signup_record(customer, outlet, SIGNUP_SOURCE, None)
                return customer
        except Conflict:  # signed up meanwhile
            existing = Customer.objects.filter(merchant=merchant, phone=e164).first()
            if existing is None:
                raise
    current = consent_current(customer=existing)
    for channel, granted in ticked.items():
        event = current.get(channel)
        if granted and (event is None or not event.granted):
            consent_record(
                customer=existing,
                channel=channel,
                granted=True,
                source=f"{SIGNUP_SOURCE}:{outlet.code}",
                wording_version=SIGNUP_WORDING,
            )
    membership_make(customer=existing, outlet=outlet, source=SIGNUP_SOURCE)
    return existing
