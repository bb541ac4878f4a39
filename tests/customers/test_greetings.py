from datetime import date

import pytest

from langganan.customers.greetings import age_on, derive_greeting
from tests.factories import CustomerFactory

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("gender", "birth_date", "greeting"),
    [
        ("", date(1990, 1, 1), "Kak"),  # unknown gender
        ("F", None, "Kak"),  # unknown age
        ("M", date(2012, 5, 1), "Kak"),  # 14 years old
        ("M", date(2000, 5, 1), "Mas"),  # 26
        ("F", date(2000, 5, 1), "Mbak"),
        ("M", date(1980, 5, 1), "Pak"),  # 46
        ("F", date(1980, 5, 1), "Bu"),
        ("F", date(1991, 11, 23), "Mbak"),  # turns 35 tomorrow
        ("F", date(1991, 11, 22), "Bu"),  # turns 35 today
        ("M", date(2009, 11, 22), "Mas"),  # turns 17 today
    ],
)
def test_greeting_is_derived_from_gender_and_age(gender, birth_date, greeting):
    assert derive_greeting(gender, birth_date, TODAY) == greeting


def test_age_counts_completed_years_only():
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26


def test_a_preferred_greeting_set_by_the_merchant_wins(db):
    customer = CustomerFactory(gender="M", birth_date=date(1960, 1, 1), greeting="Mas")
    assert customer.greeting_on(TODAY) == "Mas"


def test_salutation_uses_the_first_name(db):
    customer = CustomerFactory(full_name="Rina Wulandari", gender="F", greeting="")
    assert customer.salutation == "Kak Rina"
