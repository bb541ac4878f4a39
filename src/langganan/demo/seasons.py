"""When a Jakarta café sells: day-of-week, payday, Ramadan and Lebaran, and hours of the day.

The daily intensity multipliers modulate every customer's purchase rate. They are scaled to
average exactly 1 over the simulated period, so a customer's λ keeps its meaning ("purchases
per day on average") and the BG/NBD parameters stay comparable with the literature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

# Monday … Sunday. Offices nearby keep weekdays busy; weekends bring friends and families.
WEEKDAY_FACTORS = (0.92, 0.92, 0.95, 0.97, 1.08, 1.18, 1.0)
# Gajian: salaries arrive around the 25th; the last days and first days of a month are busy.
PAYDAY_FACTOR = 1.35  # day 25 to the end of the month
EARLY_MONTH_FACTOR = 1.2  # days 1 to 5
MID_MONTH_FACTOR = 0.85  # days 6 to 24
RAMADAN_DAY_FACTOR = 0.95  # daytime sales drop, buka-puasa evenings make up most of it
LEBARAN_FACTOR = 0.45  # Idul Fitri and the week after: Jakarta empties (mudik)
LEBARAN_DAYS = 7
RAMADAN_LENGTH = 30  # days before Idul Fitri

OPENING_HOUR = 7
HOURS = np.arange(OPENING_HOUR, 22)  # the café is open 07:00–22:00
# Relative sales by hour: breakfast coffee, lunch, afternoon break, evening hangout.
BASE_HOUR_WEIGHTS = np.array([4, 8, 7, 5, 6, 9, 8, 5, 6, 7, 7, 6, 6, 5, 3], dtype=float)
# In Ramadan daytime buying drops; from ngabuburit to buka puasa and after it rises.
RAMADAN_HOUR_FACTORS = np.array(
    [0.3, 0.3, 0.35, 0.35, 0.4, 0.4, 0.45, 0.5, 0.7, 1.3, 2.6, 2.8, 2.2, 1.6, 1.2]
)
EVENING_FROM = 17  # "evening" in reports: 17:00 and later


def is_payday_period(day: date) -> bool:
    return day.day >= 25 or day.day <= 5


def idul_fitri_dates(first_year: int, last_year: int) -> list[date]:
    """First day of Idul Fitri per year, from the ``holidays`` package's Indonesian calendar."""
    calendar = holidays.country_holidays(
        "ID", years=range(first_year, last_year + 1), language="en_US"
    )
    return sorted(
        day
        for day, name in calendar.items()
        if name.startswith("Eid al-Fitr") and "Second Day" not in name
    )


def ramadan_periods(start: date, end: date) -> list[tuple[date, date]]:
    """Ramadan as the :data:`RAMADAN_LENGTH` days before each Idul Fitri, inclusive bounds."""
    periods = []
    for eid in idul_fitri_dates(start.year, end.year + 1):
        first, last = eid - timedelta(days=RAMADAN_LENGTH), eid - timedelta(days=1)
        if last >= start and first <= end:
            periods.append((first, last))
    return periods


@dataclass(frozen=True)
class SalesCalendar:
    """Per-day facts for ``n_days`` days from ``start``."""

    start: date
    days: tuple[date, ...]
    multiplier: np.ndarray  # mean 1 over the period
    ramadan: np.ndarray  # bool per day
    ramadan_periods: tuple[tuple[date, date], ...]

    @property
    def n_days(self) -> int:
        return len(self.days)


def sales_calendar(start: date, n_days: int, *, seasonal: bool = True) -> SalesCalendar:
    """Daily intensity multipliers; all ones when ``seasonal`` is false."""
    days = tuple(start + timedelta(days=i) for i in range(n_days))
    end = days[-1]
    periods = tuple(ramadan_periods(start, end))
    ramadan = np.array([any(a <= d <= b for a, b in periods) for d in days], dtype=bool)
    if not seasonal:
        return SalesCalendar(start, days, np.ones(n_days), ramadan, periods)
    lebaran = set()
    for _first, last in periods:
        eid = last + timedelta(days=1)
        lebaran.update(eid + timedelta(days=i) for i in range(LEBARAN_DAYS))
    m = np.empty(n_days)
    for i, day in enumerate(days):
        factor = WEEKDAY_FACTORS[day.weekday()]
        if day.day >= 25:
            factor *= PAYDAY_FACTOR
        elif day.day <= 5:
            factor *= EARLY_MONTH_FACTOR
        else:
            factor *= MID_MONTH_FACTOR
        if ramadan[i]:
            factor *= RAMADAN_DAY_FACTOR
        if day in lebaran:
            factor *= LEBARAN_FACTOR
        m[i] = factor
    return SalesCalendar(start, days, m / m.mean(), ramadan, periods)


def hour_probabilities(weights: np.ndarray, ramadan: bool) -> np.ndarray:
    """Probabilities over :data:`HOURS` for one customer (or walk-ins), in or out of Ramadan."""
    w = weights * RAMADAN_HOUR_FACTORS if ramadan else weights
    return w / w.sum()


def personal_hour_weights(rng: np.random.Generator) -> np.ndarray:
    """A customer's own rhythm: the café's hours mixed with a personal favourite time."""
    favourite = rng.choice(len(HOURS), p=BASE_HOUR_WEIGHTS / BASE_HOUR_WEIGHTS.sum())
    spread = rng.uniform(1.0, 2.5)
    peak = np.exp(-0.5 * ((np.arange(len(HOURS)) - favourite) / spread) ** 2)
    base = BASE_HOUR_WEIGHTS / BASE_HOUR_WEIGHTS.sum()
    habit = rng.uniform(0.4, 0.85)
    return (1 - habit) * base + habit * peak / peak.sum()
