"""The forms of the complaint pages (English msgids; Indonesian in the app's catalogue)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from langganan.core.money import parse_money

from .models import Channel, RecoveryKind, Severity


class ComplaintForm(forms.Form):
    customer_query = forms.CharField(
        label=_("Customer: phone number or member code"),
        max_length=40,
        required=False,
        help_text=_("Leave empty for someone who is not a customer; write their name below."),
    )
    contact_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("Phone number"), max_length=30, required=False)
    sale = forms.TypedChoiceField(label=_("The sale it is about"), required=False, coerce=int)
    outlet = forms.TypedChoiceField(label=_("Outlet"), required=False, coerce=int)
    channel = forms.ChoiceField(
        label=_("Came in by"), choices=Channel.choices, initial=Channel.IN_PERSON
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        initial=Severity.MEDIUM,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, categories, outlets, sales=None, fixed_customer=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.pk, c.name) for c in categories]
        self.fields["outlet"].choices = [("", _("—"))] + [(o.pk, o.name) for o in outlets]
        if sales:
            self.fields["sale"].choices = [("", _("— none —"))] + [(s.pk, s.label) for s in sales]
        else:
            del self.fields["sale"]
        if fixed_customer:
            for name in ("customer_query", "contact_name", "contact_phone"):
                del self.fields[name]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecoveryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Give"), choices=RecoveryKind.choices, widget=forms.RadioSelect
    )
    amount = forms.CharField(label=_("Amount (Rp)"), max_length=20, required=False)
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=100000, required=False)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean_amount(self):
        text = (self.cleaned_data.get("amount") or "").strip()
        if not text:
            return None
        try:
            amount = parse_money(text)
        except (ValueError, ArithmeticError) as exc:
            raise forms.ValidationError(_("Write the amount in Rupiah, e.g. 25000.")) from exc
        if amount <= 0 or amount > Decimal("100000000"):
            raise forms.ValidationError(_("The amount must be more than zero."))
        return amount

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == RecoveryKind.POINTS and not data.get("points"):
            self.add_error("points", _("Write how many points."))
        if kind in (RecoveryKind.VOUCHER, RecoveryKind.CREDIT) and not data.get("amount"):
            if "amount" not in self.errors:
                self.add_error("amount", _("Write the amount in Rupiah, e.g. 25000."))
        return data


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rate this visit"),
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend? (0–10)"),
        choices=[(i, str(i)) for i in range(0, 11)],
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to tell us?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    suggestion = forms.CharField(
        label=_("A suggestion for us (saran)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1"}))

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
