"""Display filters for the dashboard: ``{% load web_format %}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

from langganan.core.money import format_rupiah
from langganan.core.phones import format_phone

register = template.Library()


@register.filter
def rupiah(value) -> str:
    """``{{ 25000|rupiah }}`` → ``Rp 25.000``; empty values show a dash."""
    if value is None or value == "":
        return format_rupiah(None)
    try:
        return format_rupiah(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def phone(value) -> str:
    """``{{ "+6281234567890"|phone }}`` → ``0812-3456-7890``."""
    return format_phone(value)


@register.filter
def quantity(value) -> str:
    """``1.000`` → ``1``, ``1.500`` → ``1,5`` (in the active language's number format)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if number == number.to_integral_value():
        return number_format(int(number))
    return number_format(number.normalize())
