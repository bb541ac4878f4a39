"""The staff page's form: a new login with a role. Forms only parse input."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Outlet, Role


class StaffAddForm(forms.Form):
    full_name = forms.CharField(label=_("Name"), max_length=150)
    username = forms.CharField(
        label=_("Username for the login"),
        max_length=150,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9._-]{3,}$",
                _("At least 3 letters or digits; no spaces (dots, - and _ are fine)."),
            )
        ],
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CASHIER)
    outlet = forms.ModelChoiceField(
        label=_("Outlet (for a cashier)"), queryset=Outlet.objects.none(), required=False
    )

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outlet"].queryset = Outlet.objects.filter(merchant=merchant).order_by("code")
