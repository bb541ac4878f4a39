"""Loyalty: programs, tiers, the points / store-credit / tab ledger, vouchers and referrals.

The ledger is double-entry and append-only:

- an :class:`Account` holds one balance of one customer (points, store credit, tab) or one
  merchant-side counter-account (points issued, points redeemed, …);
- a :class:`Journal` is one business event (earn on a sale, a redemption, an expiry run, …) with a
  key unique per merchant, so posting the same event twice is impossible;
- an :class:`Entry` moves an amount into or out of one account; a journal's entries sum to zero
  per unit. Entries are never updated or deleted: database triggers refuse it
  (see migration 0002), and the same triggers add each new entry to its account's cached balance,
  so the balance always equals the sum of the entries. A CHECK constraint keeps every customer
  balance at or above its floor (0 for points and store credit, minus the credit limit for a tab),
  so an overdraft is refused by the database even when two requests race.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet
from langganan.customers.models import Customer
from langganan.sales.models import Product, ProductCategory, Transaction

MONEY = {"max_digits": 14, "decimal_places": 2}
POINTS = {"max_digits": 14, "decimal_places": 0}
RATE = {"max_digits": 7, "decimal_places": 4}
ZERO = Decimal("0")


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down (only whole steps earn)")
    HALF_UP = "half_up", _("Round to the nearest (half up)")


class ExpiryPolicy(models.TextChoices):
    NEVER = "never", _("Points never expire")
    MONTHS = "months", _("N months after they are earned")
    YEAR_END = "year_end", _("At the end of the year after they are earned")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend")
    VISITS = "visits", _("Visits")


class Program(models.Model):
    """A merchant's loyalty program; every setting is edited without code (admin, dashboard)."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="loyalty_program"
    )
    name = models.CharField(_("name"), max_length=100, default="Member")
    is_active = models.BooleanField(_("active"), default=True)
    # earning
    earn_step = models.DecimalField(
        _("spend per earning step (Rp)"),
        **MONEY,
        default=Decimal("10000"),
        help_text=_("e.g. 10000: every full Rp 10.000 of the bill earns the points below."),
    )
    earn_points = models.PositiveIntegerField(_("points per step"), default=1)
    earn_rounding = models.CharField(
        _("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.DOWN
    )
    min_spend_to_earn = models.DecimalField(_("minimum spend to earn (Rp)"), **MONEY, default=ZERO)
    points_per_visit = models.PositiveIntegerField(_("points per visit"), default=0)
    signup_bonus = models.PositiveIntegerField(_("sign-up bonus (points)"), default=0)
    birthday_bonus = models.PositiveIntegerField(_("birthday bonus (points)"), default=0)
    # redemption
    point_value = models.DecimalField(_("value of one point (Rp)"), **MONEY, default=Decimal("100"))
    min_points_to_redeem = models.PositiveIntegerField(_("minimum points to redeem"), default=0)
    max_redeem_share = models.DecimalField(
        _("largest share of a bill payable with points"),
        **RATE,
        default=Decimal("1"),
        help_text=_("0.5 = at most half of the bill."),
    )
    # expiry
    expiry_policy = models.CharField(
        _("expiry"), max_length=8, choices=ExpiryPolicy.choices, default=ExpiryPolicy.MONTHS
    )
    expiry_months = models.PositiveIntegerField(_("months until points expire"), default=12)
    # tiers
    tier_basis = models.CharField(
        _("tiers qualify by"), max_length=6, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    tier_window_days = models.PositiveIntegerField(_("tier window (days)"), default=365)
    tier_review_months = models.PositiveIntegerField(
        _("months between tier reviews"),
        default=3,
        help_text=_("Reviews fall on the first day of every N-th month (January first)."),
    )
    # referrals
    referral_referrer_points = models.PositiveIntegerField(_("points for the referrer"), default=0)
    referral_referred_points = models.PositiveIntegerField(
        _("points for the referred customer"), default=0
    )
    referral_min_spend = models.DecimalField(
        _("minimum first purchase for a referral reward (Rp)"), **MONEY, default=ZERO
    )
    # welcome voucher: a template voucher copied into a personal single-use code for each member
    welcome_voucher = models.ForeignKey(
        "Voucher",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("welcome voucher template"),
    )
    welcome_voucher_days = models.PositiveIntegerField(
        _("days a welcome voucher stays valid"), default=30
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        constraints = [
            models.CheckConstraint(condition=Q(earn_step__gt=0), name="program_earn_step_positive"),
            models.CheckConstraint(
                condition=Q(point_value__gt=0), name="program_point_value_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_redeem_share__gte=0, max_redeem_share__lte=1),
                name="program_max_redeem_share_0_1",
            ),
            models.CheckConstraint(
                condition=Q(min_spend_to_earn__gte=0), name="program_min_spend_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.name}"


class Tier(models.Model):
    """A level such as Silver / Gold / Platinum, with what it takes and what it gives."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveIntegerField(_("rank"), help_text=_("Higher is better."))
    min_spend = models.DecimalField(_("minimum spend in the window (Rp)"), **MONEY, default=ZERO)
    min_visits = models.PositiveIntegerField(_("minimum visits in the window"), default=0)
    earn_multiplier = models.DecimalField(_("points multiplier"), **RATE, default=Decimal("1"))
    cashback_rate = models.DecimalField(
        _("cashback rate"), **RATE, default=ZERO, help_text=_("0.02 = 2 % of each bill.")
    )
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["program", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["program", "name"], name="tier_name_unique"),
            models.CheckConstraint(
                condition=Q(earn_multiplier__gte=0), name="tier_multiplier_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(cashback_rate__gte=0, cashback_rate__lte=1), name="tier_cashback_0_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EarnRule(models.Model):
    """A points multiplier for a product, a category, a date range (promotion), or all three."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="earn_rules")
    name = models.CharField(_("name"), max_length=100)
    multiplier = models.DecimalField(_("multiplier"), **RATE, default=Decimal("2"))
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        ProductCategory, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until (inclusive)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="earn_rule_multiplier_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=F("ends_on")),
                name="earn_rule_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CashbackRule(models.Model):
    """Spend at least ``min_spend`` in one transaction → a percentage or a fixed amount as
    store credit."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="cashback_rules")
    name = models.CharField(_("name"), max_length=100)
    min_spend = models.DecimalField(_("minimum spend (Rp)"), **MONEY)
    rate = models.DecimalField(_("rate"), **RATE, null=True, blank=True)
    amount = models.DecimalField(_("fixed amount (Rp)"), **MONEY, null=True, blank=True)
    max_amount = models.DecimalField(_("cap (Rp)"), **MONEY, null=True, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until (inclusive)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cashback rule")
        verbose_name_plural = _("cashback rules")
        constraints = [
            models.CheckConstraint(
                condition=(Q(rate__isnull=False, amount__isnull=True, rate__gt=0, rate__lte=1))
                | (Q(rate__isnull=True, amount__isnull=False, amount__gt=0)),
                name="cashback_rate_or_amount",
            ),
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="cashback_min_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    """An item of the rewards catalogue: a free product for a number of points."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(_("name"), max_length=100)
    points_cost = models.PositiveIntegerField(_("points"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="reward_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points_cost})"


class Member(models.Model):
    """A customer enrolled in the merchant's program: tier, referral code, who referred them."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members")
    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="loyalty_member"
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    referral_code = models.CharField(_("referral code"), max_length=16)
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "referral_code"], name="member_referral_code_unique"
            ),
            models.CheckConstraint(
                condition=~Q(referred_by=F("id")), name="member_not_self_referred"
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer)


class TierChange(models.Model):
    """A member's move between tiers, with its reason (append-only history)."""

    class Reason(models.TextChoices):
        QUALIFIED = "qualified", _("Qualified (upgrade)")
        REVIEW = "review", _("Tier review")
        MANUAL = "manual", _("Set by staff")
        ENROLLED = "enrolled", _("Enrolled")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    spend_in_window = models.DecimalField(**MONEY, default=ZERO)
    visits_in_window = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_tier} → {self.to_tier} ({self.reason})"


# -- the ledger ------------------------------------------------------------------------------


class AccountKind(models.TextChoices):
    POINTS = "points", _("Points")
    CREDIT = "credit", _("Store credit")
    TAB = "tab", _("Tab (kasbon)")
    SYSTEM = "system", _("Merchant counter-account")


class Unit(models.TextChoices):
    POINTS = "points", _("points")
    RUPIAH = "idr", "Rp"


#: Merchant-side counter-accounts: code -> unit.
SYSTEM_ACCOUNTS = {
    "points_issued": Unit.POINTS,
    "points_redeemed": Unit.POINTS,
    "points_expired": Unit.POINTS,
    "points_opening": Unit.POINTS,
    "credit_issued": Unit.RUPIAH,
    "credit_spent": Unit.RUPIAH,
    "tab_sales": Unit.RUPIAH,
    "tab_payments": Unit.RUPIAH,
    "tab_opening": Unit.RUPIAH,
}


class Account(models.Model):
    """One balance. ``balance`` is maintained by the database from the entries (trigger)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="accounts")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=AccountKind.choices)
    code = models.CharField(_("code"), max_length=20, blank=True)
    unit = models.CharField(_("unit"), max_length=6, choices=Unit.choices)
    balance = models.DecimalField(_("balance"), **MONEY, default=ZERO, editable=False)
    floor = models.DecimalField(
        _("lowest allowed balance"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("0 for points and store credit; minus the credit limit for a tab."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=Q(customer__isnull=False),
                name="account_one_per_customer_kind",
            ),
            models.UniqueConstraint(
                fields=["merchant", "code"],
                condition=Q(customer__isnull=True),
                name="account_system_code_unique",
            ),
            models.CheckConstraint(
                condition=Q(floor__isnull=True) | Q(balance__gte=F("floor")),
                name="account_balance_at_least_floor",
            ),
            models.CheckConstraint(
                condition=(Q(kind="system", customer__isnull=True, floor__isnull=True))
                | (Q(kind__in=["points", "credit"], customer__isnull=False, floor=0))
                | (Q(kind="tab", customer__isnull=False, floor__lte=0)),
                name="account_kind_owner_floor",
            ),
        ]

    def __str__(self) -> str:
        owner = self.customer or self.code
        return f"{self.get_kind_display()} · {owner}"


class JournalKind(models.TextChoices):
    EARN = "earn", _("Points earned")
    BONUS = "bonus", _("Bonus points")
    REFERRAL = "referral", _("Referral reward")
    REDEEM = "redeem", _("Points redeemed")
    EXPIRE = "expire", _("Points expired")
    CASHBACK = "cashback", _("Cashback")
    CREDIT_SPEND = "credit", _("Store credit spent")
    TAB_CHARGE = "tab", _("Charged to tab")
    TAB_PAYMENT = "tab_pay", _("Tab payment")
    REVERSAL = "reversal", _("Refund reversal")
    OPENING = "opening", _("Opening balance")
    ADJUST = "adjust", _("Adjustment")


class Journal(models.Model):
    """One business event on the ledger; ``key`` makes posting it twice impossible."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="journals")
    kind = models.CharField(_("kind"), max_length=8, choices=JournalKind.choices)
    key = models.CharField(_("key"), max_length=120)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="journals"
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journals")
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="journal_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.key}"


class Entry(models.Model):
    """An amount into (+) or out of (−) one account. Never updated or deleted."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(_("amount"), **MONEY)
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["account", "id"]
        indexes = [models.Index(fields=["account", "posted_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+}"


class PointLot(models.Model):
    """Points earned together, expiring together: the unit of oldest-first consumption.

    ``expires_at`` is fixed when the points are earned, so a later change of the program's
    expiry policy never re-dates them. ``remaining`` is what is left to redeem or expire.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="lots")
    earned_at = models.DateTimeField(_("earned at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    amount = models.DecimalField(**POINTS)
    remaining = models.DecimalField(**POINTS)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["account", "expires_at", "id"]
        indexes = [models.Index(fields=["account", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lot_amount_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=F("amount")),
                name="lot_remaining_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.amount} · {self.expires_at or '-'}"


class LotUse(models.Model):
    """Points taken from a lot by a journal (a redemption, an expiry, a reversal)."""

    lot = models.ForeignKey(PointLot, on_delete=models.PROTECT, related_name="uses")
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="lot_uses")
    amount = models.DecimalField(
        **POINTS, help_text="Positive: taken from the lot; negative: given back to it."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="lot_use_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id} {self.amount:+}"


# -- vouchers and referrals --------------------------------------------------------------------


class VoucherKind(models.TextChoices):
    SINGLE_USE = "single", _("Single-use code")
    SHARED = "shared", _("Shared code")


class DiscountType(models.TextChoices):
    FIXED = "fixed", _("Fixed amount (Rp)")
    PERCENT = "percent", _("Percentage")
    FREE_ITEM = "free_item", _("Free item")


class Voucher(models.Model):
    """A code that gives a discount or a free item, with its limits and validity."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="vouchers")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=6, choices=VoucherKind.choices, default=VoucherKind.SINGLE_USE
    )
    discount_type = models.CharField(
        _("discount"), max_length=10, choices=DiscountType.choices, default=DiscountType.FIXED
    )
    value = models.DecimalField(
        _("value"), **MONEY, default=ZERO, help_text=_("Rupiah, or percent (10 = 10 %).")
    )
    max_discount = models.DecimalField(_("largest discount (Rp)"), **MONEY, null=True, blank=True)
    free_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_spend = models.DecimalField(_("minimum spend (Rp)"), **MONEY, default=ZERO)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for product"),
    )
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for category"),
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        _("total uses allowed"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="vouchers",
        help_text=_("Only this customer may use it."),
    )
    batch = models.CharField(_("batch"), max_length=64, blank=True)
    is_template = models.BooleanField(
        _("template"),
        default=False,
        help_text=_("Not usable itself; copied into personal codes (welcome, bulk issue)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="voucher_code_unique"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="voucher_uses_within_limit",
            ),
            models.CheckConstraint(
                condition=~Q(kind="single") | Q(max_uses=1), name="voucher_single_use_once"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="voucher_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(discount_type="percent") | Q(value__lte=100),
                name="voucher_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(discount_type="free_item") | Q(free_product__isnull=False),
                name="voucher_free_item_has_product",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lt=F("valid_until")),
                name="voucher_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherRedemption(models.Model):
    """One use of a voucher on a sale; a refund gives the use back (``reversed_at``)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="voucher_redemptions"
    )
    discount = models.DecimalField(_("discount"), **MONEY)
    redeemed_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "transaction"], name="voucher_once_per_transaction"
            ),
            models.CheckConstraint(condition=Q(discount__gte=0), name="redemption_discount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} · {self.transaction_id}"


class Referral(models.Model):
    """A referred member; rewarded once, on their first qualifying purchase."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="referrals")
    referrer = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="referrals_made")
    referred = models.OneToOneField(
        Member, on_delete=models.CASCADE, related_name="referral_received"
    )
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rewarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=F("referred")), name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.referred}"


# -- checkout idempotency ----------------------------------------------------------------------


class CheckoutRecord(models.Model):
    """The stored result of a checkout (or refund) call, by its idempotency key.

    Written in the same database transaction as the checkout's effects: either both exist or
    neither. The same key with the same request returns ``response``; with a different request
    (``request_hash``) it is refused.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, null=True, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    operation = models.CharField(max_length=20)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField()
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "operation", "key"], name="checkout_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"


class TabPaymentMethod(models.TextChoices):
    """How a customer pays off their tab (a subset of the sales' payment methods)."""

    CASH = "cash", _("Cash")
    QRIS = "qris", "QRIS"
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    E_WALLET = "e_wallet", _("E-wallet")
    DEBIT_CARD = "debit_card", _("Debit card")


class TabPayment(models.Model):
    """A payment towards a customer's tab, taken at the counter or by a POS: how it was paid,
    at which outlet and by whom. The money itself moves in ``journal`` (kind ``tab_pay``);
    this row only describes it, and is never changed."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tab_payments")
    journal = models.OneToOneField(Journal, on_delete=models.PROTECT, related_name="tab_payment")
    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("payment method"), max_length=16, choices=TabPaymentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    paid_at = models.DateTimeField(_("paid at"))

    class Meta:
        verbose_name = _("tab payment")
        verbose_name_plural = _("tab payments")
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["merchant", "paid_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="tab_payment_positive"),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in TabPaymentMethod]),
                name="tab_payment_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.amount} {self.method}"
