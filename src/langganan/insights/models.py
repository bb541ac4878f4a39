"""Stored results of the analytics engine: one row per customer, and one run per refresh.

Data flows one way: transactions → engine → these rows → screens, API answers, audiences.
A refresh replaces a merchant's customer insights in one database transaction, so readers see
either the old set or the new one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant
from langganan.customers.models import Customer

MONEY = {"max_digits": 16, "decimal_places": 2}


class InsightRun(models.Model):
    """One run of the engine for a merchant, with its merchant-level results."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="insight_runs")
    engine = models.CharField(max_length=10, default="duckdb")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    observation_end = models.DateTimeField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)
    transactions = models.PositiveIntegerField(default=0)
    # model parameters, standard errors, log-likelihoods, warnings
    models_fitted = models.JSONField(default=dict, blank=True)
    # step name -> seconds
    timings = models.JSONField(default=dict, blank=True)
    # association rules: [{antecedent: [...], consequent, support, confidence, lift, count}]
    rules = models.JSONField(default=list, blank=True)
    # cohort retention: [{cohort_month, months_since, customers, revenue, retention}]
    cohorts = models.JSONField(default=list, blank=True)
    # revenue by month from new vs returning customers
    revenue_mix = models.JSONField(default=list, blank=True)
    # sales without a customer (walk-ins), counted apart from the customers' transactions
    walk_in_transactions = models.PositiveIntegerField(default=0)
    # where the purchase model's prior came from: {"source": "pooled" | "default", ...}
    prior = models.JSONField(default=dict, blank=True)
    segment_counts = models.JSONField(default=dict, blank=True)
    lifecycle_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("insight run")
        verbose_name_plural = _("insight runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["merchant", "status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.merchant} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class CustomerInsight(models.Model):
    """What the engine knows about one customer as of the run's observation end."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="insight")
    run = models.ForeignKey(InsightRun, on_delete=models.CASCADE, related_name="customer_rows")
    # sufficient statistics (days)
    orders = models.PositiveIntegerField()
    frequency = models.PositiveIntegerField()
    recency_days = models.FloatField()
    age_days = models.FloatField(help_text="T: days from first purchase to observation end")
    days_since_last = models.FloatField()
    total_spend = models.DecimalField(**MONEY)
    monetary_value = models.DecimalField(**MONEY)
    first_purchase = models.DateTimeField()
    last_purchase = models.DateTimeField()
    # RFM
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    # the named segment, consistent with the lifecycle stage (analytics.consistency) ...
    segment = models.CharField(max_length=32)
    # ... and the classic RFM table's segment (ranks among the merchant's customers)
    rfm_segment = models.CharField(max_length=32, blank=True)
    lifecycle = models.CharField(max_length=16)
    # models: probability of being active, with its 80 % interval
    p_alive = models.FloatField(null=True)
    p_alive_low = models.FloatField(null=True)
    p_alive_high = models.FloatField(null=True)
    expected_purchases_30 = models.FloatField(null=True)
    expected_purchases_90 = models.FloatField(null=True)
    clv = models.DecimalField(**MONEY, null=True)
    clv_low = models.DecimalField(**MONEY, null=True)
    clv_high = models.DecimalField(**MONEY, null=True)
    # why the CLV is blank ("no_repeat_buyers", "no_spend"); empty when it is filled
    clv_note = models.CharField(max_length=32, blank=True)
    next_purchase_date = models.DateField(null=True)
    # {"habits", "usual", "next_visit"}: "ok" or why it is not shown (analytics.evidence)
    evidence = models.JSONField(default=dict, blank=True)
    # rhythm and habits
    typical_weekday = models.PositiveSmallIntegerField(null=True)
    typical_hour = models.PositiveSmallIntegerField(null=True)
    time_of_month = models.CharField(max_length=8, blank=True)
    payday_share = models.FloatField(null=True)
    median_gap_days = models.FloatField(null=True)
    usual_order = models.JSONField(default=list, blank=True)
    cross_sell = models.JSONField(default=list, blank=True)
    up_sell = models.JSONField(default=list, blank=True)
    # when a sale last updated the row (insights.live); null: as the run computed it
    live_updated_at = models.DateTimeField(null=True, blank=True)
    # the dashboard stage (insights.stages) at the start of each overview period, as the run's
    # models stage her sales before it: {"7": code, "30": ..., "90": ..., "365": ...}; a period
    # whose start came before her first purchase has no key (insights.overview)
    stages_before = models.JSONField(default=dict, blank=True)
    # the payment methods she has ever paid with, one bit each (insights.paid_with): written by
    # the run and kept current by each sale's live update, so the customer list's payment
    # filter reads this column instead of her transactions
    paid_with = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("customer insight")
        verbose_name_plural = _("customer insights")
        indexes = [
            models.Index(fields=["merchant", "segment"]),
            models.Index(fields=["merchant", "lifecycle"]),
            models.Index(fields=["merchant", "next_purchase_date"]),
            # the customer list's sorts by a stored column (customers.listing): a page's ids
            # read from the insight in index order, the customer's id breaking ties
            models.Index(
                fields=["merchant", "-last_purchase", "customer"], name="insight_sort_last_purchase"
            ),
            models.Index(fields=["merchant", "-clv", "customer"], name="insight_sort_clv"),
            models.Index(
                fields=["merchant", "-total_spend", "customer"], name="insight_sort_spend"
            ),
            models.Index(fields=["merchant", "-orders", "customer"], name="insight_sort_orders"),
            models.Index(fields=["merchant", "-p_alive", "customer"], name="insight_sort_p_alive"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(p_alive__isnull=True)
                | (models.Q(p_alive__gte=0) & models.Q(p_alive__lte=1)),
                name="insight_p_alive_is_a_probability",
            ),
            models.CheckConstraint(
                condition=models.Q(lifecycle__in=["new", "active", "loyal", "at_risk", "lapsed"]),
                name="insight_lifecycle_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.segment}/{self.lifecycle}"


class PeriodOverview(models.Model):
    """The overview's figures for one period ending at the run's observation end.

    Written by the run (:mod:`langganan.insights.overview`) in the same transaction as the
    customer insights, so the overview never computes over transactions when it is shown. The
    keys of ``data`` are described in :mod:`langganan.insights.overview`.
    """

    PERIODS = (7, 30, 90, 365)

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(InsightRun, on_delete=models.CASCADE, related_name="overviews")
    period_days = models.PositiveSmallIntegerField(choices=[(d, str(d)) for d in PERIODS])
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("period overview")
        verbose_name_plural = _("period overviews")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "period_days"], name="period_overview_once_per_run"
            ),
            models.CheckConstraint(
                condition=models.Q(period_days__in=[7, 30, 90, 365]),
                name="period_overview_days_valid",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "period_days"])]

    def __str__(self) -> str:
        return f"{self.merchant} {self.period_days}d {self.period_end:%Y-%m-%d}"


# -- the target market and "is it worth it?" (insights.market, insights.worth) -----------------


class TargetMarket(models.Model):
    """Who the merchant means to sell to, compared with who buys (:mod:`.market`).

    One per merchant. An empty list means "no preference" on that dimension (everyone is in
    the target). ``age_bands`` and ``payment_methods`` hold codes (:data:`.market.AGE_BANDS`,
    ``sales.PaymentMethod``); ``areas`` are the names of cities or provinces as typed, matched
    without regard to case. The message prices, when filled, are what one message costs on each
    channel for the worth page (:mod:`.worth`); empty: the channel account's price, else a
    default.
    """

    class SpendBasis(models.TextChoices):
        VISIT = "visit", _("per visit")
        MONTH = "month", _("per month")

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    areas = models.JSONField(_("areas"), default=list, blank=True)
    genders = models.JSONField(_("genders"), default=list, blank=True)
    age_bands = models.JSONField(_("age bands"), default=list, blank=True)
    spend_basis = models.CharField(
        _("spend per"), max_length=5, choices=SpendBasis.choices, default=SpendBasis.VISIT
    )
    spend_min = models.DecimalField(_("spend from (Rp)"), **MONEY, null=True, blank=True)
    spend_max = models.DecimalField(_("spend up to (Rp)"), **MONEY, null=True, blank=True)
    payment_methods = models.JSONField(_("payment methods"), default=list, blank=True)
    price_whatsapp = models.DecimalField(
        _("price of a WhatsApp message (Rp)"), **MONEY, null=True, blank=True
    )
    price_sms = models.DecimalField(_("price of an SMS (Rp)"), **MONEY, null=True, blank=True)
    price_email = models.DecimalField(_("price of an e-mail (Rp)"), **MONEY, null=True, blank=True)
    updated_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target market")
        verbose_name_plural = _("target markets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spend_min__isnull=True)
                | models.Q(spend_max__isnull=True)
                | models.Q(spend_min__lte=models.F("spend_max")),
                name="target_market_spend_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(spend_basis__in=["visit", "month"]),
                name="target_market_spend_basis_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} target"


class AcquisitionSpend(models.Model):
    """What the merchant spent on winning new customers (ads, promotions) in one month."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("amount (Rp)"), **MONEY)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("acquisition spend")
        verbose_name_plural = _("acquisition spend")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "month"], name="acquisition_once_a_month"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="acquisition_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} {self.month:%Y-%m} {self.amount}"


class MarketSnapshot(models.Model):
    """The buyers of one period grouped as the market page shows them (:mod:`.market`), stored
    by the run for the period ending at its observation end, and again when the target market
    is saved: the page reads these few hundred rows, not every buyer's insight.

    ``spend_basis``, ``spend_min`` and ``spend_max`` are the target's when the groups were
    computed (whether a buyer's spend is in the target is part of the grouping); ``today`` is
    the day the ages were counted on.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(InsightRun, on_delete=models.CASCADE, related_name="+")
    period_days = models.PositiveSmallIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    today = models.DateField()
    spend_basis = models.CharField(max_length=5)
    spend_min = models.DecimalField(**MONEY, null=True, blank=True)
    spend_max = models.DecimalField(**MONEY, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("market snapshot")
        verbose_name_plural = _("market snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "period_days"], name="market_snapshot_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} {self.period_days}d {self.period_end:%Y-%m-%d}"


class MarketGroup(models.Model):
    """One group of a :class:`MarketSnapshot`: the buyers (and their spend) sharing a city,
    province, gender, age band, spend band and whether their spend is in the target."""

    snapshot = models.ForeignKey(MarketSnapshot, on_delete=models.CASCADE, related_name="groups")
    city = models.CharField(max_length=200, blank=True)
    province = models.CharField(max_length=200, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    age_band = models.CharField(max_length=16)
    spend_band = models.PositiveSmallIntegerField()
    spend_in = models.BooleanField()
    customers = models.PositiveIntegerField()
    revenue = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("market group")
        verbose_name_plural = _("market groups")

    def __str__(self) -> str:
        return f"{self.snapshot} {self.city} {self.gender} {self.age_band} {self.spend_band}"


class WorthResult(models.Model):
    """The stored answer of :func:`langganan.insights.worth.worth_compute` for one period."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    period_days = models.PositiveSmallIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    computed_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("worth result")
        verbose_name_plural = _("worth results")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "period_days"], name="worth_result_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} {self.period_days}d {self.computed_at:%Y-%m-%d %H:%M}"
