"""How to greet a customer: Kak, Mas, Mbak, Pak or Bu.

Indonesian custom, as merchants apply it at the counter:

* unknown gender → **Kak** (neutral, friendly);
* known gender, unknown age → **Kak** as well (calling an older customer "Mas" is a small
  offence, calling a young one "Pak" a smaller one; "Kak" offends nobody);
* under 17 → **Kak**;
* 17 to 34 → **Mas** (men) / **Mbak** (women);
* 35 and older → **Pak** (men) / **Bu** (women).

A greeting set on the customer always wins over the derived one.
"""

from __future__ import annotations

from datetime import date

YOUNG_ADULT_AGE = 17
OLDER_ADULT_AGE = 35


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def derive_greeting(gender: str, birth_date: date | None, today: date) -> str:
    """Greeting for ``gender`` ("M", "F" or "") and ``birth_date`` as of ``today``."""
    age = age_on(birth_date, today)
    if gender not in ("M", "F") or age is None or age < YOUNG_ADULT_AGE:
        return "Kak"
    if age < OLDER_ADULT_AGE:
        return "Mas" if gender == "M" else "Mbak"
    return "Pak" if gender == "M" else "Bu"
