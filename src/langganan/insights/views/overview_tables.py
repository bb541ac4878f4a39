"""The overview's figures and tables, shaped for the page from what the analysis stored.

:func:`build` turns one ``PeriodOverview.data`` (keys described in
:mod:`langganan.insights.overview`) and the run's run-wide tables into rows with their numbers
written the language's way (``Rp 25.000``, ``12,5%``) and, for each count, the URL of the
customer list filtered to exactly those customers (``?stage=loyal``,
``?moved_from=loyal&stage=at_risk&period=30``, ``?r_scores=5&f_scores=4`` …). The charts
(:mod:`.overview_charts`) are drawn from these same rows, so a chart and its table agree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import dates, formats, timezone
from django.utils.translation import gettext as _

from langganan.analytics.labels import label as engine_label
from langganan.core.money import format_rupiah
from langganan.insights.stages import DISPLAY_LABELS, DISPLAY_STAGES
from langganan.insights.summary import number
from langganan.sales.models import PaymentMethod

#: the customer list (another app may own it: the first name that exists is used)
CUSTOMER_LIST_NAMES = ("customers:customer_list", "web:customer_list")
#: days of the month counted as "around payday" (gajian): the 25th to the 5th
PAYDAY_DAYS = frozenset((*range(25, 32), *range(1, 6)))
TOP_RULES = 10
#: moves shown at once; the rest behind "n more" (the loyal → lapsing row always shows)
TOP_MOVES = 8


def customer_list_url(merchant, params: dict | list | None = None) -> str:
    """The customer list filtered by ``params`` (lists repeat: ``segments=a&segments=b``)."""
    for name in CUSTOMER_LIST_NAMES:
        try:
            base = reverse(name, kwargs={"slug": merchant.slug})
        except NoReverseMatch:
            continue
        query = urlencode(params or {}, doseq=True)
        return f"{base}?{query}" if query else base
    return ""


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _float(value) -> float | None:
    number_ = _decimal(value)
    return None if number_ is None else float(number_)


def percent(share: float | None, lang: str, digits: int | None = None) -> str:
    """``0.125`` → ``12,5%`` (id) / ``12.5%`` (en); below 10 % one decimal, else whole."""
    if share is None:
        return "–"
    value = float(share) * 100
    if digits is None:
        digits = 1 if 0 < abs(value) < 10 else 0
    return f"{number(value, lang, digits)}%"


def count(value, lang: str) -> str:
    return "–" if value is None else number(int(value), lang)


def money(value) -> str:
    amount = _decimal(value)
    return format_rupiah(amount) if amount is not None else "–"


def _signed(text: str, value: float) -> str:
    if text.strip("0,.%") == "":
        return text
    return f"+{text}" if value > 0 else f"−{text}"


def change(current, base, kind: str, lang: str) -> dict:
    """The change from ``base`` to ``current``: relative (``+12%``) for counts and money, in
    percentage points for a share; a dash when there is nothing to compare with."""
    now, then = _float(current), _float(base)
    if now is None or then is None:
        return {"text": "–", "direction": ""}
    if kind == "share":
        points = (now - then) * 100
        text = _signed(number(abs(points), lang, 1), points) + " " + _("pts")
        delta = points
    else:
        if then == 0:
            return {"text": "–", "direction": ""}
        delta = (now - then) / abs(then)
        text = _signed(percent(abs(delta), lang), delta)
    direction = "up" if delta > 0 else "down" if delta < 0 else ""
    if text.lstrip("+−").strip("0,.%pts ") == "":
        direction = ""
    return {"text": text, "direction": direction}


def _value(value, kind: str, lang: str) -> str:
    if value is None:
        return "–"
    if kind == "count":
        return count(value, lang)
    if kind == "money":
        return money(value)
    if kind == "share":
        return percent(_float(value), lang)
    return number(float(value), lang, 1)


def _figures(merchant, data: dict, period: int, lang: str) -> list[dict]:
    definitions = (
        ("buyers", _("Customers who bought"), "count", {"last_purchase_max_days": period}),
        ("new_customers", _("New customers"), "count", None),
        ("returning_revenue_share", _("Revenue from returning customers"), "share", None),
        ("revenue", _("Revenue"), "money", None),
        ("average_basket", _("Average basket"), "money", None),
        ("visits_per_customer", _("Visits per customer"), "decimal", None),
        ("members", _("Members"), "count", {"member": 1}),
        ("points_liability", _("Points not yet redeemed (in Rupiah)"), "money", None),
        ("open_tab", _("Open tabs (kasbon)"), "money", None),
    )
    stored = data.get("figures") or {}
    rows = []
    for key, title, kind, params in definitions:
        figure = stored.get(key) or {}
        current = figure.get("current")
        rows.append(
            {
                "key": key,
                "label": title,
                "value": _value(current, kind, lang),
                "previous": change(current, figure.get("previous"), kind, lang),
                "last_year": change(current, figure.get("last_year"), kind, lang),
                "previous_value": _value(figure.get("previous"), kind, lang),
                "last_year_value": _value(figure.get("last_year"), kind, lang),
                "url": customer_list_url(merchant, params) if params and current else "",
            }
        )
    return rows


def stage_label(code: str, lang: str) -> str:
    if code == "none":
        return _("Not a customer yet")
    return DISPLAY_LABELS.get(code, {}).get(lang, code)


def _stages(merchant, data: dict, lang: str) -> list[dict]:
    stored = data.get("stages") or {}
    now, before = stored.get("current") or {}, stored.get("previous") or {}
    rows = []
    for code in DISPLAY_STAGES:
        current, previous = int(now.get(code) or 0), before.get(code)
        difference = None if previous is None else current - int(previous)
        rows.append(
            {
                "code": code,
                "label": stage_label(code, lang),
                "customers": current,
                "customers_text": count(current, lang),
                "previous_text": count(previous, lang),
                "difference": difference,
                "difference_text": "–"
                if difference is None
                else _signed(count(abs(difference), lang), difference),
                "url": customer_list_url(merchant, {"stage": code}),
            }
        )
    return rows


def _moves(merchant, data: dict, period: int, lang: str) -> list[dict]:
    rows = []
    for move in data.get("moves") or []:
        source, target = move.get("from") or "none", move.get("to")
        rows.append(
            {
                "from": source,
                "to": target,
                "from_label": stage_label(source, lang),
                "to_label": stage_label(target, lang),
                "customers": int(move.get("customers") or 0),
                "customers_text": count(move.get("customers"), lang),
                "highlight": source == "loyal" and target == "at_risk",
                "url": customer_list_url(
                    merchant, {"moved_from": source, "stage": target, "period": period}
                ),
            }
        )
    return rows


def _rfm(merchant, data: dict, lang: str) -> dict:
    cells = {(int(c["r"]), int(c["f"])): c for c in data.get("rfm_grid") or []}
    rows = []
    for f in range(5, 0, -1):
        row = []
        for r in range(1, 6):
            cell = cells.get((r, f)) or {}
            customers = int(cell.get("customers") or 0)
            row.append(
                {
                    "r": r,
                    "f": f,
                    "customers": customers,
                    "customers_text": count(customers, lang),
                    "monetary": _float(cell.get("average_monetary")),
                    "monetary_text": money(cell.get("average_monetary")) if customers else "",
                    "url": customer_list_url(merchant, {"r_scores": r, "f_scores": f})
                    if customers
                    else "",
                }
            )
        rows.append({"f": f, "cells": row})
    return {"rows": rows, "customers": sum(int(c.get("customers") or 0) for c in cells.values())}


def _segments(merchant, data: dict, lang: str) -> list[dict]:
    rows = []
    for segment in data.get("segments") or []:
        code = segment.get("segment") or ""
        try:
            name = engine_label(code, lang, kind="segment")
        except KeyError:
            name = code
        rows.append(
            {
                "code": code,
                "label": name,
                "customers": int(segment.get("customers") or 0),
                "customers_text": count(segment.get("customers"), lang),
                "revenue_share": _float(segment.get("revenue_share")),
                "revenue_share_text": percent(_float(segment.get("revenue_share")), lang),
                "average_clv_text": money(segment.get("average_clv")),
                "url": customer_list_url(merchant, {"segments": code}),
            }
        )
    return rows


def _month(value) -> tuple[str, str]:
    """A stored month (``2025-06-01T00:00:00``) as ISO date and as ``Jun 2025``."""
    text = str(value or "")[:10]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text, text
    return day.isoformat(), formats.date_format(day, "M Y")


def _revenue_mix(run, lang: str) -> list[dict]:
    rows = []
    for month in (run.revenue_mix if run else None) or []:
        iso, shown = _month(month.get("month"))
        new, returning = (
            _float(month.get("new_revenue")) or 0.0,
            _float(month.get("returning_revenue")) or 0.0,
        )
        rows.append(
            {
                "month": iso,
                "month_text": shown,
                "new": new,
                "returning": returning,
                "new_text": money(new),
                "returning_text": money(returning),
                "share_text": percent(_float(month.get("returning_revenue_share")), lang),
                "new_customers_text": count(month.get("new_customers"), lang),
                "returning_customers_text": count(month.get("returning_customers"), lang),
            }
        )
    return rows


def _cohorts(run, lang: str) -> dict:
    cells: dict[str, dict[int, float]] = {}
    sizes: dict[str, int] = {}
    for cell in (run.cohorts if run else None) or []:
        month = str(cell.get("cohort_month") or "")[:10]
        since = int(cell.get("months_since") or 0)
        cells.setdefault(month, {})[since] = _float(cell.get("retention")) or 0.0
        size = cell.get("cohort_size") or (cell.get("customers") if since == 0 else None)
        if size is not None:
            sizes[month] = int(size)
    months = sorted(cells)
    width = max((max(c) for c in cells.values() if c), default=-1) + 1
    rows = []
    for month in months:
        iso, shown = _month(month)
        values = [cells[month].get(i) for i in range(width)]
        rows.append(
            {
                "month": iso,
                "month_text": shown,
                "size_text": count(sizes.get(month), lang),
                "values": values,
                "texts": ["" if v is None else percent(v, lang, 0) for v in values],
            }
        )
    return {"months_since": list(range(width)), "rows": rows}


def _histogram(merchant, rows: list[dict], kind: str, lang: str) -> list[dict]:
    shaped = []
    last = len(rows) - 1
    for i, row in enumerate(rows):
        low, high = _float(row.get("low")), _float(row.get("high"))
        customers = int(row.get("customers") or 0)
        if kind == "clv":
            text = f"{money(low)} – {money(high)}"
            params = {"clv_min": _plain(low), "clv_max": _plain(high)}
        else:
            text = f"{number((low or 0) * 100, lang)}–{percent(high, lang, 0)}"
            params = {"p_alive_min": _plain(low), "p_alive_max": _plain(high)}
        shaped.append(
            {
                "label": text,
                "customers": customers,
                "customers_text": count(customers, lang),
                "url": customer_list_url(merchant, params) if customers else "",
                "last": i == last,
            }
        )
    return shaped


def _plain(value: float | None) -> str:
    """A filter value without a trailing ``.0`` (``50000``, ``0.1``)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def weekday_names() -> list[str]:
    return [str(dates.WEEKDAYS[i]) for i in range(7)]


def hour_text(hour: int, lang: str) -> str:
    return f"{hour:02d}.00" if lang == "id" else f"{hour:02d}:00"


def _weekday_hour(data: dict, lang: str) -> dict:
    visits: dict[tuple[int, int], int] = {}
    for cell in data.get("weekday_hour") or []:
        key = (int(cell.get("weekday") or 0), int(cell.get("hour") or 0))
        visits[key] = visits.get(key, 0) + int(cell.get("visits") or 0)
    hours_seen = [h for (_w, h), v in visits.items() if v]
    if not hours_seen:
        return {"hours": [], "rows": [], "busiest": None}
    hours = list(range(min(hours_seen), max(hours_seen) + 1))
    names = weekday_names()
    rows = [
        {
            "weekday": names[w],
            "values": [visits.get((w, h), 0) for h in hours],
            "texts": [count(visits.get((w, h), 0), lang) for h in hours],
        }
        for w in range(7)
    ]
    (w, h), most = max(visits.items(), key=lambda item: (item[1], -item[0][0], -item[0][1]))
    return {
        "hours": hours,
        "hour_texts": [hour_text(h, lang) for h in hours],
        "rows": rows,
        "busiest": {
            "weekday": names[w],
            "hour": hour_text(h, lang),
            "until": hour_text((h + 1) % 24, lang),
            "visits": count(most, lang),
        },
    }


def _day_of_month(data: dict, lang: str) -> dict:
    by_day = {int(c.get("day") or 0): c for c in data.get("day_of_month") or []}
    rows = []
    for day in range(1, 32):
        cell = by_day.get(day) or {}
        rows.append(
            {
                "day": day,
                "visits": int(cell.get("visits") or 0),
                "visits_text": count(cell.get("visits") or 0, lang),
                "revenue": _float(cell.get("revenue")) or 0.0,
                "revenue_text": money(cell.get("revenue") or 0),
                "payday": day in PAYDAY_DAYS,
            }
        )
    payday = [r["visits"] for r in rows if r["payday"]]
    other = [r["visits"] for r in rows if not r["payday"]]
    total = sum(payday) + sum(other)
    summary = None
    if total:
        payday_mean, other_mean = sum(payday) / len(payday), sum(other) / len(other)
        summary = {
            "payday": number(payday_mean, lang, 1),
            "other": number(other_mean, lang, 1),
            "ratio": change(payday_mean, other_mean, "count", lang)["text"],
            "higher": payday_mean > other_mean,
        }
    return {"rows": rows, "summary": summary}


def method_label(code: str) -> str:
    try:
        return str(PaymentMethod(code).label)
    except ValueError:
        return code


def _payments(merchant, data: dict, lang: str) -> list[dict]:
    stored = data.get("payments") or []
    total = sum(_float(p.get("revenue")) or 0.0 for p in stored)
    rows = []
    for payment in sorted(stored, key=lambda p: -(_float(p.get("revenue")) or 0.0)):
        revenue = _float(payment.get("revenue")) or 0.0
        code = payment.get("method") or ""
        rows.append(
            {
                "code": code,
                "label": method_label(code),
                "sales": int(payment.get("sales") or 0),
                "sales_text": count(payment.get("sales"), lang),
                "revenue": revenue,
                "revenue_text": money(payment.get("revenue")),
                "share": revenue / total if total else None,
                "share_text": percent(revenue / total if total else None, lang),
                "url": customer_list_url(merchant, {"payment_methods": code}),
            }
        )
    return rows


def _payments_by_segment(merchant, data: dict, segments: list[dict], lang: str) -> dict:
    stored = data.get("payments_by_segment") or []
    sales: dict[str, dict[str, int]] = {}
    for row in stored:
        per = sales.setdefault(row.get("segment") or "", {})
        per[row.get("method") or ""] = per.get(row.get("method") or "", 0) + int(
            row.get("sales") or 0
        )
    methods = sorted(
        {m for per in sales.values() for m in per},
        key=lambda m: -sum(per.get(m, 0) for per in sales.values()),
    )
    order = [s["code"] for s in segments if s["code"] in sales] + sorted(
        s for s in sales if s not in {seg["code"] for seg in segments}
    )
    rows = []
    for code in order:
        per = sales[code]
        total = sum(per.values())
        try:
            name = engine_label(code, lang, kind="segment")
        except KeyError:
            name = code
        rows.append(
            {
                "code": code,
                "label": name,
                "cells": [
                    {
                        "method": m,
                        "sales": per.get(m, 0),
                        "share": per.get(m, 0) / total if total else 0.0,
                        "text": percent(per.get(m, 0) / total if total else None, lang, 0),
                        "url": customer_list_url(merchant, {"segments": code, "payment_methods": m})
                        if per.get(m)
                        else "",
                    }
                    for m in methods
                ],
            }
        )
    return {
        "methods": [{"code": m, "label": method_label(m)} for m in methods],
        "rows": rows,
    }


def _rules(run, lang: str) -> list[dict]:
    rules = sorted(
        (run.rules if run else None) or [],
        key=lambda r: (-(r.get("lift") or 0), -(r.get("confidence") or 0)),
    )
    return [
        {
            "antecedent": " + ".join(str(a) for a in rule.get("antecedent") or []),
            "consequent": rule.get("consequent"),
            "support_text": percent(rule.get("support"), lang),
            "confidence_text": percent(rule.get("confidence"), lang),
            "lift_text": number(float(rule.get("lift") or 0), lang, 1) + "×",
            "count_text": count(rule.get("count"), lang),
        }
        for rule in rules[:TOP_RULES]
    ]


def _first_products(data: dict, lang: str) -> list[dict]:
    return [
        {
            "product": row.get("product"),
            "customers_text": count(row.get("customers"), lang),
            "returned_text": count(row.get("returned"), lang),
            "repeat_rate_text": percent(row.get("repeat_rate"), lang),
        }
        for row in data.get("first_product_repeat") or []
    ]


def _split_moves(moves: list[dict]) -> tuple[list[dict], list[dict]]:
    top, more = list(moves[:TOP_MOVES]), list(moves[TOP_MOVES:])
    for move in more:
        if move["highlight"]:
            more.remove(move)
            top.append(move)
            break
    return top, more


def _last_whole_month(months: list[dict], run) -> dict | None:
    """The latest month that ended before the analysis (the current one has only begun)."""
    end = run.observation_end if run else None
    current = timezone.localtime(end).date().replace(day=1).isoformat() if end else None
    whole = [m for m in months if m["month"] != current]
    return (whole or months or [None])[-1]


def _headline(moves: list[dict]) -> dict | None:
    for move in moves:
        if move["highlight"]:
            return move
    return None


def build(*, merchant, run, data: dict, period: int, lang: str) -> dict:
    """Everything the overview shows, in the language ``lang`` (``"id"`` or ``"en"``)."""
    moves = _moves(merchant, data, period, lang)
    moves_top, moves_more = _split_moves(moves)
    segments = _segments(merchant, data, lang)
    revenue_mix = _revenue_mix(run, lang)
    return {
        "moves_top": moves_top,
        "moves_more": moves_more,
        "revenue_mix_last": _last_whole_month(revenue_mix, run),
        "figures": _figures(merchant, data, period, lang),
        "stages": _stages(merchant, data, lang),
        "moves": moves,
        "headline": _headline(moves),
        "rfm": _rfm(merchant, data, lang),
        "segments": segments,
        "revenue_mix": revenue_mix,
        "cohorts": _cohorts(run, lang),
        "clv_histogram": _histogram(merchant, data.get("clv_histogram") or [], "clv", lang),
        "p_alive_histogram": _histogram(
            merchant, data.get("p_alive_histogram") or [], "p_alive", lang
        ),
        "weekday_hour": _weekday_hour(data, lang),
        "day_of_month": _day_of_month(data, lang),
        "payments": _payments(merchant, data, lang),
        "payments_by_segment": _payments_by_segment(merchant, data, segments, lang),
        "rules": _rules(run, lang),
        "first_products": _first_products(data, lang),
        "computed_at": run.finished_at if run else None,
        "observation_end": run.observation_end if run else None,
    }


__all__ = ["build", "customer_list_url"]
