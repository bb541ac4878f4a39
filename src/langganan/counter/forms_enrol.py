"""The forms of enrolment at the counter and of self sign-up by QR."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.phones import normalize_phone
from langganan.customers.models import Channel, Greeting

from .enrolment import CONSENT_WORDING, COUNTER_WORDING, SIGNUP_WORDING

MSG_PHONE_INVALID = _("This is not a valid Indonesian phone number (for example 0812-3456-7890).")
MSG_BIRTH_DATE_FUTURE = _("The birth date cannot be in the future.")
MSG_BIRTH_DATE_OLD = _("Check the year of the birth date.")

GREETINGS = [(g, g) for g in (Greeting.KAK, Greeting.MAS, Greeting.MBAK, Greeting.PAK, Greeting.BU)]


class _PersonForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number (WhatsApp)"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "0812-3456-7890"}
        ),
    )
    full_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    birth_date = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    email = forms.EmailField(
        label=_("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )

    wording = COUNTER_WORDING

    def clean_phone(self) -> str:
        try:
            e164 = normalize_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise forms.ValidationError(MSG_PHONE_INVALID, code="invalid") from exc
        if not e164:
            raise forms.ValidationError(MSG_PHONE_INVALID, code="invalid")
        return e164

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_birth_date(self):
        born = self.cleaned_data.get("birth_date")
        if born is None:
            return None
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(MSG_BIRTH_DATE_FUTURE, code="future")
        if born.year < today.year - 120:
            raise forms.ValidationError(MSG_BIRTH_DATE_OLD, code="old")
        return born

    def consents(self) -> dict[str, bool]:
        return {ch: bool(self.cleaned_data.get(f"consent_{ch}")) for ch in Channel.values}

    def consent_fields(self):
        return [self[f"consent_{ch}"] for ch in (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)]


def _consent_field(wording: str, channel: str) -> forms.BooleanField:
    return forms.BooleanField(label=CONSENT_WORDING[wording][channel], required=False)


class EnrolForm(_PersonForm):
    """At the counter: the cashier types what the customer says."""

    greeting = forms.ChoiceField(
        label=_("Greeting"), choices=GREETINGS, initial=Greeting.KAK, widget=forms.RadioSelect
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    consent_whatsapp = _consent_field(COUNTER_WORDING, Channel.WHATSAPP)
    consent_sms = _consent_field(COUNTER_WORDING, Channel.SMS)
    consent_email = _consent_field(COUNTER_WORDING, Channel.EMAIL)

    field_order = ["phone", "full_name", "greeting", "birth_date", "city", "email"]


class SignupForm(_PersonForm):
    """On the customer's own phone. ``website`` is a honeypot: hidden from people, filled by
    bots that fill every field."""

    wording = SIGNUP_WORDING
    consent_whatsapp = _consent_field(SIGNUP_WORDING, Channel.WHATSAPP)
    consent_sms = _consent_field(SIGNUP_WORDING, Channel.SMS)
    consent_email = _consent_field(SIGNUP_WORDING, Channel.EMAIL)
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def is_bot(self) -> bool:
        return bool((self.data.get("website") or "").strip())
