"""What a campaign earned: treated vs holdout over each recipient's attribution window.

The comparison is *intention to treat*: every recipient assigned to the treated group counts,
whether or not a message actually went out (consent withdrawn, quiet hours, a failed send), and
the holdout group was never messaged. Both groups were drawn at random from the same customers at
the same moments, so the difference between them is what the campaign caused.

For each recipient the window is ``(assigned_at, assigned_at + campaign.attribution_days]``;
window revenue is the sum of the customer's transaction totals in it (refunds are negative
totals, so it is net of refunds made in the window) and a recipient *converted* when at least one
sale falls in it.

- **Incremental revenue** = (revenue per treated customer − revenue per holdout customer) ×
  treated customers, with a confidence interval from Welch's t: the standard error of the
  difference of means comes from the two sample variances, the degrees of freedom from the
  Welch–Satterthwaite equation. When one group has a single customer its variance cannot be
  estimated and the other group's is used for both (df = that group's n − 1); when neither has
  two, there is no interval.
- **Conversion difference** (treated − holdout) gets the same treatment on the 0/1 outcomes
  (its interval clipped to [−1, 1]).
- **Cost** = messages sent (sent, delivered or read) × the channel's price per message (manual
  WhatsApp messages go from the staff's own phone and cost nothing) + discounts given by the
  vouchers issued to the recipients (redemptions not reversed) + bonus points given × the loyalty
  program's value of one point.
- **ROI** = (incremental revenue − cost) / cost; none when nothing was spent.

Money is :class:`~decimal.Decimal` throughout and rounded to whole Rupiah at the end; the
statistics (variances, the t quantile) use floats internally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from scipy import stats

from .models import Campaign, ChannelAccount, Group, Message, MessageStatus, Recipient

CONFIDENCE = 0.95
#: Statuses of a message that went out (and so was paid for).
SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)

RUPIAH = Decimal("1")
RATIO = Decimal("0.0001")
ZERO = Decimal("0")

Number = Decimal | int | float


def _rupiah(amount: Decimal) -> Decimal:
    return amount.quantize(RUPIAH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` around an estimate."""

    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class GroupResult:
    """One group's outcome over the attribution windows."""

    n: int
    conversions: int
    #: share of the group with at least one sale in the window (None for an empty group)
    conversion_rate: float | None
    revenue: Decimal
    #: mean window revenue, whole Rupiah (None for an empty group)
    revenue_per_customer: Decimal | None


@dataclass(frozen=True)
class Lift:
    """Treated vs holdout from the two lists of window outcomes (see :func:`lift_estimate`)."""

    treated: GroupResult
    holdout: GroupResult
    #: conversion rate treated − holdout (a fraction: 0.05 = 5 points)
    conversion_difference: float | None
    conversion_interval: tuple[float, float] | None
    #: (rpc treated − rpc holdout) × n treated, whole Rupiah; None without both groups
    incremental_revenue: Decimal | None
    incremental_interval: Interval | None
    #: standard error of the difference of means and the Welch–Satterthwaite df (diagnostics)
    standard_error: float | None
    degrees_of_freedom: float | None
    confidence: float


@dataclass(frozen=True)
class Cost:
    messages_sent: int
    messages: Decimal
    vouchers_redeemed: int
    discounts: Decimal
    points_given: int
    point_value: Decimal
    points: Decimal

    @property
    def total(self) -> Decimal:
        return self.messages + self.discounts + self.points


@dataclass(frozen=True)
class CampaignReport:
    """What :func:`campaign_report` returns; money in whole Rupiah."""

    campaign_id: int
    attribution_days: int
    lift: Lift
    cost: Cost
    #: (incremental revenue − cost) / cost; None when the cost is 0 or there is no holdout
    roi: Decimal | None
    roi_interval: Interval | None
    #: when the last recipient's window closes (None without recipients)
    window_closes_at: datetime | None
    #: True while a recipient's window is still open (the numbers can still change)
    provisional: bool
    as_of: datetime

    @property
    def treated(self) -> GroupResult:
        return self.lift.treated

    @property
    def holdout(self) -> GroupResult:
        return self.lift.holdout

    @property
    def incremental_revenue(self) -> Decimal | None:
        return self.lift.incremental_revenue

    @property
    def net_gain(self) -> Decimal | None:
        """Incremental revenue minus cost."""
        if self.lift.incremental_revenue is None:
            return None
        return self.lift.incremental_revenue - self.cost.total


# --- the arithmetic ------------------------------------------------------------------------


def _mean_and_variance(values: Sequence[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    return mean, math.fsum((v - mean) ** 2 for v in values) / (n - 1)


def welch(
    treated: Sequence[float], holdout: Sequence[float]
) -> tuple[float, float | None, float | None]:
    """Difference of means (treated − holdout), its standard error and degrees of freedom.

    Welch's unequal-variance form; a group of one borrows the other group's variance (df = the
    other group's n − 1). Standard error and df are None when neither group has two values;
    df is None when the standard error is 0 (both groups constant).
    """
    if not treated or not holdout:
        raise ValueError("both groups need at least one value")
    n1, n2 = len(treated), len(holdout)
    m1, v1 = _mean_and_variance(treated)
    m2, v2 = _mean_and_variance(holdout)
    diff = m1 - m2
    if v1 is None and v2 is None:
        return diff, None, None
    if v1 is None or v2 is None:
        pooled = v2 if v1 is None else v1
        assert pooled is not None
        se = math.sqrt(pooled * (1 / n1 + 1 / n2))
        df: float | None = float((n2 if v1 is None else n1) - 1)
        return diff, se, (df if se > 0 else None)
    a, b = v1 / n1, v2 / n2
    se = math.sqrt(a + b)
    if se == 0:
        return diff, 0.0, None
    df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
    return diff, se, df


def _interval(diff: float, se: float | None, df: float | None, confidence: float):
    if se is None:
        return None
    if se == 0 or df is None:
        return diff, diff
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    return diff - t * se, diff + t * se


def _group(revenues: Sequence[Decimal], converted: Sequence[bool]) -> GroupResult:
    n = len(revenues)
    total = sum(revenues, ZERO)
    conversions = sum(1 for c in converted if c)
    return GroupResult(
        n=n,
        conversions=conversions,
        conversion_rate=conversions / n if n else None,
        revenue=_rupiah(total),
        revenue_per_customer=_rupiah(total / n) if n else None,
    )


def lift_estimate(
    *,
    treated: Sequence[Number],
    holdout: Sequence[Number],
    treated_converted: Sequence[bool] | None = None,
    holdout_converted: Sequence[bool] | None = None,
    confidence: float = CONFIDENCE,
) -> Lift:
    """Treated vs holdout from each customer's window revenue (pure arithmetic, no database).

    ``*_converted`` say who had at least one sale in the window; by default a customer with
    positive window revenue converted.
    """
    rev_t = [Decimal(str(v)) for v in treated]
    rev_h = [Decimal(str(v)) for v in holdout]
    conv_t = list(treated_converted) if treated_converted is not None else [v > 0 for v in rev_t]
    conv_h = list(holdout_converted) if holdout_converted is not None else [v > 0 for v in rev_h]
    if len(conv_t) != len(rev_t) or len(conv_h) != len(rev_h):
        raise ValueError("one conversion flag per customer expected")
    group_t, group_h = _group(rev_t, conv_t), _group(rev_h, conv_h)

    conversion_difference = conversion_interval = None
    incremental = incremental_interval = None
    se = df = None
    if rev_t and rev_h:
        n_t = len(rev_t)
        # the point estimate exactly, in Decimal: (Σt / n_t − Σh / n_h) × n_t
        exact = (sum(rev_t, ZERO) / n_t - sum(rev_h, ZERO) / len(rev_h)) * n_t
        incremental = _rupiah(exact)
        diff, se, df = welch([float(v) for v in rev_t], [float(v) for v in rev_h])
        bounds = _interval(diff, se, df, confidence)
        if bounds is not None:
            incremental_interval = Interval(
                low=_rupiah(Decimal(repr(bounds[0])) * n_t),
                high=_rupiah(Decimal(repr(bounds[1])) * n_t),
            )
        c_diff, c_se, c_df = welch([float(c) for c in conv_t], [float(c) for c in conv_h])
        conversion_difference = c_diff
        c_bounds = _interval(c_diff, c_se, c_df, confidence)
        if c_bounds is not None:  # a difference of two shares lies in [−1, 1]
            conversion_interval = (max(-1.0, c_bounds[0]), min(1.0, c_bounds[1]))
    return Lift(
        treated=group_t,
        holdout=group_h,
        conversion_difference=conversion_difference,
        conversion_interval=conversion_interval,
        incremental_revenue=incremental,
        incremental_interval=incremental_interval,
        standard_error=se,
        degrees_of_freedom=df,
        confidence=confidence,
    )


def roi_of(*, gain: Decimal | None, cost: Decimal) -> Decimal | None:
    """(gain − cost) / cost to four places; None when there is no gain estimate or no cost."""
    if gain is None or cost <= 0:
        return None
    return ((gain - cost) / cost).quantize(RATIO, rounding=ROUND_HALF_UP)


# --- the database ----------------------------------------------------------------------------


def window_outcomes(
    *,
    campaign: Campaign,
    assigned_from: datetime | None = None,
    assigned_until: datetime | None = None,
) -> dict[str, tuple[list[Decimal], list[bool]]]:
    """Per group, each recipient's window revenue and whether they bought (one query); only
    the recipients assigned in [``assigned_from``, ``assigned_until``) when given (the worth
    page's period)."""
    from langganan.sales.models import Transaction, TransactionKind

    window_end = ExpressionWrapper(
        F("assigned_at") + timedelta(days=campaign.attribution_days),
        output_field=DateTimeField(),
    )
    in_window = Transaction.objects.filter(
        merchant_id=campaign.merchant_id,
        customer_id=OuterRef("customer_id"),
        occurred_at__gt=OuterRef("assigned_at"),
        occurred_at__lte=OuterRef("window_end"),
    )
    revenue = (
        in_window.order_by()
        .values("customer_id")
        .annotate(revenue=Sum("total"))
        .values("revenue")[:1]
    )
    money = DecimalField(max_digits=18, decimal_places=2)
    recipients = Recipient.objects.filter(campaign=campaign)
    if assigned_from is not None:
        recipients = recipients.filter(assigned_at__gte=assigned_from)
    if assigned_until is not None:
        recipients = recipients.filter(assigned_at__lt=assigned_until)
    rows = (
        recipients.annotate(window_end=window_end)
        .annotate(
            revenue=Coalesce(
                Subquery(revenue, output_field=money), Value(ZERO), output_field=money
            ),
            converted=Exists(in_window.filter(kind=TransactionKind.SALE)),
        )
        .order_by("id")
        .values_list("group", "revenue", "converted")
    )
    out: dict[str, tuple[list[Decimal], list[bool]]] = {g: ([], []) for g in Group.values}
    for group, amount, converted in rows:
        revenues, flags = out[group]
        revenues.append(Decimal(amount or 0))
        flags.append(bool(converted))
    return out


def campaign_cost(*, campaign: Campaign) -> Cost:
    """Messages sent, discounts given and points given by the campaign (see the module doc)."""
    from langganan.loyalty.models import Program, VoucherRedemption

    sent = (
        Message.objects.filter(campaign=campaign, status__in=SENT_STATUSES)
        .values("channel", "manual")
        .annotate(n=Count("id"))
        .order_by()
    )
    prices = dict(
        ChannelAccount.objects.filter(merchant_id=campaign.merchant_id).values_list(
            "channel", "price_per_message"
        )
    )
    messages_sent, message_cost = 0, ZERO
    for row in sent:
        messages_sent += row["n"]
        if not row["manual"]:
            message_cost += prices.get(row["channel"], ZERO) * row["n"]

    vouchers = Recipient.objects.filter(campaign=campaign, voucher__isnull=False).values(
        "voucher_id"
    )
    redemptions = VoucherRedemption.objects.filter(
        voucher_id__in=vouchers, reversed_at__isnull=True
    ).aggregate(n=Count("id"), discount=Sum("discount"))

    points_given = (
        Recipient.objects.filter(campaign=campaign).aggregate(p=Sum("bonus_points"))["p"] or 0
    )
    point_value = ZERO
    if points_given:
        point_value = (
            Program.objects.filter(merchant_id=campaign.merchant_id)
            .values_list("point_value", flat=True)
            .first()
        ) or ZERO
    return Cost(
        messages_sent=messages_sent,
        messages=_rupiah(message_cost),
        vouchers_redeemed=redemptions["n"] or 0,
        discounts=_rupiah(redemptions["discount"] or ZERO),
        points_given=points_given,
        point_value=point_value,
        points=_rupiah(point_value * points_given),
    )


def campaign_report(*, campaign: Campaign, now: datetime | None = None) -> CampaignReport:
    """Treated vs holdout, incremental revenue with its interval, cost and ROI (module doc)."""
    now = now or timezone.now()
    outcomes = window_outcomes(campaign=campaign)
    rev_t, conv_t = outcomes[Group.TREATED]
    rev_h, conv_h = outcomes[Group.HOLDOUT]
    lift = lift_estimate(
        treated=rev_t, holdout=rev_h, treated_converted=conv_t, holdout_converted=conv_h
    )
    cost = campaign_cost(campaign=campaign)
    last_assigned = (
        Recipient.objects.filter(campaign=campaign)
        .order_by("-assigned_at")
        .values_list("assigned_at", flat=True)
        .first()
    )
    closes_at = last_assigned + timedelta(days=campaign.attribution_days) if last_assigned else None
    roi = roi_of(gain=lift.incremental_revenue, cost=cost.total)
    roi_interval = None
    if roi is not None and lift.incremental_interval is not None:
        low = roi_of(gain=lift.incremental_interval.low, cost=cost.total)
        high = roi_of(gain=lift.incremental_interval.high, cost=cost.total)
        assert low is not None and high is not None
        roi_interval = Interval(low=low, high=high)
    return CampaignReport(
        campaign_id=campaign.pk,
        attribution_days=campaign.attribution_days,
        lift=lift,
        cost=cost,
        roi=roi,
        roi_interval=roi_interval,
        window_closes_at=closes_at,
        provisional=closes_at is None or closes_at > now,
        as_of=now,
    )
