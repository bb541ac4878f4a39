"""The overview's charts, built with plotly on the server from the rows of
:mod:`.overview_tables` (so a chart and the table beside it show the same numbers).

A bar or heat-map cell that stands for customers carries the URL of the customer list filtered
to them in ``customdata``; ``web/charts.js`` opens it on a click.
"""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from langganan.web.charts import COLORS, HEAT_SCALE, chart, layout


def _customers_word() -> str:
    return _("customers")


def _stages(stages: list[dict]) -> dict:
    figure = go.Figure(
        go.Bar(
            x=[row["label"] for row in stages],
            y=[row["customers"] for row in stages],
            customdata=[row["url"] for row in stages],
            marker={"color": [COLORS[0], COLORS[0], COLORS[0], COLORS[1], COLORS[5], COLORS[3]]},
            text=[row["customers_text"] for row in stages],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:,} " + _customers_word() + "<extra></extra>",
        ),
        layout=layout(height=260, yaxis={"tickformat": ",d", "rangemode": "tozero"}),
    )
    return chart(figure, label=_("Customers by lifecycle stage"), name="stages", clickable=True)


def _rfm(rfm: dict) -> dict:
    rows = rfm["rows"]
    figure = go.Figure(
        go.Heatmap(
            x=[f"R{cell['r']}" for cell in rows[0]["cells"]],
            y=[f"F{row['f']}" for row in rows],
            z=[[cell["customers"] for cell in row["cells"]] for row in rows],
            customdata=[[cell["url"] for cell in row["cells"]] for row in rows],
            text=[[cell["monetary_text"] for cell in row["cells"]] for row in rows],
            texttemplate="%{z:,}",
            colorscale=HEAT_SCALE,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate=(
                "%{x} · %{y}: %{z:,} "
                + _customers_word()
                + "<br>"
                + _("average spend")
                + " %{text}<extra></extra>"
            ),
        ),
        layout=layout(
            height=300,
            xaxis={"title": {"text": _("Recency (5 = came most recently)")}, "side": "bottom"},
            yaxis={"title": {"text": _("Frequency (5 = most often)")}, "autorange": "reversed"},
            margin={"l": 56, "r": 8, "t": 8, "b": 48},
        ),
    )
    return chart(
        figure, label=_("RFM grid: customers by recency and frequency"), name="rfm", clickable=True
    )


def _revenue_mix(rows: list[dict]) -> dict:
    """Stacked bars in millions of Rupiah (juta); the hover gives the exact Rupiah."""
    months = [row["month"] for row in rows]
    traces = []
    for key, name, color in (
        ("returning", _("Returning customers"), COLORS[0]),
        ("new", _("New customers"), COLORS[1]),
    ):
        traces.append(
            go.Bar(
                name=name,
                x=months,
                y=[round(row[key] / 1_000_000, 2) for row in rows],
                text=[row[f"{key}_text"] for row in rows],
                textposition="none",
                marker={"color": color},
                hovertemplate="%{x|%b %Y}: %{text}<extra>" + name + "</extra>",
            )
        )
    figure = go.Figure(
        traces,
        layout=layout(
            barmode="stack",
            height=300,
            xaxis={"type": "date", "tickformat": "%b %Y"},
            yaxis={"title": {"text": _("million Rupiah")}, "tickformat": ",~r"},
        ),
    )
    return chart(figure, label=_("Revenue by month from new and returning customers"), name="mix")


def _cohorts(cohorts: dict) -> dict:
    rows = cohorts["rows"]
    figure = go.Figure(
        go.Heatmap(
            x=cohorts["months_since"],
            y=[row["month_text"] for row in rows],
            z=[[None if v is None else round(v * 100, 1) for v in row["values"]] for row in rows],
            colorscale=HEAT_SCALE,
            zmin=0,
            zmax=100,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate=(
                "%{y}, " + _("month") + " %{x}: %{z:.0f}% " + _("still buying") + "<extra></extra>"
            ),
        ),
        layout=layout(
            height=max(260, 18 * len(rows) + 70),
            xaxis={"title": {"text": _("Months since first purchase")}, "dtick": 1},
            yaxis={"autorange": "reversed", "type": "category"},
            margin={"l": 72, "r": 8, "t": 8, "b": 48},
        ),
    )
    return chart(figure, label=_("Cohort retention by month of first purchase"), name="cohorts")


def _histogram(rows: list[dict], title: str, name: str, color: str) -> dict:
    figure = go.Figure(
        go.Bar(
            x=[row["label"] for row in rows],
            y=[row["customers"] for row in rows],
            customdata=[row["url"] for row in rows],
            marker={"color": color},
            hovertemplate="%{x}: %{y:,} " + _customers_word() + "<extra></extra>",
        ),
        layout=layout(
            height=260,
            bargap=0.08,
            xaxis={"type": "category", "tickangle": -45},
            yaxis={"tickformat": ",d", "rangemode": "tozero"},
        ),
    )
    return chart(figure, label=title, name=name, clickable=True)


def _weekday_hour(grid: dict) -> dict:
    figure = go.Figure(
        go.Heatmap(
            x=grid["hour_texts"],
            y=[row["weekday"] for row in grid["rows"]],
            z=[row["values"] for row in grid["rows"]],
            colorscale=HEAT_SCALE,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="%{y} %{x}: %{z:,} " + _("visits") + "<extra></extra>",
        ),
        layout=layout(
            height=260,
            xaxis={"type": "category", "tickangle": -45},
            yaxis={"autorange": "reversed", "type": "category"},
            margin={"l": 64, "r": 8, "t": 8, "b": 48},
        ),
    )
    return chart(figure, label=_("Visits by weekday and hour"), name="weekday-hour")


def _day_of_month(month: dict) -> dict:
    rows = month["rows"]
    figure = go.Figure(
        go.Bar(
            x=[row["day"] for row in rows],
            y=[row["visits"] for row in rows],
            marker={"color": [COLORS[1] if row["payday"] else COLORS[0] for row in rows]},
            hovertemplate=_("Day") + " %{x}: %{y:,} " + _("visits") + "<extra></extra>",
        ),
        layout=layout(
            height=240,
            bargap=0.15,
            xaxis={"dtick": 5, "tick0": 1, "title": {"text": _("Day of the month")}},
            yaxis={"tickformat": ",d", "rangemode": "tozero"},
        ),
    )
    return chart(figure, label=_("Visits by day of the month"), name="day-of-month")


def _payments(rows: list[dict]) -> dict:
    ordered = list(reversed(rows))
    figure = go.Figure(
        go.Bar(
            orientation="h",
            y=[row["label"] for row in ordered],
            x=[round((row["share"] or 0) * 100, 1) for row in ordered],
            customdata=[row["url"] for row in ordered],
            text=[row["share_text"] for row in ordered],
            hovertext=[row["revenue_text"] for row in ordered],
            textposition="auto",
            marker={"color": COLORS[0]},
            hovertemplate="%{y}: %{hovertext} (%{text})<extra></extra>",
        ),
        layout=layout(
            height=max(180, 34 * len(rows) + 60),
            xaxis={"ticksuffix": "%", "rangemode": "tozero"},
            yaxis={"type": "category"},
            margin={"l": 8, "r": 12, "t": 8, "b": 32},
        ),
    )
    return chart(
        figure, label=_("Share of revenue by payment method"), name="payments", clickable=True
    )


def _payments_by_segment(table: dict) -> dict:
    rows = list(reversed(table["rows"]))
    traces = []
    for i, method in enumerate(table["methods"]):
        traces.append(
            go.Bar(
                orientation="h",
                name=method["label"],
                y=[row["label"] for row in rows],
                x=[round(row["cells"][i]["share"] * 100, 1) for row in rows],
                customdata=[row["cells"][i]["url"] for row in rows],
                marker={"color": COLORS[i % len(COLORS)]},
                hovertemplate="%{y}, " + method["label"] + ": %{x:.0f}%<extra></extra>",
            )
        )
    figure = go.Figure(
        traces,
        layout=layout(
            barmode="stack",
            height=max(220, 30 * len(rows) + 110),
            xaxis={"ticksuffix": "%", "range": [0, 100]},
            yaxis={"type": "category"},
            legend={
                "orientation": "h",
                "y": -0.12,
                "x": 0,
                "yanchor": "top",
                "traceorder": "normal",
            },
            margin={"l": 8, "r": 12, "t": 8, "b": 24},
        ),
    )
    return chart(
        figure,
        label=_("How each segment pays (share of its sales)"),
        name="pay-seg",
        clickable=True,
    )


def build(*, tables: dict, lang: str) -> dict:
    """The overview's charts: ``{name: chart}`` for ``web/includes/chart.html``; a chart
    without data is left out (its section says so)."""
    charts = {"stages": _stages(tables["stages"])}
    if tables["rfm"]["customers"]:
        charts["rfm"] = _rfm(tables["rfm"])
    if tables["revenue_mix"]:
        charts["revenue_mix"] = _revenue_mix(tables["revenue_mix"])
    if tables["cohorts"]["rows"]:
        charts["cohorts"] = _cohorts(tables["cohorts"])
    if tables["clv_histogram"]:
        charts["clv"] = _histogram(
            tables["clv_histogram"], _("Customers by lifetime value"), "clv", COLORS[0]
        )
    if tables["p_alive_histogram"]:
        charts["p_alive"] = _histogram(
            tables["p_alive_histogram"],
            _("Customers by chance of coming back"),
            "p-alive",
            COLORS[2],
        )
    if tables["weekday_hour"]["rows"]:
        charts["weekday_hour"] = _weekday_hour(tables["weekday_hour"])
    if tables["day_of_month"]["summary"]:
        charts["day_of_month"] = _day_of_month(tables["day_of_month"])
    if tables["payments"]:
        charts["payments"] = _payments(tables["payments"])
    if tables["payments_by_segment"]["rows"]:
        charts["payments_by_segment"] = _payments_by_segment(tables["payments_by_segment"])
    return charts
