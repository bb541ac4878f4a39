"""Set-up forms: the business and its outlets. Forms only parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant

TIME_ZONES = [
    ("Asia/Jakarta", _("WIB (Jakarta, Sumatra, Java, West and Central Kalimantan)")),
    ("Asia/Makassar", _("WITA (Bali, Nusa Tenggara, Sulawesi, South and East Kalimantan)")),
    ("Asia/Jayapura", _("WIT (Maluku, Papua)")),
]


class BusinessForm(forms.Form):
    name = forms.CharField(label=_("Business name"), max_length=200)
    business_type = forms.ChoiceField(
        label=_("Type of business"), choices=Merchant.BusinessType.choices
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONES)
    outlet_name = forms.CharField(
        label=_("Name of your first outlet"),
        max_length=200,
        help_text=_("For example: Warteg Bu Sri Kemang. You can add more outlets later."),
    )
    outlet_city = forms.CharField(label=_("City"), max_length=100, required=False)
    outlet_address = forms.CharField(label=_("Address"), max_length=300, required=False)


class OutletForm(forms.Form):
    name = forms.CharField(label=_("Outlet name"), max_length=200)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
