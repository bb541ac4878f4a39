"""Dashboard forms for campaigns, audiences and message templates.

Forms only parse input: the services decide (and refuse with :class:`InvalidInput`, which the
views show on the form).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from langganan.analytics.labels import SEGMENT_LABELS, STAGE_LABELS
from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import Channel, Gender

from .audiences import LIFECYCLE_STAGES, MAX_BIRTHDAY_WINDOW
from .holidays_calendar import HOLIDAYS, holiday_name
from .models import Audience, CampaignKind, MessageTemplate

SCORES = [(str(s), str(s)) for s in range(1, 6)]


def _language() -> str:
    return "en" if (translation.get_language() or "id").startswith("en") else "id"


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def show_error(form: forms.Form, error: InvalidInput) -> None:
    """Put a domain error on the form: on its field when the form has one, else on top."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=CampaignKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    language = forms.ChoiceField(
        label=_("Language of the message"),
        choices=[("id", "Bahasa Indonesia"), ("en", "English")],
        initial="id",
    )
    manual_whatsapp = forms.BooleanField(
        label=_("Manual WhatsApp (staff send each message from a wa.me link)"), required=False
    )
    template = forms.ModelChoiceField(label=_("Message template"), queryset=None)
    audience = forms.ModelChoiceField(
        label=_("Audience"),
        queryset=None,
        required=False,
        empty_label=_("Every customer"),
    )
    voucher_template = forms.ModelChoiceField(
        label=_("Voucher"), queryset=None, required=False, empty_label=_("No voucher")
    )
    voucher_valid_days = forms.IntegerField(
        label=_("Voucher valid for (days)"), min_value=1, max_value=3650, initial=14
    )
    bonus_points = forms.IntegerField(label=_("Bonus points"), min_value=0, initial=0)
    days_before = forms.IntegerField(
        label=_("Days before (birthday, holiday, points expiry)"),
        min_value=0,
        max_value=365,
        initial=0,
    )
    holiday = forms.ChoiceField(label=_("Holiday (holiday greetings)"), required=False)
    send_at = forms.DateTimeField(
        label=_("Send at (broadcasts)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    holdout_percent = forms.DecimalField(
        label=_("Holdout group (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        initial=Decimal("10"),
    )
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"), min_value=1, max_value=365, initial=14
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from langganan.loyalty.models import Voucher

        lang = _language()
        self.fields["holiday"].choices = [("", "–")] + [
            (key, holiday_name(key, lang)) for key in HOLIDAYS
        ]
        self.fields["template"].queryset = MessageTemplate.objects.filter(merchant=merchant)
        self.fields["audience"].queryset = Audience.objects.filter(merchant=merchant)
        self.fields["voucher_template"].queryset = Voucher.objects.filter(
            merchant=merchant, is_template=True, is_active=True
        ).order_by("name", "id")

    def options(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of ``services.campaign_create``."""
        data = dict(self.cleaned_data)
        for optional in ("audience", "voucher_template", "send_at"):
            if not data.get(optional):
                data[optional] = None
        data["holiday"] = (data.get("holiday") or "").strip()
        return data


class AudienceForm(forms.Form):
    """The audience builder: every filter key of :mod:`langganan.campaigns.audiences`."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    segments = forms.MultipleChoiceField(
        label=_("RFM segments"), required=False, widget=forms.CheckboxSelectMultiple
    )
    lifecycle = forms.MultipleChoiceField(
        label=_("Lifecycle stages"), required=False, widget=forms.CheckboxSelectMultiple
    )
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
    tiers = forms.MultipleChoiceField(
        label=_("Tiers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.CharField(label=_("Tags (comma-separated)"), required=False)
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[
            ("", _("Any")),
            (Gender.MALE, Gender.MALE.label),
            (Gender.FEMALE, Gender.FEMALE.label),
        ],
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=150)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=150)
    cities = forms.CharField(label=_("Cities (comma-separated)"), required=False)
    birthday_within_days = forms.IntegerField(
        label=_("Birthday within the next (days)"),
        required=False,
        min_value=0,
        max_value=MAX_BIRTHDAY_WINDOW,
    )
    last_purchase_min_days = forms.IntegerField(
        label=_("Last purchase at least (days ago)"), required=False, min_value=0
    )
    last_purchase_max_days = forms.IntegerField(
        label=_("Last purchase at most (days ago)"), required=False, min_value=0
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
    consent = forms.ChoiceField(
        label=_("Has consented to"),
        required=False,
        choices=[("", _("Any channel or none")), *Channel.choices],
    )

    FILTER_FIELDS = (
        "segments",
        "lifecycle",
        "r_scores",
        "f_scores",
        "m_scores",
        "tiers",
        "tags",
        "gender",
        "age_min",
        "age_max",
        "cities",
        "birthday_within_days",
        "last_purchase_min_days",
        "last_purchase_max_days",
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
        from langganan.sales.models import Product, ProductCategory

        lang = _language()
        self.fields["segments"].choices = [(c, t[lang]) for c, t in SEGMENT_LABELS.items()]
        self.fields["lifecycle"].choices = [(c, STAGE_LABELS[c][lang]) for c in LIFECYCLE_STAGES]
        self.fields["tiers"].choices = [
            (str(pk), name)
            for pk, name in Tier.objects.filter(program__merchant=merchant)
            .order_by("rank", "id")
            .values_list("id", "name")
        ]
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

    @classmethod
    def initial_from(cls, audience: Audience) -> dict[str, Any]:
        """Form values for a saved audience's filters."""
        initial: dict[str, Any] = {"name": audience.name}
        for key, value in (audience.filters or {}).items():
            if key in ("tags", "cities"):
                initial[key] = ", ".join(value)
            elif isinstance(value, list):
                initial[key] = [str(v) for v in value]
            else:
                initial[key] = value
        return initial

    def filters_valid(self) -> bool:
        """Whether every filter field is valid (the name may still be wrong)."""
        self.is_valid()
        return not any(key in self.errors for key in (*self.FILTER_FIELDS, "__all__"))

    def filters(self) -> dict[str, Any]:
        """The cleaned values as an audience filter (empty ones left out)."""
        out: dict[str, Any] = {}
        for key in self.FILTER_FIELDS:
            value = self.cleaned_data.get(key)
            if key in ("tags", "cities"):
                value = _split(value)
            if value is None or value == "" or value == []:
                continue
            out[key] = str(value) if isinstance(value, Decimal) else value
        return out


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    subject_id = forms.CharField(label=_("Subject (Indonesian)"), max_length=200, required=False)
    body_id = forms.CharField(
        label=_("Message (Indonesian)"), widget=forms.Textarea(attrs={"rows": 5})
    )
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Message (English)"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    whatsapp_template = forms.CharField(
        label=_("WhatsApp template name"), max_length=100, required=False
    )


def filters_as_params(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """An audience filter as (name, value) pairs of the builder's form (for hidden inputs)."""
    params: list[tuple[str, str]] = []
    for key, value in (filters or {}).items():
        if key in ("tags", "cities") and isinstance(value, list):
            params.append((key, ", ".join(str(v) for v in value)))
        elif isinstance(value, list):
            params.extend((key, str(v)) for v in value)
        else:
            params.append((key, str(value)))
    return params
