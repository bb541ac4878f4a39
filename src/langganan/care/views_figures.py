"""The figures page of complaints and feedback (``/m/<merchant>/keluhan/angka/``), for owners
and managers: the numbers come from :mod:`langganan.care.figures`, each chart has its table."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from langganan.web.access import merchant_for_request, merchant_view, merchant_zone
from langganan.web.charts import COLORS, chart, layout
from langganan.web.views import _render_for_merchant

from .figures import PERIODS, figures_for, period_days


def period_label(days: int) -> str:
    return _("1 year") if days == 365 else _("%(days)s days") % {"days": days}


def _category_chart(rows: list[tuple[str, int]]) -> dict:
    figure = go.Figure(
        go.Bar(
            x=[n for _name, n in rows][::-1],
            y=[name for name, _n in rows][::-1],
            orientation="h",
            marker={"color": COLORS[0]},
            text=[n for _name, n in rows][::-1],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        ),
        layout=layout(
            height=max(160, 34 * len(rows) + 40),
            margin={"l": 8, "r": 24, "t": 8, "b": 24},
            xaxis={"tickformat": ",d", "rangemode": "tozero"},
        ),
    )
    return chart(figure, label=_("Complaints by category"), name="care-categories")


def _trend_chart(trend, unit: str) -> dict:
    lang_format = "%d %b" if unit == "week" else "%b %Y"
    x = [point.start.isoformat() for point in trend]
    csat = [
        float(point.scores.csat * 100) if point.scores.csat is not None else None for point in trend
    ]
    nps = [point.scores.nps for point in trend]
    figure = go.Figure(
        [
            go.Scatter(
                x=x,
                y=csat,
                name=_("CSAT (%)"),
                mode="lines+markers",
                line={"color": COLORS[0]},
                hovertemplate="%{x|" + lang_format + "}: %{y:.0f}%<extra>CSAT</extra>",
            ),
            go.Scatter(
                x=x,
                y=nps,
                name="NPS",
                mode="lines+markers",
                line={"color": COLORS[1]},
                hovertemplate="%{x|" + lang_format + "}: %{y}<extra>NPS</extra>",
            ),
        ],
        layout=layout(
            height=260,
            yaxis={"range": [-100, 105], "tickformat": ",d"},
            xaxis={
                "type": "date",
                "tickformat": lang_format,
                "dtick": "M1" if unit == "month" else 7 * 24 * 3600 * 1000,
                "tick0": x[0] if x else None,
            },
        ),
    )
    return chart(figure, label=_("CSAT and NPS over time"), name="care-trend")


@merchant_view
@require_safe
def figures(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    days = period_days(request.GET.get("period"))
    data = figures_for(merchant=merchant, days=days)
    zone = merchant_zone(merchant)
    with timezone.override(zone):
        trend_rows = [
            {
                "label": formats.date_format(
                    point.start, "F Y" if data.trend_unit == "month" else "j M Y"
                ),
                "scores": point.scores,
            }
            for point in data.trend
        ]
    charts = {}
    if data.by_category:
        charts["categories"] = _category_chart(data.by_category)
    if len(data.trend) > 1:
        charts["trend"] = _trend_chart(data.trend, data.trend_unit)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "care/figures.html",
        {
            "f": data,
            "period": days,
            "periods": [
                {"days": d, "label": period_label(d), "current": d == days} for d in PERIODS
            ],
            "period_name": period_label(days),
            "trend_rows": trend_rows,
            "charts": charts,
            "no_outlet": _("(no outlet)"),
        },
    )
