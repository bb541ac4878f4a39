"""The overview (Ringkasan): the merchant's whole customer base at a glance, for a period the
owner picks, each count one click from the customers behind it.

``/m/<merchant>/`` (``web:merchant_home``) for owners and managers; a cashier gets 403
(langganan.web.permissions) and starts at the counter. The page reads what the nightly analysis
stored (``PeriodOverview.data`` for the period, the run's cohorts, revenue mix and basket
rules): no query over transactions when it is shown. Its figures and tables are shaped here
(:mod:`.overview_tables`), its charts built with plotly on the server
(:mod:`.overview_charts`) and drawn by ``web/charts.js``.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from langganan.core.selectors import merchants_for_user
from langganan.insights.jobs import NAME as ANALYSIS_JOB
from langganan.insights.selectors import insight_run_latest, overview_for
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone
from langganan.web.charts import language
from langganan.web.permissions import may_open

from . import overview_charts, overview_tables

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30


def _period(request) -> int:
    try:
        days = int(request.GET.get("period", DEFAULT_PERIOD))
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period_label(days: int) -> str:
    return _("1 year") if days == 365 else _("%(days)s days") % {"days": days}


def computed_text(moment, lang: str) -> str:
    """``5 Des 2026 10.20`` (id) / ``5 Dec 2026 10:20`` (en), in the active time zone."""
    if moment is None:
        return "–"
    local = timezone.localtime(moment)
    return formats.date_format(local, "j M Y H.i" if lang == "id" else "j M Y H:i")


@merchant_view
@require_safe
def overview(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    period = _period(request)
    lang = language()
    row = overview_for(merchant=merchant, period_days=period)
    run = row.run if row is not None else insight_run_latest(merchant=merchant)
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "period": period,
        "periods": [{"days": d, "label": period_label(d), "current": d == period} for d in PERIODS],
        "period_name": period_label(period),
        "run": run,
        "overview": row,
        "may_run_jobs": may_open(membership.role, "jobs:run"),
        "analysis_job": ANALYSIS_JOB,
    }
    with timezone.override(merchant_zone(merchant)):
        context["computed_text"] = computed_text(run.finished_at if run else None, lang)
        if row is not None:
            tables = overview_tables.build(
                merchant=merchant, run=run, data=row.data or {}, period=period, lang=lang
            )
            context.update(tables)
            context["charts"] = overview_charts.build(tables=tables, lang=lang)
        return render(request, "insights/overview.html", context)
