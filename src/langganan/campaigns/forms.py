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

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.forms import CustomerFilterForm
from langganan.customers.listing import age_band_of
from langganan.customers.models import Channel

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
        label=_("Send at (broadcasts): day/month/year hour:minute"),
        required=False,
        # the Indonesian order (31/12/2026 09:00) first; ISO still read
        input_formats=[
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y %H.%M",
            "%d/%m/%Y",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
        ],
        widget=forms.DateTimeInput(
            attrs={"placeholder": "31/12/2026 09:00", "inputmode": "numeric"},
            format="%d/%m/%Y %H:%M",
        ),
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
        # a voucher by what it gives ("Selamat datang: potongan Rp 10.000"), not its code
        self.fields["voucher_template"].label_from_instance = lambda v: v.name or v.code

    def options(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of ``services.campaign_create``."""
        data = dict(self.cleaned_data)
        for optional in ("audience", "voucher_template", "send_at"):
            if not data.get(optional):
                data[optional] = None
        data["holiday"] = (data.get("holiday") or "").strip()
        return data


class AudienceForm(CustomerFilterForm):
    """The audience builder: the customer list's filter form (every filter key of
    :mod:`langganan.campaigns.audiences`) with the audience's name, so a list saved as an
    audience keeps every filter it was shown with."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    field_order = ["name"]

    @classmethod
    def initial_from(cls, audience: Audience) -> dict[str, Any]:
        """Form values for a saved audience's filters."""
        initial: dict[str, Any] = {"name": audience.name}
        filters = audience.filters or {}
        for key, value in filters.items():
            if key in ("tags", "cities"):
                initial[key] = ", ".join(value)
            elif isinstance(value, bool):
                initial[key] = "1" if value else "0"
            elif isinstance(value, list):
                initial[key] = [str(v) for v in value]
            else:
                initial[key] = value
        band = age_band_of(filters.get("age_min"), filters.get("age_max"))
        if band:
            initial["age_band"] = band
            initial.pop("age_min", None)
            initial.pop("age_max", None)
        return initial

    def filters_valid(self) -> bool:
        """Whether every filter field is valid (the name may still be wrong)."""
        self.is_valid()
        return not any(key in self.errors for key in (*self.FILTER_FIELDS, "age_band", "__all__"))


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
