"""Phone numbers are stored in E.164 (``+6281234567890``); Indonesia is the default region."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "ID"
ERR_PHONE_INVALID = "not a valid phone number"


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """Return the E.164 form of ``raw``, ``None`` for an empty value.

    Accepts what cashiers and exports write: ``0812-3456-7890``, ``62812…``, ``+62 812…``,
    ``812…``. Raises ``ValueError`` with :data:`ERR_PHONE_INVALID` when it is not a valid number.
    """
    if raw is None:
        return None
    return _normalize(str(raw), region)


@lru_cache(maxsize=65536)  # imports see the same customer's number on many rows
def _normalize(raw: str, region: str) -> str | None:
    text = raw.strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number that went through a spreadsheet
        text = text[:-2]
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and region == "ID":
        if digits.startswith("62"):
            text = "+" + digits
        elif digits.startswith("8"):
            text = "0" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(ERR_PHONE_INVALID) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(ERR_PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """National format for display: ``0812-3456-7890``."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def whatsapp_number(e164: str) -> str:
    """Digits only, as wa.me links want them."""
    return e164.lstrip("+")
