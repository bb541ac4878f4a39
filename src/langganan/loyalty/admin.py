"""Django admin for the loyalty app.

Program settings (tiers, earning and cashback rules, rewards) and vouchers are edited here.
The ledger is evidence: journals, entries, lot uses, tier changes, voucher redemptions and
checkout records are shown read-only (no add, change or delete), and points lots too, since
what is left in a lot must agree with the ledger. An account's balance is never edited (the
database keeps it from the entries); only a tab's credit limit can be changed, and that goes
through :func:`langganan.loyalty.tab.tab_set_limit` with its checks.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.admin import ReadOnlyAdminMixin
from langganan.core.money import format_rupiah
from langganan.loyalty.models import (
    Account,
    AccountKind,
    CashbackRule,
    CheckoutRecord,
    EarnRule,
    Entry,
    Journal,
    LotUse,
    Member,
    PointLot,
    Program,
    Referral,
    Reward,
    TabPayment,
    Tier,
    TierChange,
    Voucher,
    VoucherRedemption,
)

CUSTOMER_SEARCH = ["customer__full_name", "customer__phone", "customer__member_code"]


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


# -- the program --------------------------------------------------------------------------------


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ["rank", "name", "min_spend", "min_visits", "earn_multiplier", "cashback_rate"]


class EarnRuleInline(admin.TabularInline):
    model = EarnRule
    extra = 0
    fields = ["name", "multiplier", "product", "category", "starts_on", "ends_on", "is_active"]
    raw_id_fields = ["product", "category"]


class CashbackRuleInline(admin.TabularInline):
    model = CashbackRule
    extra = 0
    fields = [
        "name",
        "min_spend",
        "rate",
        "amount",
        "max_amount",
        "starts_on",
        "ends_on",
        "is_active",
    ]


class RewardInline(admin.TabularInline):
    model = Reward
    extra = 0
    fields = ["name", "points_cost", "product", "is_active"]
    raw_id_fields = ["product"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "is_active", "earn_step", "earn_points", "expiry_policy"]
    list_filter = ["merchant", "is_active", "expiry_policy", "tier_basis"]
    search_fields = ["name", "merchant__name", "merchant__slug"]
    raw_id_fields = ["welcome_voucher"]
    inlines = [TierInline, EarnRuleInline, CashbackRuleInline, RewardInline]
    fieldsets = [
        (None, {"fields": ["merchant", "name", "is_active"]}),
        (
            _("Earning"),
            {
                "fields": [
                    "earn_step",
                    "earn_points",
                    "earn_rounding",
                    "min_spend_to_earn",
                    "points_per_visit",
                    "signup_bonus",
                    "birthday_bonus",
                ]
            },
        ),
        (
            _("Redemption"),
            {"fields": ["point_value", "min_points_to_redeem", "max_redeem_share"]},
        ),
        (_("Expiry"), {"fields": ["expiry_policy", "expiry_months"]}),
        (_("Tiers"), {"fields": ["tier_basis", "tier_window_days", "tier_review_months"]}),
        (
            _("Referrals and welcome"),
            {
                "fields": [
                    "referral_referrer_points",
                    "referral_referred_points",
                    "referral_min_spend",
                    "welcome_voucher",
                    "welcome_voucher_days",
                ]
            },
        ),
    ]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "rank", "min_spend", "min_visits", "earn_multiplier"]
    list_filter = ["program__merchant"]
    search_fields = ["name"]


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "multiplier", "product", "category", "is_active"]
    list_filter = ["program__merchant", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["product", "category"]


@admin.register(CashbackRule)
class CashbackRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "min_spend", "rate", "amount", "is_active"]
    list_filter = ["program__merchant", "is_active"]
    search_fields = ["name"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "points_cost", "product", "is_active"]
    list_filter = ["program__merchant", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["product"]


# -- members ------------------------------------------------------------------------------------


class TierChangeInline(ReadOnlyInline):
    model = TierChange
    fk_name = "member"
    fields = ["changed_at", "from_tier", "to_tier", "reason", "detail"]
    readonly_fields = fields


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["customer", "merchant", "tier", "referral_code", "enrolled_at"]
    list_filter = ["merchant", "tier"]
    search_fields = [*CUSTOMER_SEARCH, "referral_code"]
    raw_id_fields = ["customer", "referred_by"]
    date_hierarchy = "enrolled_at"
    inlines = [TierChangeInline]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["member", "from_tier", "to_tier", "reason", "changed_at"]
    list_filter = ["member__merchant", "reason"]
    search_fields = ["member__customer__full_name", "member__customer__member_code"]
    date_hierarchy = "changed_at"


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["referrer", "referred", "merchant", "rewarded_at", "created_at"]
    list_filter = ["merchant"]
    search_fields = ["referrer__customer__full_name", "referred__customer__full_name"]
    raw_id_fields = ["referrer", "referred", "transaction"]


# -- the ledger ---------------------------------------------------------------------------------


class AccountForm(forms.ModelForm):
    """Only a tab's floor (minus its credit limit) can change, and not above the balance."""

    class Meta:
        model = Account
        fields = ["floor"]

    def clean_floor(self):
        from langganan.loyalty.tab import ERR_LIMIT_BELOW_OWED, ERR_LIMIT_NEGATIVE

        floor = self.cleaned_data.get("floor")
        if floor is None:
            raise forms.ValidationError(ERR_LIMIT_NEGATIVE)
        if floor > 0:
            raise forms.ValidationError(ERR_LIMIT_NEGATIVE)
        balance = Decimal(self.instance.balance)
        if balance < floor:
            raise forms.ValidationError(
                ERR_LIMIT_BELOW_OWED.format(
                    owed=format_rupiah(-balance, cents=True),
                    limit=format_rupiah(-floor, cents=True),
                )
            )
        return floor


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ["account", "amount", "posted_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Balances are shown, never edited; a tab's limit is set through ``tab_set_limit``."""

    form = AccountForm
    list_display = ["__str__", "merchant", "kind", "code", "balance_display", "floor"]
    list_filter = ["merchant", "kind", "unit"]
    search_fields = [*CUSTOMER_SEARCH, "code"]
    list_select_related = ["customer", "merchant"]

    @admin.display(description=_("balance"), ordering="balance")
    def balance_display(self, obj: Account):
        return obj.balance

    def get_readonly_fields(self, request, obj=None):
        fixed = ["merchant", "customer", "kind", "code", "unit", "balance", "created_at"]
        if obj is None or obj.kind != AccountKind.TAB:
            fixed.append("floor")
        return fixed

    def get_fields(self, request, obj=None):
        return ["merchant", "customer", "kind", "code", "unit", "balance", "floor", "created_at"]

    def has_add_permission(self, request):
        return False  # accounts are opened by the services on first use

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from langganan.loyalty.tab import tab_set_limit

        if obj.kind == AccountKind.TAB and "floor" in form.changed_data:
            # recorded in the audit log with the admin user (tab_set_limit does it)
            tab_set_limit(
                customer=obj.customer, limit=-obj.floor, at=timezone.now(), request=request
            )


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["posted_at", "kind", "key", "merchant", "transaction", "memo"]
    list_filter = ["merchant", "kind"]
    search_fields = ["key", "memo"]
    date_hierarchy = "posted_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["posted_at", "account", "amount", "journal"]
    list_filter = ["account__merchant", "account__kind"]
    search_fields = ["journal__key", "account__customer__full_name", "account__code"]
    list_select_related = ["account__customer", "journal"]
    date_hierarchy = "posted_at"


class LotUseInline(ReadOnlyInline):
    model = LotUse
    fields = ["journal", "amount"]
    readonly_fields = fields
    show_change_link = False


@admin.register(PointLot)
class PointLotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["account", "earned_at", "expires_at", "amount", "remaining"]
    list_filter = ["account__merchant"]
    search_fields = ["account__customer__full_name", "account__customer__member_code"]
    date_hierarchy = "earned_at"
    inlines = [LotUseInline]


@admin.register(LotUse)
class LotUseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["lot", "journal", "amount"]
    list_filter = ["lot__account__merchant"]
    search_fields = ["journal__key"]


# -- vouchers and checkouts ---------------------------------------------------------------------


class VoucherRedemptionInline(ReadOnlyInline):
    model = VoucherRedemption
    fields = ["transaction", "customer", "discount", "redeemed_at", "reversed_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "merchant",
        "kind",
        "discount_type",
        "value",
        "uses",
        "max_uses",
        "valid_until",
        "is_active",
    ]
    list_filter = ["merchant", "kind", "discount_type", "is_active", "is_template"]
    search_fields = ["code", "name", "batch", *CUSTOMER_SEARCH]
    raw_id_fields = ["customer", "product", "category", "free_product"]
    readonly_fields = ["uses"]
    inlines = [VoucherRedemptionInline]


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["voucher", "transaction", "customer", "discount", "redeemed_at", "reversed_at"]
    list_filter = ["voucher__merchant"]
    search_fields = ["voucher__code", *CUSTOMER_SEARCH]
    date_hierarchy = "redeemed_at"


@admin.register(CheckoutRecord)
class CheckoutRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "operation", "key", "merchant", "outlet", "transaction"]
    list_filter = ["merchant", "operation"]
    search_fields = ["key"]
    date_hierarchy = "created_at"


@admin.register(TabPayment)
class TabPaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """How each tab payment was paid, where and by whom (the money is its journal)."""

    list_display = ["paid_at", "customer", "amount", "method", "outlet", "recorded_by", "merchant"]
    list_filter = ["merchant", "method"]
    search_fields = [*CUSTOMER_SEARCH]
    list_select_related = ["customer", "outlet", "recorded_by", "merchant"]
    date_hierarchy = "paid_at"
