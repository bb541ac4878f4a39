"""What the navigation may show: ``{% load web_access %}``, then
``{% if membership|may:"campaigns_web:campaign_list" %}``."""

from __future__ import annotations

from django import template

from langganan.core.phones import format_phone
from langganan.web.permissions import CONTACT_ROLES, may_open

register = template.Library()


@register.filter
def may(membership, name: str) -> bool:
    """Whether the membership's role may open the page ``name`` (a URL name)."""
    return membership is not None and may_open(membership.role, name)


@register.filter
def sees_contact(membership) -> bool:
    """Whether the role sees a customer's full phone number, e-mail and address."""
    return membership is not None and membership.role in CONTACT_ROLES


@register.filter
def phone_masked(value) -> str:
    """``+6281234567890`` → ``0812-****-890``: enough to confirm it with the customer."""
    shown = format_phone(value)
    digits = "".join(ch for ch in shown if ch.isdigit())
    if len(digits) < 8:
        return "****" if digits else ""
    return f"{digits[:4]}-****-{digits[-3:]}"


@register.filter
def email_masked(value) -> str:
    """``rina.wati@gmail.com`` → ``r***@gmail.com``."""
    if not value or "@" not in value:
        return "****" if value else ""
    local, _, domain = str(value).rpartition("@")
    return f"{local[:1]}***@{domain}"
