"""The feedback link of a sale on the counter's receipt: ``{% load care_feedback %}``, then
``{% feedback_link sale as link %}`` and ``{{ link|feedback_qr }}``."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from langganan.care.feedback import feedback_token

register = template.Library()


@register.simple_tag(takes_context=True)
def feedback_link(context, sale) -> str:
    """The absolute address of the sale's feedback page ("" without a sale)."""
    if sale is None or getattr(sale, "pk", None) is None:
        return ""
    path = reverse("care:feedback", args=[feedback_token(sale)])
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


@register.filter
def feedback_qr(link: str) -> str:
    """The link as an inline SVG QR code (drawn by segno from the signed address only)."""
    if not link:
        return ""
    from langganan.counter.enrolment import qr_svg

    return mark_safe(qr_svg(link))  # noqa: S308
