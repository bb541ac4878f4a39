"""Template filters for money, phone numbers and quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation


def render(text: str, **context) -> str:
    return Template("{% load web_format %}" + text).render(Context(context))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("25000"), "Rp 25.000"),
        (Decimal("1250000.00"), "Rp 1.250.000"),
        (Decimal("-25000"), "-Rp 25.000"),
        (0, "Rp 0"),
        (None, "–"),
    ],
)
def test_rupiah_filter(value, expected):
    assert render("{{ value|rupiah }}", value=value) == expected


def test_phone_filter_shows_the_national_format():
    assert render("{{ value|phone }}", value="+6281234567890") == "0812-3456-7890"
    assert render("{{ value|phone }}", value=None) == ""


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [(Decimal("2.000"), "2", "2"), (Decimal("1.500"), "1,5", "1.5"), (Decimal("10"), "10", "10")],
)
def test_quantity_filter_drops_trailing_zeros(value, indonesian, english):
    with translation.override("id"):
        assert render("{{ value|quantity }}", value=value) == indonesian
    with translation.override("en"):
        assert render("{{ value|quantity }}", value=value) == english


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.724, "72%"),
        (0.725, "72%"),  # whole percentages only, never a decimal
        (0.998, "99%"),  # not certain: never shown as 100 %
        (0.001, "1%"),  # not impossible: never shown as 0 %
        (1.0, "100%"),
        (0.0, "0%"),
        (None, "–"),
    ],
)
def test_chance_filter_shows_whole_percentages_short_of_certainty(value, expected):
    assert render("{{ value|chance }}", value=value) == expected


def test_usual_groups_put_items_bought_equally_often_together():
    usual = [
        {"item": "Kopi Susu", "times": 6, "rank": 1},
        {"item": "Teh Manis", "times": 6, "rank": 1},
        {"item": "Roti Bakar", "times": 3, "rank": 2},
    ]
    unranked = [{k: v for k, v in row.items() if k != "rank"} for row in usual]

    for rows in (usual, unranked):  # an older run stored no rank: equal counts tie
        template = (
            "{% for g in usual|usual_groups %}{{ g.items|join:'+' }}={{ g.times }};{% endfor %}"
        )
        assert render(template, usual=rows) == "Kopi Susu+Teh Manis=6;Roti Bakar=3;"
