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
