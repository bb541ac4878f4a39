"""The customer page's "Personal data" box and the audit log's readable details."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from langganan.core.models import Role
from langganan.privacy.models import RequestKind

register = template.Library()

DETAIL_LABELS = {
    "results": gettext_lazy("results"),
    "channel": gettext_lazy("channel"),
    "granted": gettext_lazy("consent"),
    "limit": gettext_lazy("limit"),
    "format": gettext_lazy("format"),
    "reference": gettext_lazy("reference"),
    "fields": gettext_lazy("fields"),
    "table": gettext_lazy("table"),
    "rows": gettext_lazy("rows"),
    "campaign": gettext_lazy("campaign"),
    "kind": gettext_lazy("request"),
    "messages": gettext_lazy("messages emptied"),
    "messages_stopped": gettext_lazy("queued messages stopped"),
    "journal_memos": gettext_lazy("ledger memos"),
    "webhook_payloads": gettext_lazy("webhook payloads"),
    "consent_events": gettext_lazy("consent records"),
    "corrections": gettext_lazy("corrections"),
    "requests": gettext_lazy("requests"),
    "admin_log": gettext_lazy("admin history"),
}
FIELD_LABELS = {
    "full_name": gettext_lazy("full name"),
    "greeting": gettext_lazy("greeting"),
    "gender": gettext_lazy("gender"),
    "birth_date": gettext_lazy("birth date"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("email"),
    "address": gettext_lazy("address"),
    "city": gettext_lazy("city"),
    "province": gettext_lazy("province"),
    "notes": gettext_lazy("notes"),
}
TABLE_LABELS = {
    "customers": gettext_lazy("customers"),
    "transactions": gettext_lazy("transactions"),
}
HIDDEN = {"query_digest", "query_length"}


def _value(key: str, value) -> str:
    from langganan.core.money import format_rupiah

    if key == "granted":
        return _("granted") if value else _("withdrawn")
    if key == "limit":
        try:
            return format_rupiah(value)
        except (TypeError, ValueError, ArithmeticError):
            return str(value)
    if key == "fields":
        return ", ".join(str(FIELD_LABELS.get(f, f)) for f in value)
    if key == "table":
        return str(TABLE_LABELS.get(value, value))
    if key == "format" and value == "xlsx":
        return "Excel (xlsx)"
    if key == "kind":
        return str(dict(RequestKind.choices).get(value, value))
    if key == "channel":
        from langganan.customers.models import Channel

        return str(dict(Channel.choices).get(value, value))
    if value in (None, ""):
        return "–"
    return str(value)


@register.filter
def audit_detail(detail) -> list[tuple[str, str]]:
    """``[(label, value)]`` of an event's details, in the reader's language."""
    return [
        (str(DETAIL_LABELS.get(k, k)), _value(k, v))
        for k, v in (detail or {}).items()
        if k not in HIDDEN
    ]


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key)


@register.filter
def correction_value(correction, which: str) -> str:
    from langganan.core.phones import format_phone
    from langganan.customers.models import Gender

    value = correction.old_value if which == "old" else correction.new_value
    if not value:
        return "–"
    if correction.field == "phone" and value.startswith("+"):
        return format_phone(value)
    if correction.field == "gender":
        return str(dict(Gender.choices).get(value, value))
    if correction.field == "birth_date":
        from datetime import date

        from django.utils.formats import date_format

        try:
            return date_format(date.fromisoformat(value), "j M Y")
        except ValueError:
            return value
    return value


@register.inclusion_tag("privacy/customer_box.html", takes_context=True)
def privacy_box(context):
    """The "Personal data" box for the customer page (owners and managers; nothing for a
    cashier)."""
    from langganan.privacy.models import ERASED_CODE_PREFIX
    from langganan.privacy.selectors import erasure_for

    membership = context.get("membership")
    customer = context.get("customer")
    role = getattr(membership, "role", None)
    if customer is None or role not in (Role.OWNER, Role.MANAGER):
        return {"hidden": True}
    # no query for the usual customer: an erased one has the member code DIHAPUS-<id>
    erased = customer.member_code == f"{ERASED_CODE_PREFIX}{customer.pk}"
    return {
        "hidden": False,
        "merchant": context.get("merchant"),
        "customer": customer,
        "is_owner": role == Role.OWNER,
        "erasure": erasure_for(customer=customer) if erased else None,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
