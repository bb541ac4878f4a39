"""The customer list's filter form: the URL's query parsed into an audience filter.

Forms only parse input: the filter keys, their meaning and their validation are
:mod:`langganan.campaigns.audiences` (``filters_clean``), which this form's output passes
through before the list is read, exactly as a saved audience's filters do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from langganan.analytics.labels import SEGMENT_LABELS, STAGE_LABELS
from langganan.campaigns.audiences import (
    DEFAULT_MOVE_PERIOD,
    LIFECYCLE_STAGES,
    MAX_BIRTHDAY_WINDOW,
    MOVE_PERIODS,
    NOT_YET,
)
from langganan.core.models import Merchant
from langganan.customers.listing import AGE_BANDS, ALIASES, age_band, age_band_of
from langganan.customers.models import Channel, Gender
from langganan.insights.stages import DISPLAY_LABELS, DISPLAY_STAGES

SCORES = [(str(s), str(s)) for s in range(1, 6)]
#: the text fields that hold a comma-separated list (a URL may also repeat them)
TEXT_LISTS = ("cities", "tags")


def language() -> str:
    return "en" if (translation.get_language() or "id").startswith("en") else "id"


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def age_band_label(code: str) -> str:
    bounds = age_band(code)
    if bounds is None:
        return code
    low, high = bounds
    if low is None:
        return _("under %(age)s") % {"age": high + 1}
    if high is None:
        return _("%(age)s and older") % {"age": low}
    return f"{low}–{high}"


def period_label(days: int) -> str:
    return {
        7: _("the last 7 days"),
        30: _("the last 30 days"),
        90: _("the last 90 days"),
        365: _("the last 12 months"),
    }[days]


class CustomerFilterForm(forms.Form):
    """Every audience filter key, as the customer list's form (method GET)."""

    stage = forms.MultipleChoiceField(
        label=_("Stage"), required=False, widget=forms.CheckboxSelectMultiple
    )
    moved_from = forms.ChoiceField(label=_("Moved from the stage"), required=False)
    period = forms.TypedChoiceField(label=_("Since"), required=False, coerce=int, empty_value=None)
    segments = forms.MultipleChoiceField(
        label=_("RFM segments"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # the engine's own stages: kept when a link sets them, not offered (``stage`` is)
    lifecycle = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    r_scores = forms.MultipleChoiceField(
        label=_("Recency score"),
        choices=SCORES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    f_scores = forms.MultipleChoiceField(
        label=_("Frequency score"),
        choices=SCORES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    m_scores = forms.MultipleChoiceField(
        label=_("Monetary score"),
        choices=SCORES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    member = forms.ChoiceField(label=_("Membership"), required=False)
    tiers = forms.MultipleChoiceField(
        label=_("Tiers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age_band = forms.ChoiceField(label=_("Age"), required=False)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=150)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=150)
    cities = forms.CharField(label=_("Cities (comma-separated)"), required=False, max_length=500)
    tags = forms.CharField(label=_("Tags (comma-separated)"), required=False, max_length=500)
    birthday_within_days = forms.IntegerField(
        label=_("Birthday within the next (days)"),
        required=False,
        min_value=0,
        max_value=MAX_BIRTHDAY_WINDOW,
    )
    last_purchase_max_days = forms.IntegerField(
        label=_("Last purchase at most (days ago)"), required=False, min_value=0, max_value=36500
    )
    last_purchase_min_days = forms.IntegerField(
        label=_("Last purchase at least (days ago)"), required=False, min_value=0, max_value=36500
    )
    payment_methods = forms.MultipleChoiceField(
        label=_("Has paid with"), required=False, widget=forms.CheckboxSelectMultiple
    )
    products = forms.MultipleChoiceField(label=_("Bought a product"), required=False)
    categories = forms.MultipleChoiceField(label=_("Bought from a category"), required=False)
    clv_min = forms.DecimalField(label=_("Customer value from (Rp)"), required=False, min_value=0)
    clv_max = forms.DecimalField(label=_("Customer value to (Rp)"), required=False, min_value=0)
    p_alive_min = forms.DecimalField(
        label=_("Chance still a customer from (0–1)"), required=False, min_value=0, max_value=1
    )
    p_alive_max = forms.DecimalField(
        label=_("Chance still a customer to (0–1)"), required=False, min_value=0, max_value=1
    )
    points_min = forms.IntegerField(label=_("Points from"), required=False, min_value=0)
    points_max = forms.IntegerField(label=_("Points to"), required=False, min_value=0)
    consent = forms.ChoiceField(label=_("Has consented to"), required=False)

    #: the fields that are audience keys (``age_band`` becomes age_min / age_max)
    FILTER_FIELDS = (
        "stage",
        "moved_from",
        "period",
        "segments",
        "lifecycle",
        "r_scores",
        "f_scores",
        "m_scores",
        "member",
        "tiers",
        "gender",
        "age_min",
        "age_max",
        "cities",
        "tags",
        "birthday_within_days",
        "last_purchase_max_days",
        "last_purchase_min_days",
        "payment_methods",
        "products",
        "categories",
        "clv_min",
        "clv_max",
        "p_alive_min",
        "p_alive_max",
        "points_min",
        "points_max",
        "consent",
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from langganan.loyalty.models import Tier
        from langganan.sales.models import PaymentMethod, Product, ProductCategory

        lang = language()
        stages = [(code, DISPLAY_LABELS[code][lang]) for code in DISPLAY_STAGES]
        self.fields["stage"].choices = stages
        self.fields["moved_from"].choices = [
            ("", _("Any")),
            *stages,
            (NOT_YET, _("Not a customer yet")),
        ]
        self.fields["period"].choices = [(d, period_label(d)) for d in MOVE_PERIODS]
        self.fields["period"].initial = DEFAULT_MOVE_PERIOD
        self.fields["segments"].choices = [(c, t[lang]) for c, t in SEGMENT_LABELS.items()]
        self.fields["lifecycle"].choices = [(c, STAGE_LABELS[c][lang]) for c in LIFECYCLE_STAGES]
        self.fields["member"].choices = [
            ("", _("Members and others")),
            ("1", _("Members")),
            ("0", _("Not members")),
        ]
        self.fields["tiers"].choices = [
            (str(pk), name)
            for pk, name in Tier.objects.filter(program__merchant=merchant)
            .order_by("rank", "id")
            .values_list("id", "name")
        ]
        self.fields["gender"].choices = [
            ("", _("Any")),
            (Gender.FEMALE, Gender.FEMALE.label),
            (Gender.MALE, Gender.MALE.label),
        ]
        self.fields["age_band"].choices = [("", _("Any age"))] + [
            (code, age_band_label(code)) for code, _low, _high in AGE_BANDS
        ]
        self.fields["payment_methods"].choices = PaymentMethod.choices
        self.fields["products"].choices = [
            (str(pk), name)
            for pk, name in Product.objects.filter(merchant=merchant)
            .order_by("name", "id")
            .values_list("id", "name")
        ]
        self.fields["categories"].choices = [
            (str(pk), name)
            for pk, name in ProductCategory.objects.filter(merchant=merchant)
            .order_by("name", "id")
            .values_list("id", "name")
        ]
        self.fields["consent"].choices = [("", _("Any channel or none")), *Channel.choices]
        if not self.fields["tiers"].choices:
            del self.fields["tiers"]

    def clean(self):
        data = super().clean()
        band = data.get("age_band")
        if band:
            data["age_min"], data["age_max"] = age_band(band)
        return data

    def filters(self) -> dict[str, Any]:
        """The cleaned values as an audience filter (empty ones left out)."""
        out: dict[str, Any] = {}
        for key in self.FILTER_FIELDS:
            value = self.cleaned_data.get(key)
            if key in TEXT_LISTS:
                value = _split(value)
            if value is None or value == "" or value == []:
                continue
            if key == "member":
                value = value == "1"
            elif key in ("tiers", "products", "categories", "r_scores", "f_scores", "m_scores"):
                value = [int(v) for v in value]
            out[key] = str(value) if isinstance(value, Decimal) else value
        if "moved_from" not in out:
            out.pop("period", None)
        return out


def form_data(query: QueryDict) -> QueryDict:
    """The list's URL query as the form's data: lists of cities or tags joined, the other
    names of keys (``last_purchase_days``) read as the key, and an age range that is one of
    the bands shown as that band."""
    data = query.copy()
    if not data.get("period"):
        data["period"] = str(DEFAULT_MOVE_PERIOD)  # a move's period unless the URL says
    for alias, key in ALIASES.items():
        if alias in data:
            if key not in data:
                data.setlist(key, data.getlist(alias))
            del data[alias]
    for key in TEXT_LISTS:
        values = [v for v in data.getlist(key) if v.strip()]
        if len(values) > 1:
            data[key] = ", ".join(values)
    if not data.get("age_band") and (data.get("age_min") or data.get("age_max")):
        band = age_band_of(data.get("age_min"), data.get("age_max"))
        if band:
            data["age_band"] = band
            data.pop("age_min", None)
            data.pop("age_max", None)
    return data


def filter_chips(
    form: CustomerFilterForm, filters: dict[str, Any], *, query: str = "", sort: str = ""
) -> list:
    """One chip per active filter value, labelled as the form labels it, with the list's URL
    without that value (the customer list's chips; an audience's filters in words)."""
    from langganan.customers.listing import Chip, list_query, without
    from langganan.web.templatetags.web_format import rupiah

    chips = []
    for key, value in filters.items():
        if key == "period":
            continue  # shown with its move
        field = form.fields.get(key)
        label = str(field.label) if field is not None else key
        values = value if isinstance(value, list) else [value]
        for one in values:
            shown = ("1" if one else "0") if key == "member" else one
            choices = {str(k): v for k, v in getattr(field, "choices", []) or []}
            text = str(choices.get(str(shown), one))
            if key == "moved_from":
                period = form.fields["period"]
                text = f"{text} · {dict(period.choices).get(filters.get('period'), '')}"
            if key in ("clv_min", "clv_max"):
                text = rupiah(one)
            remove = without(filters, key, one if isinstance(value, list) else None)
            chips.append(
                Chip(
                    key=key,
                    label=label,
                    value=text,
                    remove_url="?" + list_query(remove, query=query, sort=sort),
                )
            )
    return chips
