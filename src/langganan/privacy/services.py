"""Writes for personal-data rights: the request log, the access export, corrections, erasure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.money import format_rupiah
from langganan.core.phones import format_phone
from langganan.customers.models import Customer
from langganan.privacy import audit
from langganan.privacy.export import personal_data
from langganan.privacy.models import (
    ERASED,
    ERASED_CODE_PREFIX,
    AuditAction,
    Correction,
    Erasure,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)

# Error messages (English msgids; the dashboard and the CLI show them in Indonesian).
ERR_TAB_OUTSTANDING = gettext_noop(
    "This customer still owes %(owed)s on their tab (kasbon). Their personal data can be "
    "erased once the tab is paid off or written off."
)
ERR_ALREADY_ERASED = gettext_noop("This customer's personal data has already been erased.")
ERR_REFERENCE_REQUIRED = gettext_noop(
    "Give the request's reference (for example the letter or message number)."
)
ERR_ERASED_NOT_EDITABLE = gettext_noop(
    "This customer's personal data was erased; there is nothing to correct."
)
ERR_KIND_INVALID = "request must be one of access, correction, erasure"

CORRECTABLE_FIELDS = (
    "full_name",
    "greeting",
    "gender",
    "birth_date",
    "phone",
    "email",
    "address",
    "city",
    "province",
    "notes",
)


def _actor(user, actor: str) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    return actor or audit.CLI_ACTOR


def is_erased(customer: Customer) -> bool:
    return Erasure.objects.filter(customer=customer).exists()


# -- the request log ------------------------------------------------------------------------


def privacy_request_log(
    *,
    merchant,
    kind: str,
    reference: str,
    customer: Customer | None = None,
    requester: str = "",
    received_at: datetime | None = None,
    note: str = "",
    user=None,
    actor: str = "",
    http_request=None,
) -> PrivacyRequest:
    """Log a request when it arrives; its deadline is 72 hours after ``received_at``."""
    if kind not in RequestKind.values:
        raise InvalidInput(ERR_KIND_INVALID, field="kind")
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_(ERR_REFERENCE_REQUIRED), field="reference")
    if customer is not None and customer.merchant_id != merchant.pk:
        raise InvalidInput("customer of another merchant", field="customer")
    with transaction.atomic():
        entry = PrivacyRequest.objects.create(
            merchant=merchant,
            customer=customer,
            kind=kind,
            reference=reference[:64],
            requester=requester.strip()[:200],
            received_at=received_at or timezone.now(),
            note=note,
        )
        audit.record(
            http_request,
            merchant,
            AuditAction.REQUEST,
            customer,
            user=user,
            actor=actor,
            kind=kind,
            reference=entry.reference,
        )
    return entry


def privacy_request_close(
    *, entry: PrivacyRequest, status: str, user=None, actor: str = "", note: str = ""
) -> PrivacyRequest:
    entry.status = status
    entry.handled_by = user if getattr(user, "is_authenticated", False) else None
    entry.handled_label = _actor(user, actor)
    entry.handled_at = timezone.now()
    if note:
        entry.note = note
    entry.save(update_fields=["status", "handled_by", "handled_label", "handled_at", "note"])
    return entry


def _request_for(
    *, merchant, customer, kind: str, reference: str, user, actor: str
) -> PrivacyRequest:
    """The open request with this reference, or one logged now (done at once)."""
    reference = (reference or "").strip()
    open_requests = PrivacyRequest.objects.filter(
        merchant=merchant, kind=kind, reference=reference, status=RequestStatus.OPEN
    )
    entry = (
        open_requests.filter(customer=customer).first()
        or open_requests.filter(customer__isnull=True).first()
    )
    if entry is None:
        entry = PrivacyRequest.objects.create(
            merchant=merchant,
            customer=customer,
            kind=kind,
            reference=reference[:64],
            requester=_("The customer themselves"),
        )
    elif entry.customer_id is None:
        entry.customer = customer
        entry.save(update_fields=["customer"])
    return privacy_request_close(entry=entry, status=RequestStatus.DONE, user=user, actor=actor)


def _default_reference(kind: str) -> str:
    return f"{kind.upper()}-{timezone.localtime():%Y%m%d-%H%M%S}"


# -- access ---------------------------------------------------------------------------------


def personal_data_export(
    *,
    customer: Customer,
    fmt: str = "json",
    reference: str = "",
    user=None,
    actor: str = "",
    http_request=None,
) -> dict:
    """The customer's data (see :mod:`langganan.privacy.export`), logged as an access request
    (done) and audited."""
    if fmt not in ("json", "xlsx"):
        raise InvalidInput("format must be json or xlsx", field="format")
    merchant = customer.merchant
    with transaction.atomic():
        data = personal_data(customer=customer)
        entry = _request_for(
            merchant=merchant,
            customer=customer,
            kind=RequestKind.ACCESS,
            reference=reference or _default_reference("akses"),
            user=user,
            actor=actor,
        )
        audit.record(
            http_request,
            merchant,
            AuditAction.DATA_EXPORT,
            customer,
            user=user,
            actor=actor,
            format=fmt,
            reference=entry.reference,
        )
    return data


# -- correction -----------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def customer_correct(
    *,
    customer: Customer,
    changes: dict,
    user=None,
    actor: str = "",
    reference: str = "",
    http_request=None,
) -> list[Correction]:
    """Change the customer's profile fields in ``changes``; each changed field is recorded
    (old, new, who, when). Validated as at registration (phone, email, gender, greeting,
    birth date); a phone another customer has is refused."""
    from langganan.customers.services import ERR_PHONE_TAKEN, _clean_profile

    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot correct {', '.join(sorted(unknown))}")
    if is_erased(customer):
        raise Conflict(_(ERR_ERASED_NOT_EDITABLE))
    merged = {f: getattr(customer, f) for f in CORRECTABLE_FIELDS} | changes
    merged["phone"] = _clean_profile(
        phone=merged["phone"] or None,
        email=(merged["email"] or "").strip(),
        gender=merged["gender"] or "",
        greeting=merged["greeting"] or "",
        birth_date=merged["birth_date"],
    )
    for name in ("full_name", "email", "address", "city", "province", "notes"):
        merged[name] = (merged[name] or "").strip() if name != "notes" else merged[name] or ""
    merchant = customer.merchant
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if (
            merged["phone"]
            and merged["phone"] != locked.phone
            and Customer.objects.filter(merchant=merchant, phone=merged["phone"]).exists()
        ):
            raise Conflict(ERR_PHONE_TAKEN, field="phone")
        changed = [f for f in CORRECTABLE_FIELDS if merged[f] != getattr(locked, f)]
        if not changed:
            return []
        entry = None
        if reference.strip():
            entry = _request_for(
                merchant=merchant,
                customer=locked,
                kind=RequestKind.CORRECTION,
                reference=reference,
                user=user,
                actor=actor,
            )
        now = timezone.now()
        rows = [
            Correction(
                merchant=merchant,
                customer=locked,
                field=f,
                old_value=_text(getattr(locked, f)),
                new_value=_text(merged[f]),
                user=user if getattr(user, "is_authenticated", False) else None,
                actor=_actor(user, actor),
                request=entry,
                at=now,
            )
            for f in changed
        ]
        for f in changed:
            setattr(locked, f, merged[f])
        locked.save(update_fields=[*changed, "updated_at"])
        Correction.objects.bulk_create(rows)
        audit.record(
            http_request,
            merchant,
            AuditAction.CORRECTION,
            locked,
            user=user,
            actor=actor,
            fields=changed,
            reference=entry.reference if entry else "",
        )
    for f in changed:
        setattr(customer, f, merged[f])
    return rows


# -- erasure --------------------------------------------------------------------------------

#: further erasure steps contributed by apps that hold personal data (care: complaints …):
#: ``func(customer, needles) -> int`` (rows changed), run inside the erasure's transaction
ERASERS: dict = {}


def register_eraser(name: str, func) -> None:
    ERASERS[name] = func


def personal_values(customer: Customer) -> list[str]:
    """The customer's identifying values as text, in the forms they may be stored in."""
    values = [
        customer.full_name,
        customer.email,
        customer.address,
        customer.notes,
        customer.external_ref or "",
        customer.member_code,
    ]
    if customer.phone:
        values += [customer.phone, customer.phone.lstrip("+"), format_phone(customer.phone)]
        national = format_phone(customer.phone).replace("-", "").replace(" ", "")
        values.append(national)
    if customer.birth_date:
        values.append(customer.birth_date.isoformat())
    return [v.strip() for v in values if v and len(v.strip()) >= 3]


def _scrub(value, needles: list[str]):
    """``value`` (JSON) with each string that holds a personal value replaced by ERASED."""
    if isinstance(value, str):
        low = value.casefold()
        return ERASED if any(n.casefold() in low for n in needles) else value
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    return value


def customer_erase(
    *,
    customer: Customer,
    reference: str,
    user=None,
    actor: str = "",
    http_request=None,
) -> Erasure:
    """Anonymise the customer, irreversibly, keeping their sales and ledger rows.

    The customer row stays (sales, ledger accounts, insights and campaign recipients point at
    it) with every personal field emptied and the member code replaced by ``DIHAPUS-<id>``;
    message bodies and addresses, journal memos that name them, webhook payloads about them,
    admin history, corrections and request-log names are replaced by ``[dihapus]``. Amounts,
    balances, points and sales totals do not change. Refused while the tab owes money.
    """
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from langganan.campaigns.models import Message, MessageStatus
    from langganan.customers.models import ConsentEvent
    from langganan.loyalty.models import Account, Journal
    from langganan.webhooks.models import WebhookDelivery

    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_(ERR_REFERENCE_REQUIRED), field="reference")
    merchant = customer.merchant
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if is_erased(locked):
            raise Conflict(_(ERR_ALREADY_ERASED))
        # the tab locked until the end: a charge cannot slip in between the check and the erasure
        tab = Account.objects.select_for_update().filter(customer=locked, kind="tab").first()
        owed = max(Decimal(0), -Decimal(tab.balance)) if tab is not None else Decimal(0)
        if owed > 0:
            raise Conflict(
                _(ERR_TAB_OUTSTANDING) % {"owed": format_rupiah(owed, cents=True)},
                code="tab_outstanding",
            )
        needles = personal_values(locked)
        counts: dict[str, int] = {}

        messages = Message.objects.filter(merchant=merchant, customer=locked)
        counts["messages_stopped"] = messages.filter(status=MessageStatus.QUEUED).update(
            status=MessageStatus.SUPPRESSED, last_error="customer erased"
        )
        counts["messages"] = messages.update(to=ERASED, subject="", body=ERASED, template_params=[])

        # Journal memos (append-only except for this one redaction, see migration 0002).
        memo_ids: set[int] = set()
        for needle in needles:
            memo_ids.update(
                Journal.objects.filter(merchant=merchant, memo__icontains=needle)
                .exclude(memo=ERASED)
                .values_list("pk", flat=True)
            )
        for pk in sorted(memo_ids):
            Journal.objects.filter(pk=pk).update(memo=ERASED)
        counts["journal_memos"] = len(memo_ids)

        deliveries = 0
        for delivery in WebhookDelivery.objects.filter(
            merchant=merchant, payload__customer_id=locked.pk
        ):
            scrubbed = _scrub(delivery.payload, needles)
            if scrubbed != delivery.payload:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=scrubbed)
                deliveries += 1
        counts["webhook_payloads"] = deliveries

        consents = 0
        for event in ConsentEvent.objects.filter(customer=locked):
            source = _scrub(event.source, needles)
            wording = _scrub(event.wording_version, needles)
            if (source, wording) != (event.source, event.wording_version):
                ConsentEvent.objects.filter(pk=event.pk).update(
                    source=source, wording_version=wording
                )
                consents += 1
        counts["consent_events"] = consents

        counts["corrections"] = Correction.objects.filter(customer=locked).update(
            old_value=ERASED, new_value=ERASED
        )
        counts["requests"] = (
            PrivacyRequest.objects.filter(customer=locked)
            .exclude(requester="")
            .update(requester=ERASED)
        )
        PrivacyRequest.objects.filter(customer=locked).exclude(note="").update(note="")
        # a sale's note is free text typed at the counter ("antar ke Jl. …"): the sale stays,
        # its note goes
        from langganan.sales.models import Transaction

        counts["sale_notes"] = (
            Transaction.objects.filter(merchant=merchant, customer=locked)
            .exclude(note="")
            .update(note="")
        )

        anonymous = f"{ERASED_CODE_PREFIX}{locked.pk}"
        customer_type = ContentType.objects.get_for_model(Customer)
        counts["admin_log"] = LogEntry.objects.filter(
            content_type=customer_type, object_id=str(locked.pk)
        ).update(object_repr=anonymous, change_message="")
        for needle in needles:
            counts["admin_log"] += LogEntry.objects.filter(object_repr__icontains=needle).update(
                object_repr=ERASED, change_message=""
            )

        for name, func in ERASERS.items():
            counts[name] = func(locked, needles)

        locked.full_name = ""
        locked.greeting = ""
        locked.gender = ""
        locked.birth_date = None
        locked.phone = None
        locked.email = ""
        locked.address = ""
        locked.city = ""
        locked.province = ""
        locked.member_code = anonymous
        locked.external_ref = None
        locked.acquisition_source = ""
        locked.tags = []
        locked.notes = ""
        locked.save()

        entry = _request_for(
            merchant=merchant,
            customer=locked,
            kind=RequestKind.ERASURE,
            reference=reference,
            user=user,
            actor=actor,
        )
        erasure = Erasure.objects.create(
            merchant=merchant,
            customer=locked,
            reference=entry.reference,
            user=user if getattr(user, "is_authenticated", False) else None,
            actor=_actor(user, actor),
            request=entry,
            counts=counts,
        )
        audit.record(
            http_request,
            merchant,
            AuditAction.ERASURE,
            locked,
            user=user,
            actor=actor,
            reference=entry.reference,
            **{k: v for k, v in counts.items() if v},
        )
    for name in (
        "full_name",
        "greeting",
        "gender",
        "birth_date",
        "phone",
        "email",
        "address",
        "city",
        "province",
        "member_code",
        "external_ref",
        "acquisition_source",
        "tags",
        "notes",
    ):
        setattr(customer, name, getattr(locked, name))
    return erasure
