"""ROI arithmetic on constructed cases whose answers were worked out by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from langganan.campaigns.roi import Interval, lift_estimate, roi_of, welch

# Treated window revenues 0, 50.000, 100.000, 0 and holdout 0, 25.000:
#   means 37.500 and 12.500, difference 25.000, incremental revenue 25.000 × 4 = 100.000;
#   sample variances (n − 1): treated 6.875e9 / 3, holdout 3.125e8 / 1;
#   squared standard error 6.875e9 / 12 + 3.125e8 / 2 = 8.75e9 / 12 → se = 27.003,086;
#   Welch–Satterthwaite df = (8.75e9/12)² / ((6.875e9/12)²/3 + (1.5625e8)²/1) = 147/37 = 3,97297;
#   t(0,975; 147/37) = 2,78391 → difference 25.000 ± 75.174,16 → × 4 = [−200.697, 400.697].
TREATED = [0, 50000, 100000, 0]
HOLDOUT = [0, 25000]
SE = math.sqrt(8.75e9 / 12)
DF = 147 / 37
T_975 = 2.7839097992


def test_welch_gives_the_hand_computed_difference_standard_error_and_df():
    diff, se, df = welch(TREATED, HOLDOUT)

    assert diff == 25000
    assert se == pytest.approx(27003.0862, abs=1e-3)
    assert se == pytest.approx(SE)
    assert df == pytest.approx(DF)


def test_group_results_on_the_constructed_case():
    lift = lift_estimate(treated=TREATED, holdout=HOLDOUT)

    assert lift.treated.n == 4
    assert lift.treated.conversions == 2
    assert lift.treated.conversion_rate == 0.5
    assert lift.treated.revenue == Decimal("150000")
    assert lift.treated.revenue_per_customer == Decimal("37500")
    assert lift.holdout.n == 2
    assert lift.holdout.conversion_rate == 0.5
    assert lift.holdout.revenue_per_customer == Decimal("12500")


def test_incremental_revenue_and_its_interval_on_the_constructed_case():
    lift = lift_estimate(treated=TREATED, holdout=HOLDOUT)

    assert lift.incremental_revenue == Decimal("100000")
    half_width = T_975 * SE * 4  # 300.696,63
    assert lift.incremental_interval == Interval(
        low=Decimal(round(100000 - half_width)), high=Decimal(round(100000 + half_width))
    )
    assert lift.incremental_interval.low == Decimal("-200697")
    assert lift.incremental_interval.high == Decimal("400697")
    assert isinstance(lift.incremental_revenue, Decimal)


def test_conversion_difference_and_its_interval_clipped_to_plus_minus_one():
    # converted: treated 0,1,1,0 (variance 1/3), holdout 0,1 (variance 1/2): difference 0,
    # se² = 1/12 + 1/4 = 1/3, df = (1/3)² / ((1/12)²/3 + (1/4)²/1) = 12/7; t(0,975; 12/7) ≈ 5,07
    # → ±2,93, which is clipped to the possible range [−1, 1].
    lift = lift_estimate(treated=TREATED, holdout=HOLDOUT)

    assert lift.conversion_difference == 0
    assert lift.conversion_interval == (-1.0, 1.0)


def test_a_narrow_conversion_interval_is_not_clipped():
    # 60 of 100 treated bought vs 40 of 100 held out: difference 0,20,
    # se² = 0,24·100/99/100 · 2 = 0,0048485 → se 0,069631; df = 198; t = 1,97202
    treated = [1] * 60 + [0] * 40
    holdout = [1] * 40 + [0] * 60

    lift = lift_estimate(treated=treated, holdout=holdout)

    assert lift.conversion_difference == pytest.approx(0.2)
    low, high = lift.conversion_interval
    assert low == pytest.approx(0.2 - 1.97202 * 0.0696311, abs=1e-4)
    assert high == pytest.approx(0.2 + 1.97202 * 0.0696311, abs=1e-4)


def test_decimal_revenues_keep_the_point_estimate_exact():
    lift = lift_estimate(
        treated=[Decimal("10000.50"), Decimal("0"), Decimal("20000.25")],
        holdout=[Decimal("0"), Decimal("3000")],
    )

    # (30000.75 / 3 − 1500) × 3 = 25500.75 → Rp 25.501
    assert lift.incremental_revenue == Decimal("25501")


def test_a_holdout_of_one_borrows_the_treated_variance():
    # treated 0, 100 (variance 5000), holdout 20: se = √(5000 · (1/2 + 1)) = 86,6025; df = 1;
    # t(0,975; 1) = 12,7062 → difference 30 ± 1100,39 → × 2
    lift = lift_estimate(treated=[0, 100], holdout=[20])

    assert lift.incremental_revenue == Decimal("60")
    assert lift.degrees_of_freedom == 1
    assert lift.standard_error == pytest.approx(86.6025, abs=1e-4)
    assert lift.incremental_interval == Interval(low=Decimal("-2141"), high=Decimal("2261"))


def test_one_customer_in_each_group_has_an_estimate_but_no_interval():
    lift = lift_estimate(treated=[50000], holdout=[0])

    assert lift.incremental_revenue == Decimal("50000")
    assert lift.incremental_interval is None
    assert lift.conversion_difference == 1
    assert lift.conversion_interval is None


def test_identical_customers_give_an_interval_of_width_zero():
    lift = lift_estimate(treated=[1000, 1000, 1000], holdout=[0, 0])

    assert lift.incremental_revenue == Decimal("3000")
    assert lift.incremental_interval == Interval(low=Decimal("3000"), high=Decimal("3000"))


def test_without_a_holdout_there_is_nothing_to_compare():
    lift = lift_estimate(treated=[1000, 0], holdout=[])

    assert lift.treated.n == 2
    assert lift.holdout.n == 0
    assert lift.holdout.conversion_rate is None
    assert lift.holdout.revenue_per_customer is None
    assert lift.incremental_revenue is None
    assert lift.incremental_interval is None
    assert lift.conversion_difference is None


def test_no_recipients_at_all():
    lift = lift_estimate(treated=[], holdout=[])

    assert lift.treated.n == lift.holdout.n == 0
    assert lift.incremental_revenue is None


def test_a_refund_only_window_does_not_count_as_a_conversion_by_default():
    lift = lift_estimate(treated=[-5000, 0], holdout=[0, 0])

    assert lift.treated.conversions == 0
    assert lift.incremental_revenue == Decimal("-5000")


def test_conversion_flags_must_match_the_revenues():
    with pytest.raises(ValueError):
        lift_estimate(treated=[0, 1], holdout=[0], treated_converted=[True])


def test_roi_is_gain_less_cost_over_cost():
    assert roi_of(gain=Decimal("100000"), cost=Decimal("10050")) == Decimal("8.9502")
    assert roi_of(gain=Decimal("5000"), cost=Decimal("10000")) == Decimal("-0.5000")


def test_roi_is_none_without_cost_or_without_an_estimate():
    assert roi_of(gain=Decimal("100000"), cost=Decimal("0")) is None
    assert roi_of(gain=None, cost=Decimal("1000")) is None
