"""Forms of the privacy pages: they parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from langganan.customers.models import Gender, Greeting
from langganan.privacy.models import AuditAction, RequestKind, RequestStatus

#: the profile services' refusals (English constants), translated where the form shows them
PROFILE_ERRORS = (
    gettext_noop("not a valid phone number"),
    gettext_noop("not a valid email address"),
    gettext_noop("birth date is in the future"),
    gettext_noop("another customer of this merchant already has this phone number"),
    gettext_noop("gender must be M, F or empty"),
    gettext_noop("greeting must be one of Kak, Mas, Mbak, Pak, Bu"),
)

REFERENCE_HELP = _("The request's reference, e.g. the number of the letter, email or message.")


class CorrectionForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    greeting = forms.ChoiceField(
        label=_("Preferred greeting"), choices=Greeting.choices, required=False
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    province = forms.CharField(label=_("Province"), max_length=100, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reference = forms.CharField(
        label=_("Request reference (optional)"),
        max_length=64,
        required=False,
        help_text=_("When the customer asked for the correction: it closes that request."),
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=RequestKind.choices)
    customer = forms.CharField(
        label=_("Customer"),
        max_length=100,
        required=False,
        help_text=_("Phone number, member code or customer id (if known)."),
    )
    requester = forms.CharField(
        label=_("Who asked, and how"),
        max_length=200,
        required=False,
        help_text=_("E.g. the customer by WhatsApp, or their family with a letter of authority."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=64, help_text=REFERENCE_HELP)
    received_at = forms.DateTimeField(
        label=_("Received at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        initial=lambda: timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    )


class CloseRequestForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (RequestStatus.DONE, RequestStatus.DONE.label),
            (RequestStatus.REFUSED, RequestStatus.REFUSED.label),
        ]
    )


class EraseForm(forms.Form):
    reference = forms.CharField(
        label=_("Request reference"), max_length=64, help_text=REFERENCE_HELP
    )
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone."), required=True)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *AuditAction.choices]
    )
    user = forms.TypedChoiceField(label=_("User"), required=False, coerce=int, empty_value=None)
    customer = forms.CharField(
        label=_("Customer"),
        max_length=100,
        required=False,
        help_text=_("Phone number, member code or customer id."),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("All users"))] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in users
        ]
