"""Chart scripts for ``web/includes/chart_scripts.html``: ``{% load web_charts %}``."""

from __future__ import annotations

from django import template
from django.templatetags.static import static

from langganan.web.charts import locale_format, plotly_static_path

register = template.Library()


@register.simple_tag
def plotly_js() -> str:
    """The URL of plotly.js as the ``plotly`` package ships it, served from this site."""
    return static(plotly_static_path())


@register.simple_tag
def plotly_locale() -> dict:
    """The active language's number and date formats for plotly.js."""
    return locale_format()
