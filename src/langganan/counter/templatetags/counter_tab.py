"""Labels for the kasbon pages and the day's summary: ``{% load counter_tab %}``."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def received_label(method: str) -> str:
    """A payment method of the day's summary in the active language."""
    from langganan.counter.views_tab import RECEIVED_LABELS

    return str(RECEIVED_LABELS.get(method, method))


@register.filter
def source_label(source: str) -> str:
    """Where new members signed up, in the active language."""
    from langganan.counter.views_tab import SOURCE_LABELS

    return str(SOURCE_LABELS.get(source, source))


@register.filter
def payment_label(method: str) -> str:
    """A payment method of a sale as the counter names it, in the active language."""
    from langganan.counter.views_sale import payment_label as label

    return label(method)
