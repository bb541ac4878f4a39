"""Seasonality of the demo café: Ramadan from the holiday calendar, multipliers averaging 1."""

from datetime import date

import numpy as np

from langganan.demo import seasons


def test_ramadan_is_the_thirty_days_before_idul_fitri():
    # Idul Fitri 1446 H fell on 31 March 2025.
    assert seasons.ramadan_periods(date(2025, 1, 1), date(2025, 12, 31)) == [
        (date(2025, 3, 1), date(2025, 3, 30))
    ]


def test_daily_multipliers_average_one_and_favour_payday():
    calendar = seasons.sales_calendar(date(2024, 1, 1), 548)
    assert abs(calendar.multiplier.mean() - 1) < 1e-12
    payday = [m for d, m in zip(calendar.days, calendar.multiplier, strict=True)
              if seasons.is_payday_period(d)]  # fmt: skip
    mid = [m for d, m in zip(calendar.days, calendar.multiplier, strict=True)
           if not seasons.is_payday_period(d)]  # fmt: skip
    assert np.mean(payday) > 1.3 * np.mean(mid)


def test_lebaran_week_is_quiet():
    calendar = seasons.sales_calendar(date(2024, 1, 1), 548)
    by_day = dict(zip(calendar.days, calendar.multiplier, strict=True))
    assert by_day[date(2024, 4, 10)] < 0.6 * np.median(calendar.multiplier)


def test_without_seasons_every_day_weighs_the_same():
    calendar = seasons.sales_calendar(date(2024, 1, 1), 100, seasonal=False)
    assert np.all(calendar.multiplier == 1.0)


def test_ramadan_moves_the_hours_of_buying_to_the_evening():
    evening = seasons.HOURS >= seasons.EVENING_FROM
    normal = seasons.hour_probabilities(seasons.BASE_HOUR_WEIGHTS, False)[evening].sum()
    ramadan = seasons.hour_probabilities(seasons.BASE_HOUR_WEIGHTS, True)[evening].sum()
    assert ramadan > normal + 0.2
