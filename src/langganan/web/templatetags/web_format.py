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


def _language() -> str:
    from django.utils import translation

    return "en" if (translation.get_language() or "id").startswith("en") else "id"


@register.filter
def segment_label(code) -> str:
    """An RFM segment code in the active language: ``champions`` → ``Juara``."""
    from langganan.analytics.labels import label

    return label(str(code), _language(), kind="segment") if code else "–"


@register.filter
def segment_action(code) -> str:
    from langganan.analytics.labels import suggest_action

    return suggest_action(str(code), _language(), kind="segment") if code else ""


@register.filter
def stage_label(code) -> str:
    """A lifecycle stage code in the active language: ``lapsed`` → ``Tidur``."""
    from langganan.analytics.labels import label

    return label(str(code), _language(), kind="stage") if code else "–"


@register.filter
def stage_action(code) -> str:
    from langganan.analytics.labels import suggest_action

    return suggest_action(str(code), _language(), kind="stage") if code else ""


@register.filter
def rhythm(insight) -> str:
    """``Biasanya datang tiap 7 hari, sudah 30 hari tidak datang.``"""
    from langganan.analytics.labels import rhythm_sentence

    if insight is None or insight.median_gap_days is None:
        return ""
    return rhythm_sentence(insight.median_gap_days, insight.days_since_last, _language())


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.0f}%"


@register.filter
def decimal1(value) -> str:
    if value is None or value == "":
        return "–"
    return number_format(round(float(value), 1), 1)
