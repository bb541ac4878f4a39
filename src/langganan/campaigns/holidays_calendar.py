"""Indonesian holidays for greetings, from the maintained ``holidays`` package.

The package computes each year's dates (the Islamic and Chinese calendars included, with
government-announced dates where known and estimates beyond); this module only gives the
holidays a merchant greets for stable keys and Indonesian and English names.
"""

from __future__ import annotations

from datetime import date

import holidays

#: key → (name in the ``holidays`` calendar, Indonesian name, English name)
HOLIDAYS: dict[str, tuple[str, str, str]] = {
    "tahun_baru": ("New Year's Day", "Tahun Baru", "New Year"),
    "imlek": ("Lunar New Year", "Imlek", "Chinese New Year"),
    "nyepi": ("Day of Silence", "Hari Raya Nyepi", "Nyepi"),
    "idul_fitri": ("Eid al-Fitr", "Idul Fitri", "Eid al-Fitr"),
    "idul_adha": ("Eid al-Adha", "Idul Adha", "Eid al-Adha"),
    "waisak": ("Vesak Day", "Waisak", "Vesak"),
    "tahun_baru_islam": ("Islamic New Year", "Tahun Baru Islam", "Islamic New Year"),
    "maulid": ("Prophet's Birthday", "Maulid Nabi", "the Prophet's Birthday"),
    "isra_miraj": ("Isra' and Mi'raj", "Isra Mikraj", "Isra and Mi'raj"),
    "paskah": ("Easter Sunday", "Paskah", "Easter"),
    "natal": ("Christmas Day", "Natal", "Christmas"),
    "hut_ri": ("Independence Day", "HUT RI", "Indonesian Independence Day"),
}

ERR_UNKNOWN_HOLIDAY = "Unknown holiday {key!r}; choose one of: {keys}."


def holiday_name(key: str, language: str = "id") -> str:
    _calendar, name_id, name_en = HOLIDAYS[key]
    return name_en if language == "en" else name_id


def holiday_dates(key: str, years: list[int]) -> list[date]:
    """The dates of a holiday (its first day) in ``years``, ascending."""
    calendar_name = HOLIDAYS[key][0]
    found = []
    for day, names in holidays.country_holidays("ID", years=years).items():
        for name in str(names).split("; "):
            base = name.replace(" (estimated)", "").strip()
            if base == calendar_name:
                found.append(day)
    return sorted(set(found))


def next_holiday(key: str, today: date) -> date | None:
    """The first day of the holiday on or after ``today`` (this year or next)."""
    upcoming = [d for d in holiday_dates(key, [today.year, today.year + 1]) if d >= today]
    return upcoming[0] if upcoming else None
