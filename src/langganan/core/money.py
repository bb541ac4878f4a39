"""Rupiah amounts: parsing what merchants type or export, and formatting for the UI.

Money is always :class:`decimal.Decimal` with two decimal places; floats never touch it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

ERR_MONEY_EMPTY = "amount is empty"
ERR_MONEY_INVALID = "not a valid amount"

_CURRENCY = re.compile(r"^\s*(?:rp\.?|idr)\s*", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantise an amount to whole cents, rounding half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(text: str | int | float | Decimal) -> Decimal:
    """Parse an amount as written in Indonesian or English exports.

    Rules, in order:

    * a currency prefix ``Rp``/``IDR`` and spaces are ignored; a leading ``-`` or
      surrounding parentheses make it negative;
    * with both ``.`` and ``,`` present, the one that comes last is the decimal separator
      (``1.250.000,50`` and ``1,250,000.50`` are both 1250000.50);
    * with only one kind of separator, groups of exactly three digits after every separator
      mean thousands (``25.000`` and ``25,000`` are 25000, ``1.250.000`` is 1250000);
      anything else is a decimal separator (``11.77``, ``12,5``);
    * a trailing ``,-`` (``Rp 25.000,-``) is ignored.

    Raises ``ValueError`` with :data:`ERR_MONEY_INVALID` when the text is not an amount.
    """
    if isinstance(text, Decimal):
        return to_money(text)
    if isinstance(text, int):
        return to_money(text)
    if isinstance(text, float):
        return to_money(repr(text))
    raw = str(text).strip()
    if not raw:
        raise ValueError(ERR_MONEY_EMPTY)
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:].strip()
    raw = _CURRENCY.sub("", raw).replace(" ", "").replace("\u00a0", "")
    if raw.endswith((",-", ".-")):  # "Rp 25.000,-"
        raw = raw[:-2]
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:]
    if not raw or not re.fullmatch(r"[\d.,]+", raw):
        raise ValueError(ERR_MONEY_INVALID)
    if "." in raw and "," in raw:
        decimal_sep = "." if raw.rfind(".") > raw.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        if raw.count(decimal_sep) != 1:
            raise ValueError(ERR_MONEY_INVALID)
        raw = raw.replace(thousands, "").replace(decimal_sep, ".")
    elif "." in raw or "," in raw:
        if _GROUPED.match(raw):
            raw = raw.replace(".", "").replace(",", "")
        else:
            sep = "." if "." in raw else ","
            if raw.count(sep) != 1:
                raise ValueError(ERR_MONEY_INVALID)
            raw = raw.replace(sep, ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex above guards this
        raise ValueError(ERR_MONEY_INVALID) from exc
    return to_money(-value if negative else value)


def format_rupiah(amount: Decimal | int | None, *, cents: bool = False) -> str:
    """``Rp 25.000`` — dots for thousands, comma for decimals, as Indonesians write it."""
    if amount is None:
        return "–"
    value = Decimal(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if cents and value != value.to_integral_value():
        whole, frac = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}".split(".")
        text = f"{int(whole):,}".replace(",", ".") + "," + frac
    else:
        text = f"{int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}".replace(",", ".")
    return f"{sign}Rp {text}"
