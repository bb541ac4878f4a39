from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langganan.core.money import ERR_MONEY_INVALID, format_rupiah, parse_money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25000", "25000.00"),
        ("Rp 25.000", "25000.00"),
        ("Rp25.000,-", "25000.00"),
        ("IDR 1,250,000", "1250000.00"),
        ("1.250.000,50", "1250000.50"),
        ("1,250,000.50", "1250000.50"),
        ("11.77", "11.77"),
        ("12,5", "12.50"),
        ("-5.000", "-5000.00"),
        ("(1.000)", "-1000.00"),
        ("0", "0.00"),
    ],
)
def test_parse_money_reads_indonesian_and_english_amounts(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "1.2.3", "Rp", "12,34,5", "1..0"])
def test_parse_money_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError, match=ERR_MONEY_INVALID):
        parse_money(text)


def test_parse_money_never_goes_through_float():
    assert parse_money("0.10") + parse_money("0.20") == Decimal("0.30")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("25000"), "Rp 25.000"),
        (Decimal("1250000"), "Rp 1.250.000"),
        (Decimal("0"), "Rp 0"),
        (Decimal("-7500"), "-Rp 7.500"),
        (Decimal("999.50"), "Rp 1.000"),
    ],
)
def test_format_rupiah_uses_dots_for_thousands(amount, text):
    assert format_rupiah(amount) == text


def test_format_rupiah_with_cents_uses_a_decimal_comma():
    assert format_rupiah(Decimal("1250000.5"), cents=True) == "Rp 1.250.000,50"


@given(st.integers(min_value=0, max_value=10**12))
def test_formatted_rupiah_parses_back_to_the_same_amount(n):
    assert parse_money(format_rupiah(Decimal(n))) == Decimal(n)
