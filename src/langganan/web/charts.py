"""Charts on the dashboard: Plotly figures built on the server, drawn by plotly.js in the browser.

plotly.js is the file the ``plotly`` Python package ships (``plotly/package_data/plotly.min.js``),
served as a static file by :class:`PlotlyFinder` (no CDN: merchants' networks are flaky and the
tests run offline). A page builds its figures with ``plotly.graph_objects``, passes each through
:func:`chart`, and renders it with ``{% include "web/includes/chart.html" %}``; the page includes
``web/includes/chart_scripts.html`` once, which loads plotly.js, the language's number and date
formats and ``web/charts.js`` (a few lines: ``Plotly.newPlot`` and, for a point or cell that
carries a URL in its ``customdata``, a click that opens it).

Numbers and dates follow the active language: Indonesian writes ``12.345,6`` and ``5 Des 2026``
(Plotly's ``separators`` and a locale registered from Django's own month and day names).
"""

from __future__ import annotations

import os
from functools import cache
from itertools import count
from typing import Any

from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage
from django.utils import dates, translation

#: where plotly.js is served under STATIC_URL; the version in the path makes it cacheable forever
PLOTLY_PREFIX = "web/vendor/plotly-{version}"
PLOTLY_FILE = "plotly.min.js"

#: the dashboard's colours (app.css): brand teal first, then a calm qualitative set
COLORS = ("#0f766e", "#d97706", "#2563eb", "#b42318", "#7c3aed", "#5f6670", "#0891b2", "#65a30d")
#: sequential scale of heat maps: light (few) to brand teal (many)
HEAT_SCALE = [[0.0, "#f6f5f2"], [0.15, "#d5ecea"], [0.5, "#5fb3aa"], [1.0, "#0f5f59"]]

_ids = count(1)


def _plotly_dir() -> tuple[str, str]:
    import plotly

    return os.path.join(os.path.dirname(plotly.__file__), "package_data"), plotly.__version__


@cache
def plotly_static_path() -> str:
    """``web/vendor/plotly-7.1.0/plotly.min.js``: plotly.js's path for ``{% static %}``."""
    _directory, version = _plotly_dir()
    return f"{PLOTLY_PREFIX.format(version=version)}/{PLOTLY_FILE}"


class PlotlyFinder(BaseFinder):
    """Finds plotly.js inside the installed ``plotly`` package, for ``runserver``, whitenoise
    (``WHITENOISE_USE_FINDERS``) and ``collectstatic`` alike."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        directory, version = _plotly_dir()
        self.storage = FileSystemStorage(location=directory)
        self.storage.prefix = PLOTLY_PREFIX.format(version=version)
        self.path = plotly_static_path()
        self.file = os.path.join(directory, PLOTLY_FILE)

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path == self.path and os.path.exists(self.file):
            return [self.file] if find_all or kwargs.get("all") else self.file
        return [] if find_all or kwargs.get("all") else None

    def list(self, ignore_patterns):
        if os.path.exists(self.file) and not utils.matches_patterns(
            PLOTLY_FILE, ignore_patterns or []
        ):
            yield PLOTLY_FILE, self.storage


def language() -> str:
    """``"id"`` or ``"en"``: the active language, as the engine's labels name it."""
    return "en" if (translation.get_language() or "id").startswith("en") else "id"


def separators(lang: str | None = None) -> str:
    """Plotly's ``separators``: decimal mark, then thousands mark (``",."`` in Indonesian)."""
    return ".," if (lang or language()) == "en" else ",."


def locale_format() -> dict[str, Any]:
    """The active language's plotly.js locale (``Plotly.register``): Django's own month and day
    names, so Indonesian axes read ``Des 2026`` and hovers ``5 Des 2026``."""
    lang = language()
    # Plotly counts weekdays from Sunday, Django from Monday
    days = [str(dates.WEEKDAYS[(i + 6) % 7]) for i in range(7)]
    return {
        "name": lang,
        "format": {
            "days": days,
            "shortDays": [day[:3] for day in days],
            "months": [str(dates.MONTHS[i]) for i in range(1, 13)],
            "shortMonths": [str(dates.MONTHS_3[i]).title() for i in range(1, 13)],
            "decimal": separators(lang)[0],
            "thousands": separators(lang)[1],
            "date": "%d/%m/%Y" if lang == "id" else "%m/%d/%Y",
            "year": "%Y",
            "month": "%b %Y",
            "dayMonth": "%-d %b",
            "dayMonthYear": "%-d %b %Y",
        },
    }


def layout(**overrides: Any) -> dict[str, Any]:
    """The dashboard's base layout: no Plotly template (small JSON), the language's separators,
    small margins that leave the plot its width on a phone."""
    base: dict[str, Any] = {
        "template": "none",
        "separators": separators(),
        "autosize": True,
        "height": 300,
        "margin": {"l": 48, "r": 12, "t": 12, "b": 40},
        "font": {
            "family": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif',
            "size": 12,
            "color": "#1f2328",
        },
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "colorway": list(COLORS),
        "hoverlabel": {"font": {"size": 13}},
        "legend": {"orientation": "h", "y": -0.2, "x": 0},
        "xaxis": {"gridcolor": "#e3e1db", "zeroline": False, "automargin": True},
        "yaxis": {"gridcolor": "#e3e1db", "zeroline": False, "automargin": True},
        "dragmode": False,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def config() -> dict[str, Any]:
    """Plotly's config: responsive, no toolbar, no zooming by scroll on a phone."""
    return {
        "responsive": True,
        "displayModeBar": False,
        "displaylogo": False,
        "scrollZoom": False,
        "locale": language(),
    }


def chart(figure, *, label: str, name: str = "chart", clickable: bool = False) -> dict:
    """A figure ready for ``web/includes/chart.html``.

    ``figure``: a ``plotly.graph_objects.Figure`` (or its dict); ``label``: what the chart shows,
    read out by screen readers; ``clickable``: its points carry a URL in ``customdata`` that a
    click opens (the table beside the chart has the same links).
    """
    spec = figure if isinstance(figure, dict) else figure.to_plotly_json()
    chart_id = f"{name}-{next(_ids)}"
    return {
        "id": chart_id,
        "spec_id": f"{chart_id}-spec",
        "label": label,
        "clickable": clickable,
        "spec": {
            "data": spec.get("data", []),
            "layout": spec.get("layout", {}),
            "config": config(),
        },
    }
