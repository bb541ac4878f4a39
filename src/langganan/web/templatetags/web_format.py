"""Display filters for the dashboard: ``{% load web_format %}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _lazy

from langganan.core.money import format_rupiah
from langganan.core.phones import format_phone

register = template.Library()


@register.filter
def rupiah(value) -> str:
    """``{{ 25000|rupiah }}`` → ``Rp 25.000``; empty values show a dash."""
    if value is None or value == "":
        return format_rupiah(None)
    try:
        return format_rupiah(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def phone(value) -> str:
    """``{{ "+6281234567890"|phone }}`` → ``0812-3456-7890``."""
    return format_phone(value)


@register.filter
def quantity(value) -> str:
    """``1.000`` → ``1``, ``1.500`` → ``1,5`` (in the active language's number format)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if number == number.to_integral_value():
        return number_format(int(number))
    return number_format(number.normalize())


def _language() -> str:
    from django.utils import translation

    return "en" if (translation.get_language() or "id").startswith("en") else "id"


@register.filter
def segment_label(code) -> str:
    """An RFM segment code in the active language: ``champions`` → ``Juara``."""
    from langganan.analytics.labels import label

    return label(str(code), _language(), kind="segment") if code else "–"


@register.filter
def segment_action(code) -> str:
    from langganan.analytics.labels import suggest_action

    return suggest_action(str(code), _language(), kind="segment") if code else ""


@register.filter
def stage_label(code) -> str:
    """A lifecycle stage code in the active language: ``lapsed`` → ``Tidur``."""
    from langganan.analytics.labels import label

    return label(str(code), _language(), kind="stage") if code else "–"


#: how customers and consents arrive, as the dashboard names them (a source is free text: an
#: unknown one is shown as it was recorded)
SOURCE_LABELS = {
    "counter": _lazy("at the counter"),
    "pos": _lazy("through the POS"),
    "signup": _lazy("self sign-up by QR"),
    "import": _lazy("imported"),
    "instagram": "Instagram",
    "referral": _lazy("referred by a member"),
    "gofood": "GoFood",
    "grabfood": "GrabFood",
    "shopeefood": "ShopeeFood",
    "event": _lazy("at an event"),
    "reply STOP": _lazy("replied STOP"),
    "opt-out link": _lazy("opt-out link"),
}


@register.filter
def source_label(code) -> str:
    """``counter`` → ``di kasir``; an unknown source as recorded; empty as a dash."""
    if not code:
        return "–"
    return str(SOURCE_LABELS.get(str(code), code))


@register.filter
def stage_of(row) -> str:
    """The dashboard's stage of anything with ``lifecycle`` and ``p_alive`` (a stored insight,
    a customer card), in the active language: the overview, the list and the customer's page
    name a customer's stage alike (a lapsed customer the model gives up on is "Hilang")."""
    from langganan.insights.stages import DISPLAY_LABELS, display_stage

    code = display_stage(getattr(row, "lifecycle", None), getattr(row, "p_alive", None))
    return DISPLAY_LABELS[code][_language()] if code else "–"


@register.filter
def stage_action(code) -> str:
    from langganan.analytics.labels import suggest_action

    return suggest_action(str(code), _language(), kind="stage") if code else ""


@register.filter
def rhythm(insight) -> str:
    """``Biasanya datang tiap 7 hari, sudah 30 hari tidak datang.``"""
    from langganan.analytics.labels import rhythm_sentence

    if insight is None or insight.median_gap_days is None:
        return ""
    return rhythm_sentence(insight.median_gap_days, insight.days_since_last, _language())


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.0f}%"


@register.filter
def chance(value) -> str:
    """A probability as a whole percentage, ``0.724`` → ``72%``; never ``0%`` or ``100%`` for
    a value strictly between 0 and 1 (``0.998`` → ``99%``), never a decimal."""
    number = chance_number(value)
    return "–" if number == "" else f"{number}%"


@register.filter
def chance_number(value) -> str:
    """The whole percentage of a probability without the sign: ``0.65`` → ``65``."""
    if value is None or value == "":
        return ""
    p = float(value)
    whole = round(p * 100)
    if 0 < p < 1:
        whole = min(max(whole, 1), 99)
    return str(whole)


@register.filter
def usual_groups(usual_order) -> list[dict]:
    """The usual order as groups of items bought equally often, most often first:
    ``[{"items": ["Kopi Susu", "Teh Manis"], "times": 6}, {"items": ["Roti"], "times": 3}]``."""
    from langganan.loyalty.cashier import usual_ranked

    groups: list[dict] = []
    for row in usual_ranked(usual_order or []):
        if groups and groups[-1]["rank"] == row["rank"]:
            groups[-1]["items"].append(row["item"])
        else:
            groups.append({"rank": row["rank"], "items": [row["item"]], "times": row["times"]})
    return groups


@register.filter
def decimal1(value) -> str:
    if value is None or value == "":
        return "–"
    return number_format(round(float(value), 1), 1)


@register.filter
def points(value) -> str:
    """A whole number of points with the language's thousands separator: ``1.234`` (id)."""
    if value is None or value == "":
        return "–"
    return number_format(int(value), force_grouping=True)


@register.filter
def signed_amount(movement) -> str:
    """A ledger movement's amount with its sign: ``+12 poin``, ``−Rp 5.000``."""
    from django.utils.translation import gettext

    amount = Decimal(movement.amount)
    sign = "+" if amount > 0 else "−"
    if movement.is_points:
        number = number_format(int(abs(amount)), force_grouping=True)
        return f"{sign}{gettext('%(points)s points') % {'points': number}}"
    return f"{sign}{format_rupiah(abs(amount))}"


@register.filter
def voucher_benefit(voucher) -> str:
    """What a voucher gives: ``Potongan Rp 10.000 · min. belanja Rp 30.000``."""
    from django.utils.translation import gettext

    if voucher.discount_type == "percent":
        text = gettext("%(percent)s %% off") % {"percent": quantity(voucher.value)}
        if voucher.max_discount is not None:
            text += " " + gettext("(at most %(amount)s)") % {
                "amount": format_rupiah(voucher.max_discount)
            }
    elif voucher.discount_type == "free_item":
        name = voucher.free_product.name if voucher.free_product_id else "–"
        text = gettext("Free %(product)s") % {"product": name}
    else:
        text = gettext("%(amount)s off") % {"amount": format_rupiah(voucher.value)}
    if voucher.min_spend:
        text += " · " + gettext("min. spend %(amount)s") % {
            "amount": format_rupiah(voucher.min_spend)
        }
    return text
