"""Access: everything the merchant holds about one customer, as JSON or an .xlsx workbook.

Sections (each a function of the customer returning JSON values) are registered in
:data:`SECTIONS`; an app that starts holding personal data adds its own with
:func:`register_section` — ``complaints`` is such an extension point, empty until the care
app exists.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from langganan.customers.models import Channel, Customer

FORMAT = "langganan.personal-data/1"
PROFILE_FIELDS = (
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
    "joined_at",
    "acquisition_source",
    "tags",
    "notes",
    "created_at",
    "updated_at",
)

SECTIONS: dict[str, Callable[[Customer], object]] = {}


def register_section(name: str, func: Callable[[Customer], object]) -> None:
    SECTIONS[name] = func


def _value(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _profile(customer: Customer) -> dict:
    return {name: _value(getattr(customer, name)) for name in PROFILE_FIELDS}


def _consents(customer: Customer) -> dict:
    from langganan.customers.selectors import consent_current, consent_history

    current = consent_current(customer=customer)
    return {
        "current": {
            channel: (None if current.get(channel) is None else current[channel].granted)
            for channel in Channel.values
        },
        "history": [
            {
                "occurred_at": _value(e.occurred_at),
                "channel": e.channel,
                "granted": e.granted,
                "source": e.source,
                "wording_version": e.wording_version,
            }
            for e in consent_history(customer=customer).order_by("occurred_at", "id")
        ],
    }


def _purposes(customer: Customer) -> list[dict]:
    from langganan.privacy.purposes import purposes_for

    return [
        {
            "code": p.code,
            "purpose": str(p.title),
            "basis": str(p.basis),
            "data": str(p.data),
            "retention": str(p.retention),
        }
        for p in purposes_for(customer.merchant)
    ]


def _transactions(customer: Customer) -> list[dict]:
    from langganan.sales.models import Transaction

    rows = (
        Transaction.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .select_related("outlet")
        .prefetch_related("items")
        .order_by("occurred_at", "id")
    )
    return [
        {
            "id": t.pk,
            "occurred_at": _value(t.occurred_at),
            "kind": t.kind,
            "refund_of": t.refund_of_id,
            "outlet": t.outlet.name,
            "total": _value(t.total),
            "payment_method": t.payment_method,
            "channel": t.channel,
            "external_id": t.external_id,
            "note": t.note,
            "lines": [
                {
                    "product": item.product_name,
                    "quantity": _value(item.quantity),
                    "unit_price": _value(item.unit_price),
                    "discount": _value(item.discount),
                }
                for item in t.items.all()
            ],
        }
        for t in rows
    ]


def _loyalty(customer: Customer) -> dict:
    from langganan.loyalty.models import Account, Entry, Member, TierChange

    member = Member.objects.filter(customer=customer).select_related("tier").first()
    accounts = Account.objects.filter(customer=customer).order_by("kind")
    entries = (
        Entry.objects.filter(account__customer=customer)
        .select_related("journal", "account")
        .order_by("posted_at", "id")
    )
    tier_changes = (
        TierChange.objects.filter(member=member).select_related("from_tier", "to_tier")
        if member
        else []
    )
    return {
        "member": None
        if member is None
        else {
            "enrolled_at": _value(member.enrolled_at),
            "tier": member.tier.name if member.tier else None,
            "tier_since": _value(member.tier_since),
            "referral_code": member.referral_code,
        },
        "accounts": [
            {
                "kind": a.kind,
                "balance": _value(a.balance),
                "limit": None if a.floor is None else _value(-a.floor + 0),
            }
            for a in accounts
        ],
        "ledger": [
            {
                "posted_at": _value(e.posted_at),
                "account": e.account.kind,
                "kind": e.journal.kind,
                "amount": _value(e.amount),
                "memo": e.journal.memo,
                "transaction": e.journal.transaction_id,
            }
            for e in entries
        ],
        "tier_changes": [
            {
                "changed_at": _value(c.changed_at),
                "from": c.from_tier.name if c.from_tier else None,
                "to": c.to_tier.name if c.to_tier else None,
                "reason": c.reason,
            }
            for c in tier_changes
        ],
    }


def _insights(customer: Customer) -> dict | None:
    """What the analysis inferred about the customer (profiling is personal data too)."""
    from langganan.insights.models import CustomerInsight

    row = CustomerInsight.objects.filter(customer=customer).first()
    if row is None:
        return None
    fields = (
        "orders",
        "total_spend",
        "first_purchase",
        "last_purchase",
        "segment",
        "lifecycle",
        "r_score",
        "f_score",
        "m_score",
        "p_alive",
        "expected_purchases_30",
        "expected_purchases_90",
        "clv",
        "next_purchase_date",
        "typical_weekday",
        "typical_hour",
        "time_of_month",
        "median_gap_days",
        "usual_order",
        "cross_sell",
        "up_sell",
    )
    return {name: _value(getattr(row, name)) for name in fields}


def _vouchers(customer: Customer) -> list[dict]:
    from django.db.models import Q

    from langganan.loyalty.models import Voucher, VoucherRedemption

    used = VoucherRedemption.objects.filter(transaction__customer=customer).values("voucher_id")
    vouchers = Voucher.objects.filter(merchant_id=customer.merchant_id).filter(
        Q(customer=customer) | Q(pk__in=used)
    )
    redemptions = VoucherRedemption.objects.filter(transaction__customer=customer)
    by_voucher: dict[int, list] = {}
    for r in redemptions:
        by_voucher.setdefault(r.voucher_id, []).append(
            {"transaction": r.transaction_id, "discount": _value(r.discount)}
        )
    return [
        {
            "code": v.code,
            "name": v.name,
            "personal": v.customer_id == customer.pk,
            "valid_from": _value(v.valid_from),
            "valid_until": _value(v.valid_until),
            "active": v.is_active,
            "redemptions": by_voucher.get(v.pk, []),
        }
        for v in vouchers.order_by("created_at", "id")
    ]


def _messages(customer: Customer) -> list[dict]:
    from langganan.campaigns.models import Message

    rows = (
        Message.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .select_related("campaign")
        .order_by("created_at", "id")
    )
    return [
        {
            "created_at": _value(m.created_at),
            "campaign": m.campaign.name if m.campaign else None,
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "body": m.body,
            "status": m.status,
        }
        for m in rows
    ]


def _complaints(customer: Customer) -> list[dict]:
    """No complaints are recorded yet; the care app registers its own section over this one."""
    return []


def _corrections(customer: Customer) -> list[dict]:
    from langganan.privacy.models import Correction

    return [
        {
            "at": _value(c.at),
            "field": c.field,
            "old": c.old_value,
            "new": c.new_value,
            "by": c.actor,
        }
        for c in Correction.objects.filter(customer=customer).order_by("at", "id")
    ]


def _requests(customer: Customer) -> list[dict]:
    from langganan.privacy.models import PrivacyRequest

    return [
        {
            "reference": r.reference,
            "kind": r.kind,
            "received_at": _value(r.received_at),
            "deadline": _value(r.deadline),
            "status": r.status,
        }
        for r in PrivacyRequest.objects.filter(customer=customer).order_by("received_at", "id")
    ]


for _name, _func in (
    ("profile", _profile),
    ("consents", _consents),
    ("processing_purposes", _purposes),
    ("transactions", _transactions),
    ("loyalty", _loyalty),
    ("insights", _insights),
    ("vouchers", _vouchers),
    ("messages", _messages),
    ("complaints", _complaints),
    ("corrections", _corrections),
    ("requests", _requests),
):
    register_section(_name, _func)


def personal_data(*, customer: Customer) -> dict:
    """Everything held about ``customer``, section by section (JSON values)."""
    from langganan.web.access import merchant_zone

    with timezone.override(merchant_zone(customer.merchant)):
        data = {
            "format": FORMAT,
            "generated_at": timezone.localtime().isoformat(),
            "merchant": {"name": customer.merchant.name, "slug": customer.merchant.slug},
            "customer_id": customer.pk,
        }
        for name, func in SECTIONS.items():
            data[name] = func(customer)
    return data


def personal_data_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def _flat(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _sheet(book, title: str, rows: list[dict]) -> None:
    from langganan.sales.exporting import safe_cell

    sheet = book.create_sheet(title[:31])
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    if not columns:
        sheet.append(["(kosong)"])
        return
    sheet.append(columns)
    for row in rows:
        sheet.append([safe_cell(_flat(row.get(c))) for c in columns])


def personal_data_xlsx(data: dict) -> bytes:
    """One sheet per section; a section that is one record becomes field/value rows."""
    from openpyxl import Workbook

    from langganan.sales.exporting import safe_cell

    book = Workbook(write_only=True)
    about = book.create_sheet("about")
    for key in ("format", "generated_at", "customer_id"):
        about.append([key, safe_cell(data[key])])
    about.append(["merchant", safe_cell(data["merchant"]["name"])])
    for name in SECTIONS:
        value = data.get(name)
        if name == "transactions":
            heads = [{k: v for k, v in t.items() if k != "lines"} for t in value]
            _sheet(book, "transactions", heads)
            _sheet(
                book,
                "transaction_lines",
                [{"transaction": t["id"], **line} for t in value for line in t["lines"]],
            )
        elif name == "consents":
            current = [{"channel": c, "granted": g} for c, g in value["current"].items()]
            _sheet(book, "consents", current)
            _sheet(book, "consent_history", value["history"])
        elif name == "loyalty":
            _sheet(book, "loyalty_member", [value["member"]] if value["member"] else [])
            _sheet(book, "loyalty_accounts", value["accounts"])
            _sheet(book, "loyalty_ledger", value["ledger"])
            _sheet(book, "tier_changes", value["tier_changes"])
        elif isinstance(value, dict) or value is None:
            _sheet(book, name, [{"field": k, "value": v} for k, v in (value or {}).items()])
        else:
            _sheet(book, name, list(value or []))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
