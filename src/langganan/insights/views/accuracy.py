"""How accurate the predictions are (owners and managers).

Views parse input, call one selector and render. A cashier gets 403 (langganan.web.permissions);
another merchant is a 404.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from langganan.core.selectors import merchants_for_user
from langganan.insights.selectors import insight_run_latest
from langganan.insights.summary import MODEL_NAMES, accuracy_lines, number, warning_lines
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

#: models in the order they are compared on the page
MODEL_ORDER = ("mbg_cnbd", "pareto_nbd", "bg_nbd")


def _language() -> str:
    return "en" if (translation.get_language() or "id").startswith("en") else "id"


def _signed_percent(value: float | None, lang: str) -> str:
    if value is None:
        return "–"
    shown = number(abs(value) * 100, lang, 1)
    sign = "" if shown.strip("0,.") == "" else "+" if value > 0 else "−"
    return f"{sign}{shown}%"


def _models(run, lang: str) -> list[dict]:
    """One row per tested model: its holdout numbers (formatted) and whether it is in use."""
    choice = (run.models_fitted or {}).get("choice", {})
    rows = []
    for code in MODEL_ORDER:
        test = choice.get("holdout", {}).get(code)
        if not test or "mae" not in test:
            continue
        actual = test["total_actual"]
        share = test.get("came_back_share")
        rows.append(
            {
                "name": MODEL_NAMES[code][lang],
                "chosen": code == choice.get("model"),
                "mae": number(test["mae"], lang, 2),
                "predicted": number(test["total_predicted"], lang),
                "actual": number(actual, lang),
                "error": _signed_percent(
                    (test["total_predicted"] - actual) / actual if actual else None, lang
                ),
                "expected_back": number(test["expected_back"], lang),
                "came_back": number(test["came_back"], lang),
                "came_back_share": "–" if share is None else f"{round(share * 100)}%",
            }
        )
    return rows


def _chart(test: dict, lang: str) -> list[dict]:
    """The calibration-vs-holdout table: per number of repeat visits before the test."""
    return [
        {
            "frequency": str(row["frequency"]),
            "customers": number(row["customers"], lang),
            "predicted": number(row["predicted"], lang, 2),
            "actual": number(row["actual"], lang, 2),
        }
        for row in test.get("chart", [])
    ]


@merchant_view
@require_safe
def accuracy(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    lang = _language()
    run = insight_run_latest(merchant=merchant)
    choice = (run.models_fitted or {}).get("choice", {}) if run else {}
    chosen = choice.get("holdout", {}).get(choice.get("model"), {})
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "run": run,
        "sentences": accuracy_lines(run, lang) if run else [],
        "warnings": warning_lines(run, lang) if run else [],
        "models": _models(run, lang) if run else [],
        "chart": _chart(chosen, lang),
        "holdout_days": chosen.get("days"),
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "insights/accuracy.html", context)
