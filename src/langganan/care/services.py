"""Writes of complaints: record, note, status, assignment, service recovery, the reply.

Each service is keyword-only and atomic, and writes one line of the complaint's timeline
(:class:`~.models.ComplaintEvent`). The first thing staff do after a complaint was recorded (a
note, a status change, an assignment, a recovery or a reply) is its first response.

Error messages are constants; views translate them (their msgids are in the app's catalogue).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Membership, Merchant, Outlet
from langganan.core.phones import normalize_phone
from langganan.customers.models import Customer
from langganan.sales.models import Transaction

from .models import (
    DEFAULT_CATEGORIES,
    OPEN_STATUSES,
    TRANSITIONS,
    CareSettings,
    Channel,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintRecovery,
    EventKind,
    RecoveryKind,
    Severity,
    Status,
)

ERR_TEXT_REQUIRED = gettext_noop("Write what the complaint is about.")
ERR_NOTE_REQUIRED = gettext_noop("Write the note.")
ERR_CATEGORY = gettext_noop("Choose one of the complaint categories.")
ERR_CHANNEL = gettext_noop("Choose how the complaint came in.")
ERR_SEVERITY = gettext_noop("Choose the severity.")
ERR_OTHER_MERCHANT = gettext_noop("That does not belong to this business.")
ERR_PHONE = gettext_noop("The phone number is not valid.")
ERR_TRANSITION = gettext_noop("A complaint that is %(from)s cannot become %(to)s.")
ERR_ASSIGNEE = gettext_noop("Choose a staff member of this business.")
ERR_NO_CUSTOMER = gettext_noop(
    "This complaint has no customer record: a voucher, points or credit need one."
)
ERR_NOT_MEMBER = gettext_noop("The customer is not a member: points need a membership.")
ERR_AMOUNT = gettext_noop("The amount must be more than zero.")
ERR_POINTS = gettext_noop("The points must be more than zero.")
ERR_NO_PHONE = gettext_noop("There is no phone number to reply to.")
ERR_CATEGORY_TAKEN = gettext_noop("There is already a category with that name.")


class TransitionRefused(Conflict):
    """A status change not in :data:`~.models.TRANSITIONS`; ``params`` fill the message."""

    def __init__(self, current: str, wanted: str):
        super().__init__(ERR_TRANSITION, field="status", code="transition")
        self.params = {"from": current, "to": wanted}


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _event(complaint: Complaint, kind: str, by, at: datetime, **fields) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        merchant_id=complaint.merchant_id, complaint=complaint, kind=kind, by=by, at=at, **fields
    )


def _responded(complaint: Complaint, at: datetime) -> None:
    if complaint.first_response_at is None:
        complaint.first_response_at = at
        complaint.save(update_fields=["first_response_at"])


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


# -- categories ---------------------------------------------------------------------------------


@transaction.atomic
def categories_ensure(*, merchant: Merchant) -> None:
    """Give the merchant the default categories the first time they are needed."""
    if ComplaintCategory.objects.filter(merchant=merchant).exists():
        return
    ComplaintCategory.objects.bulk_create(
        [
            ComplaintCategory(merchant=merchant, code=code, name=name, position=i)
            for i, (code, name) in enumerate(DEFAULT_CATEGORIES)
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def category_add(*, merchant: Merchant, name: str) -> ComplaintCategory:
    name = (name or "").strip()[:60]
    if not name:
        raise InvalidInput(ERR_CATEGORY, field="name")
    if ComplaintCategory.objects.filter(merchant=merchant, name__iexact=name).exists():
        raise Conflict(ERR_CATEGORY_TAKEN, field="name")
    last = ComplaintCategory.objects.filter(merchant=merchant).order_by("-position").first()
    return ComplaintCategory.objects.create(
        merchant=merchant, name=name, position=(last.position + 1) if last else 0
    )


@transaction.atomic
def category_set_active(*, category: ComplaintCategory, active: bool) -> ComplaintCategory:
    category.is_active = active
    category.save(update_fields=["is_active"])
    return category


ERR_TARGETS = gettext_noop(
    "The targets are whole hours from 1 to 720, the first response no later than the resolution."
)
ERR_LOW_RATING = gettext_noop("The rating that opens a complaint is from 0 (never) to 5.")


@transaction.atomic
def care_settings_save(
    *, merchant: Merchant, first_response_hours: int, resolution_hours: int, low_rating: int
) -> CareSettings:
    """Set the merchant's targets and the rating at or below which feedback opens a complaint."""
    if not (1 <= first_response_hours <= resolution_hours <= 720):
        raise InvalidInput(ERR_TARGETS, field="first_response_hours")
    if not 0 <= low_rating <= 5:
        raise InvalidInput(ERR_LOW_RATING, field="low_rating")
    settings_row, _created = CareSettings.objects.update_or_create(
        merchant=merchant,
        defaults={
            "first_response_hours": first_response_hours,
            "resolution_hours": resolution_hours,
            "low_rating": low_rating,
        },
    )
    return settings_row


# -- complaints ---------------------------------------------------------------------------------


@transaction.atomic
def complaint_create(
    *,
    merchant: Merchant,
    text: str,
    channel: str,
    category: ComplaintCategory,
    severity: str = Severity.MEDIUM,
    customer: Customer | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    outlet: Outlet | None = None,
    transaction_obj: Transaction | None = None,
    by=None,
    at: datetime | None = None,
) -> Complaint:
    """Record a complaint (status *baru*) and the first line of its timeline."""
    at = _now(at)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(ERR_TEXT_REQUIRED, field="text")
    if channel not in Channel.values:
        raise InvalidInput(ERR_CHANNEL, field="channel")
    if severity not in Severity.values:
        raise InvalidInput(ERR_SEVERITY, field="severity")
    if category is None or category.merchant_id != merchant.pk:
        raise InvalidInput(ERR_CATEGORY, field="category")
    for name, obj in (("customer", customer), ("outlet", outlet), ("transaction", transaction_obj)):
        if obj is not None and obj.merchant_id != merchant.pk:
            raise InvalidInput(ERR_OTHER_MERCHANT, field=name)
    phone = ""
    if contact_phone and contact_phone.strip():
        try:
            phone = normalize_phone(contact_phone) or ""
        except ValueError:
            phone = ""
        if not phone:
            raise InvalidInput(ERR_PHONE, field="contact_phone")
    if transaction_obj is not None:
        customer = customer or transaction_obj.customer
        outlet = outlet or transaction_obj.outlet
    complaint = Complaint.objects.create(
        merchant=merchant,
        customer=customer,
        contact_name=(contact_name or "").strip()[:200],
        contact_phone=phone,
        outlet=outlet,
        transaction=transaction_obj,
        channel=channel,
        category=category,
        severity=severity,
        text=text,
        created_by=by,
        created_at=at,
    )
    _event(complaint, EventKind.CREATED, by, at, to_status=Status.NEW)
    from .events import complaint_created_emit

    complaint_created_emit(complaint)
    return complaint


@transaction.atomic
def complaint_note(*, complaint: Complaint, text: str, by, at: datetime | None = None):
    at = _now(at)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(ERR_NOTE_REQUIRED, field="text")
    complaint = _locked(complaint)
    _responded(complaint, at)
    return _event(complaint, EventKind.NOTE, by, at, text=text)


@transaction.atomic
def complaint_set_status(
    *, complaint: Complaint, status: str, by, note: str = "", at: datetime | None = None
) -> Complaint:
    """Move the complaint along :data:`~.models.TRANSITIONS`; anything else is refused."""
    at = _now(at)
    complaint = _locked(complaint)
    current = complaint.status
    if status not in TRANSITIONS.get(current, ()):
        raise TransitionRefused(current, status)
    complaint.status = status
    if status in (Status.RESOLVED, Status.REJECTED):
        complaint.resolved_at = at
    elif status in OPEN_STATUSES:
        complaint.resolved_at = None  # reopened
    complaint.save(update_fields=["status", "resolved_at"])
    _responded(complaint, at)
    _event(complaint, EventKind.STATUS, by, at, from_status=current, to_status=status, text=note)
    if status == Status.RESOLVED:
        from .events import complaint_resolved_emit

        complaint_resolved_emit(complaint)
    return complaint


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee, by, at: datetime | None = None):
    at = _now(at)
    complaint = _locked(complaint)
    if (
        assignee is not None
        and not Membership.objects.filter(merchant_id=complaint.merchant_id, user=assignee).exists()
    ):
        raise InvalidInput(ERR_ASSIGNEE, field="assignee")
    complaint.assignee = assignee
    complaint.save(update_fields=["assignee"])
    _responded(complaint, at)
    name = (assignee.get_full_name() or assignee.get_username()) if assignee else ""
    _event(complaint, EventKind.ASSIGNED, by, at, text=name)
    return complaint


def assignable_users(merchant: Merchant):
    return (
        get_user_model()
        .objects.filter(memberships__merchant=merchant)
        .order_by("first_name", "username")
    )


# -- service recovery ---------------------------------------------------------------------------


def _recovery_customer(complaint: Complaint) -> Customer:
    if complaint.customer_id is None:
        raise InvalidInput(ERR_NO_CUSTOMER, field="kind")
    return Customer.objects.select_related("merchant").get(pk=complaint.customer_id)


def _already(complaint: Complaint, key: str) -> ComplaintRecovery | None:
    return ComplaintRecovery.objects.filter(complaint=complaint, key=key).first()


@transaction.atomic
def complaint_recover(
    *,
    complaint: Complaint,
    kind: str,
    key: str,
    by,
    amount: Decimal | None = None,
    points: int | None = None,
    valid_days: int = 30,
    at: datetime | None = None,
) -> ComplaintRecovery:
    """Make up for the complaint with an apology voucher (``amount`` off, one use, for this
    customer only), bonus points or store credit (``amount``), through the loyalty services.

    Idempotent per ``key`` (the form's key): pressing the button twice gives once. Counted as
    the complaint's cost: the voucher's value, the points at the program's point value, the
    credit granted. A recovery is service, not a promotion: it needs no marketing consent.
    """
    from langganan.loyalty.credit import credit_grant
    from langganan.loyalty.members import program_for
    from langganan.loyalty.models import DiscountType, Member
    from langganan.loyalty.points import points_earn
    from langganan.loyalty.vouchers import voucher_create

    at = _now(at)
    complaint = _locked(complaint)
    done = _already(complaint, key)
    if done is not None:
        return done
    customer = _recovery_customer(complaint)
    ledger_key = f"complaint:{complaint.pk}:{key}"
    voucher = journal = None
    given_points = 0
    if kind == RecoveryKind.VOUCHER:
        if amount is None or amount <= 0:
            raise InvalidInput(ERR_AMOUNT, field="amount")
        voucher = voucher_create(
            merchant=complaint.merchant,
            name=f"Maaf #{complaint.pk}",
            discount_type=DiscountType.FIXED,
            value=amount,
            customer=customer,
            batch=f"complaint-{complaint.pk}",
            valid_from=at,
            valid_until=at + timedelta(days=valid_days),
        )
        cost = Decimal(amount)
    elif kind == RecoveryKind.POINTS:
        if points is None or points <= 0:
            raise InvalidInput(ERR_POINTS, field="points")
        if not Member.objects.filter(customer=customer).exists():
            raise InvalidInput(ERR_NOT_MEMBER, field="points")
        program = program_for(merchant=complaint.merchant)
        journal = points_earn(
            customer=customer,
            points=points,
            key=ledger_key,
            at=at,
            kind="bonus",
            memo=f"Keluhan #{complaint.pk}",
            program=program,
        )
        given_points = points
        cost = Decimal(points) * program.point_value
    elif kind == RecoveryKind.CREDIT:
        if amount is None or amount <= 0:
            raise InvalidInput(ERR_AMOUNT, field="amount")
        journal = credit_grant(
            customer=customer,
            amount=Decimal(amount),
            key=ledger_key,
            at=at,
            kind="adjust",
            memo=f"Keluhan #{complaint.pk}",
        )
        cost = Decimal(amount)
    else:
        raise InvalidInput(ERR_AMOUNT, field="kind")
    try:
        with transaction.atomic():
            recovery = ComplaintRecovery.objects.create(
                merchant_id=complaint.merchant_id,
                complaint=complaint,
                kind=kind,
                key=key,
                voucher=voucher,
                journal=journal,
                points=given_points,
                cost=cost.quantize(Decimal("0.01")),
                by=by,
                at=at,
            )
    except IntegrityError:  # pragma: no cover (the row lock above serialises the key)
        raise Conflict(ERR_AMOUNT) from None
    _responded(complaint, at)
    from langganan.core.money import format_rupiah

    if voucher is not None:
        what = f"Voucher {voucher.code}"
    elif given_points:
        what = f"{given_points} poin"
    else:
        what = "Saldo"
    _event(complaint, EventKind.RECOVERY, by, at, text=f"{what} · {format_rupiah(cost)}")
    return recovery


# -- the reply ----------------------------------------------------------------------------------


@transaction.atomic
def complaint_reply(*, complaint: Complaint, text: str, by, at: datetime | None = None) -> str:
    """Log a service reply to the customer and return its wa.me link (no marketing consent is
    needed for a reply about their own complaint; it is not a campaign message)."""
    from langganan.campaigns.channels.manual import wa_me_link

    at = _now(at)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(ERR_NOTE_REQUIRED, field="text")
    complaint = _locked(complaint)
    phone = complaint.customer.phone if complaint.customer_id else complaint.contact_phone
    if not phone:
        raise InvalidInput(ERR_NO_PHONE, field="text")
    _responded(complaint, at)
    _event(complaint, EventKind.REPLY, by, at, text=text)
    return wa_me_link(phone, text)
