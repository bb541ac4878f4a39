"""The loyalty program's form, in plain words. Forms only parse input; the service decides."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

WHOLE = Decimal(1)


def _rupiah(label, **kwargs):
    return forms.DecimalField(
        label=label, min_value=0, max_digits=14, decimal_places=0, localize=False, **kwargs
    )


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name of the program"), max_length=100)
    earn_step = _rupiah(_("For every purchase of (Rp)"))
    earn_points = forms.IntegerField(label=_("the customer earns (points)"), min_value=1)
    point_value = _rupiah(_("One point is worth (Rp)"))
    min_points_to_redeem = forms.IntegerField(
        label=_("Points needed before they can be used"), min_value=0
    )
    signup_bonus = forms.IntegerField(label=_("Bonus points for joining"), min_value=0)
    birthday_bonus = forms.IntegerField(label=_("Bonus points on their birthday"), min_value=0)
    expiry_months = forms.IntegerField(
        label=_("Points expire after (months; 0 = never)"), min_value=0, max_value=120
    )
    welcome_amount = _rupiah(_("Welcome voucher for a new member (Rp off; 0 = none)"))
    welcome_min_spend = _rupiah(_("… on a purchase of at least (Rp)"))
    welcome_days = forms.IntegerField(
        label=_("The welcome voucher is valid for (days)"), min_value=1, max_value=365
    )

    def clean_earn_step(self):
        value = self.cleaned_data["earn_step"]
        if value <= 0:
            raise forms.ValidationError(_("Enter an amount of more than Rp 0."))
        return value

    @classmethod
    def initial_for(cls, program, merchant) -> dict:
        if program is None:
            return {
                "name": f"Member {merchant.name}",
                "earn_step": Decimal("10000"),
                "earn_points": 1,
                "point_value": Decimal("100"),
                "min_points_to_redeem": 50,
                "signup_bonus": 20,
                "birthday_bonus": 50,
                "expiry_months": 12,
                "welcome_amount": Decimal("10000"),
                "welcome_min_spend": Decimal("30000"),
                "welcome_days": 30,
            }
        voucher = program.welcome_voucher
        return {
            "name": program.name,
            "earn_step": program.earn_step.quantize(WHOLE),
            "earn_points": program.earn_points,
            "point_value": program.point_value.quantize(WHOLE),
            "min_points_to_redeem": program.min_points_to_redeem,
            "signup_bonus": program.signup_bonus,
            "birthday_bonus": program.birthday_bonus,
            "expiry_months": program.expiry_months if program.expiry_policy == "months" else 0,
            "welcome_amount": voucher.value.quantize(WHOLE) if voucher else Decimal(0),
            "welcome_min_spend": voucher.min_spend.quantize(WHOLE) if voucher else Decimal(0),
            "welcome_days": program.welcome_voucher_days,
        }


def _plain(value: Decimal) -> Decimal:
    """``1.50`` → ``1.5``, ``10.00`` → ``10`` (never ``1E+1``)."""
    if value == value.to_integral_value():
        return value.quantize(WHOLE)
    return value.normalize()


class TierSettingsForm(forms.Form):
    tier_basis = forms.ChoiceField(
        label=_("Tiers are reached by"),
        choices=[("spend", _("spending")), ("visits", _("number of visits"))],
    )
    tier_window_days = forms.IntegerField(
        label=_("counted over the last (days)"), min_value=1, max_value=3650
    )
    tier_review_months = forms.IntegerField(
        label=_("Tiers are reviewed every (months)"), min_value=1, max_value=12
    )


class TierForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Tier"), max_length=50, required=False)
    min_spend = _rupiah(_("Spend needed (Rp)"), required=False)
    min_visits = forms.IntegerField(label=_("Visits needed"), min_value=0, required=False)
    earn_multiplier = forms.DecimalField(
        label=_("Points ×"),
        min_value=0,
        max_value=100,
        max_digits=6,
        decimal_places=2,
        required=False,
        localize=False,
    )
    cashback_percent = forms.DecimalField(
        label=_("Cashback (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
        localize=False,
    )
    benefits = forms.CharField(label=_("Benefits"), max_length=200, required=False)
    delete = forms.BooleanField(label=_("Delete"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("id") and not (data.get("name") or "").strip():
            return {"empty": True}  # a blank row to add a tier, left blank
        if not (data.get("name") or "").strip():
            self.add_error("name", _("Give the tier a name."))
        data.setdefault("min_spend", None)
        data["min_spend"] = data.get("min_spend") or Decimal(0)
        data["min_visits"] = data.get("min_visits") or 0
        multiplier = data.get("earn_multiplier")
        data["earn_multiplier"] = Decimal(1) if multiplier is None else multiplier
        data["cashback_rate"] = (data.get("cashback_percent") or Decimal(0)) / 100
        return data

    @staticmethod
    def initial_for(tier) -> dict:
        return {
            "id": tier.pk,
            "name": tier.name,
            "min_spend": tier.min_spend.quantize(WHOLE),
            "min_visits": tier.min_visits,
            "earn_multiplier": _plain(tier.earn_multiplier),
            "cashback_percent": _plain(tier.cashback_rate * 100),
            "benefits": tier.benefits,
        }


TierFormSet = forms.formset_factory(TierForm, extra=2, max_num=12, absolute_max=20)
