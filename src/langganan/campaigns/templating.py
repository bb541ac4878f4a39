"""Message templates: ``{placeholders}``, optional ``[[…]]`` parts, and no blanks, ever.

A template is plain text with fields in braces::

    Halo {salutation}! Sudah waktunya {usual_order} lagi? [[Pakai kode {voucher_code} ya.]]

Rules, in the order they apply:

1. A field name must be one of :data:`FIELDS`; anything else is refused when the template is
   saved (:func:`template_check`), so a typo never reaches a customer as ``{nmae}``.
2. Every field has a fallback in each language (``usual_order`` → "menu favoritmu"), so a missing
   value never renders as a blank or as the tag itself.
3. A part in double brackets ``[[…]]`` is left out whole when a field inside it has no value of its
   own (use it for sentences that only make sense with a voucher, points or a name).
4. Spaces left by an empty name are tidied ("Halo Kak !" → "Halo Kak!").
5. The opt-out line is added at the end when the template does not place ``{opt_out}`` itself.

``{{`` and ``}}`` write literal braces.

What the fields say is listed in :data:`FIELD_HELP` (shown on the template form). Two of them
use what we know of the customer, read from her own sales when the message is rendered (so a
message queued before the nightly analysis still knows her latest visits):

- ``{usual_order}`` — her usual order: the item she buys most often ("Es Kopi Susu"), or the
  items she buys equally often ("Es Kopi Susu atau Teh Manis"); "menu favoritmu" only when the
  evidence is lacking (fewer than three orders, or no item in most of them: see
  ``analytics.evidence``).
- ``{usual_outlet}`` — her own outlet: where most of her visits were, on a tie the one she
  visited last; the merchant's first outlet when she has no visit. ``{outlet}`` is the
  campaign's outlet when the campaign has one, otherwise the same as ``{usual_outlet}``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langganan.core.errors import InvalidInput

#: field → (Indonesian fallback, English fallback)
FIELDS: dict[str, tuple[str, str]] = {
    "salutation": ("Kak", "there"),  # "Kak Rina": greeting and first name
    "greeting": ("Kak", ""),
    "name": ("", ""),  # first name
    "full_name": ("Pelanggan", "Customer"),
    "usual_order": ("menu favoritmu", "your favourite"),
    "points": ("0", "0"),
    "tier": ("Member", "Member"),
    "voucher_code": ("", ""),
    "voucher_value": ("", ""),
    "voucher_until": ("", ""),
    "expiring_points": ("", ""),
    "expiry_date": ("", ""),
    "holiday": ("hari raya", "the holiday"),
    "outlet": ("", ""),  # the campaign's outlet, else the customer's usual outlet
    "usual_outlet": ("", ""),  # the customer's usual outlet (always filled)
    "merchant": ("", ""),
    "opt_out": ("", ""),
}

#: field → (Indonesian, English) description, for the template form
FIELD_HELP: dict[str, tuple[str, str]] = {
    "salutation": ("sapaan dan nama depan: “Mbak Rina”", "greeting and first name: “Mbak Rina”"),
    "greeting": ("sapaan saja: Kak, Mas, Mbak, Pak, Bu", "the greeting alone: Kak, Mas, Mbak…"),
    "name": ("nama depan", "first name"),
    "full_name": ("nama lengkap", "full name"),
    "usual_order": (
        "pesanan yang biasa: “Es Kopi Susu” atau “Es Kopi Susu atau Teh Manis”; "
        "“menu favoritmu” bila belum diketahui",
        "the usual order: “Es Kopi Susu” or “Es Kopi Susu or Teh Manis”; "
        "“your favourite” when not known yet",
    ),
    "points": ("saldo poin", "points balance"),
    "tier": ("tingkat member", "member tier"),
    "voucher_code": ("kode voucher dari kampanye", "the campaign's voucher code"),
    "voucher_value": ("nilai voucher: 20% atau Rp 15.000", "voucher value: 20% or Rp 15.000"),
    "voucher_until": ("voucher berlaku sampai", "voucher valid until"),
    "expiring_points": ("poin yang akan hangus", "points about to expire"),
    "expiry_date": ("tanggal poin hangus", "the date they expire"),
    "holiday": ("nama hari raya", "the holiday's name"),
    "outlet": (
        "outlet kampanye; bila tidak ada, outlet yang paling sering ia kunjungi",
        "the campaign's outlet; without one, the outlet the customer visits most",
    ),
    "usual_outlet": (
        "outlet yang paling sering ia kunjungi (bila sama, yang terakhir)",
        "the outlet the customer visits most (on a tie, the latest)",
    ),
    "merchant": ("nama usaha", "business name"),
    "opt_out": ("baris berhenti berlangganan", "the opt-out line"),
}

ERR_UNKNOWN_FIELD = "Unknown field(s) in the template: {fields}. Available: {available}."
ERR_UNBALANCED = "The template has an unclosed {{ … }} or [[ … ]]."
ERR_EMPTY = "The message is empty."
ERR_VOUCHER_WITHOUT_OFFER = (
    "The template mentions {{voucher_code}} outside an optional [[…]] part, but the campaign "
    "gives no voucher."
)

OPT_OUT_LINE = {
    "id": "Balas BERHENTI untuk berhenti menerima pesan dari {merchant}.",
    "en": "Reply STOP to stop receiving messages from {merchant}.",
}
OPT_OUT_LINK_LINE = {
    "id": "Berhenti berlangganan: {url}",
    "en": "Unsubscribe: {url}",
}

_FIELD = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
_ANY_BRACE_FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)


def field_help(language: str = "id") -> list[tuple[str, str]]:
    """(field, what it says) for every field, in the order of :data:`FIELDS`."""
    return [(name, FIELD_HELP[name][language == "en"]) for name in FIELDS]


def fields_used(text: str) -> list[str]:
    """The field names in ``text``, in order of first appearance."""
    seen: list[str] = []
    for name in _ANY_BRACE_FIELD.findall(text.replace("{{", "").replace("}}", "")):
        if name not in seen:
            seen.append(name)
    return seen


def template_check(*texts: str, has_voucher: bool | None = None) -> None:
    """Refuse unknown fields and unbalanced brackets (and, when ``has_voucher`` is False, a
    voucher code that is not inside an optional part)."""
    if not any((t or "").strip() for t in texts):
        raise InvalidInput(ERR_EMPTY, field="body_id")
    unknown: list[str] = []
    for text in texts:
        text = text or ""
        stripped = text.replace("{{", "").replace("}}", "")
        if stripped.count("[[") != stripped.count("]]") or re.search(r"\{[^{}]*$", stripped):
            raise InvalidInput(ERR_UNBALANCED, field="body_id")
        unknown += [n for n in fields_used(text) if n not in FIELDS and n not in unknown]
        if has_voucher is False and "voucher_code" in fields_used(_OPTIONAL.sub("", text)):
            raise InvalidInput(ERR_VOUCHER_WITHOUT_OFFER, field="body_id")
    if unknown:
        raise InvalidInput(
            ERR_UNKNOWN_FIELD.format(
                fields=", ".join("{" + n + "}" for n in unknown),
                available=", ".join("{" + n + "}" for n in FIELDS),
            ),
            field="body_id",
        )


def _value(values: Mapping[str, str], name: str, language: str) -> str:
    given = str(values.get(name) or "").strip()
    if given:
        return given
    fallback_id, fallback_en = FIELDS[name]
    return fallback_en if language == "en" else fallback_id


def _has_own(values: Mapping[str, str], name: str) -> bool:
    return bool(str(values.get(name) or "").strip())


def _tidy(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r" +([,.!?;:])", r"\1", line)
        lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


Segment = tuple[str, Any]  # ("text", str) | ("field", name) | ("optional", [segments])


def _segments(text: str) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for match in _FIELD.finditer(text):
        if match.start() > pos:
            out.append(("text", text[pos : match.start()]))
        out.append(("field", match.group(1)))
        pos = match.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return [(k, v.replace("{{", "{").replace("}}", "}") if k == "text" else v) for k, v in out]


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> tuple[Segment, ...]:
    """The checked template as segments, parsed once per distinct text."""
    template_check(text)
    compiled: list[Segment] = []
    pos = 0
    for match in _OPTIONAL.finditer(text):
        compiled += _segments(text[pos : match.start()])
        inner = _segments(match.group(1))
        compiled.append(("optional", (tuple(inner), tuple(v for k, v in inner if k == "field"))))
        pos = match.end()
    compiled += _segments(text[pos:])
    return tuple(compiled)


def _fill(segments: tuple[Segment, ...], values: Mapping[str, str], language: str) -> str:
    parts: list[str] = []
    for kind, value in segments:
        if kind == "text":
            parts.append(value)
        elif kind == "field":
            parts.append(_value(values, value, language))
        else:
            inner, names = value
            if all(_has_own(values, n) for n in names):
                parts.append(_fill(inner, values, language))
    return "".join(parts)


def render_text(text: str, values: Mapping[str, str], language: str = "id") -> str:
    """Fill ``text`` (see the module docstring); every field renders as a value or fallback."""
    return _tidy(_fill(_compiled(text), values, language))


@functools.lru_cache(maxsize=256)
def _parameter_fields(body: str) -> tuple[str, ...]:
    return tuple(n for n in fields_used(_OPTIONAL.sub("", body)) if n != "opt_out")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    #: the values of the body's fields outside optional parts, in order (WhatsApp parameters)
    params: list[str]


def render(
    *,
    subject: str,
    body: str,
    values: Mapping[str, str],
    language: str = "id",
    opt_out_url: str = "",
) -> Rendered:
    """Subject and body with the opt-out line guaranteed (a link when ``opt_out_url``)."""
    values = dict(values)
    line = OPT_OUT_LINE["en" if language == "en" else "id"].format(
        merchant=values.get("merchant") or ""
    )
    if opt_out_url:
        line += "\n" + OPT_OUT_LINK_LINE["en" if language == "en" else "id"].format(url=opt_out_url)
    values["opt_out"] = line
    text = body if "{opt_out}" in body else body.rstrip() + "\n\n{opt_out}"
    rendered = render_text(text, values, language)
    # An approved WhatsApp template has no optional parts: its parameters are the fields
    # outside them, each with a value or its fallback.
    params = [_value(values, name, language) for name in _parameter_fields(body)]
    return Rendered(
        subject=render_text(subject, values, language) if subject else "",
        body=rendered,
        params=params,
    )
