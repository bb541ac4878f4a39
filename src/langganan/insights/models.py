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

    class Meta:
        verbose_name = _("customer insight")
        verbose_name_plural = _("customer insights")
        indexes = [
            models.Index(fields=["merchant", "segment"]),
            models.Index(fields=["merchant", "lifecycle"]),
            models.Index(fields=["merchant", "next_purchase_date"]),
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
