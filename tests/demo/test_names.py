"""Demo people: names by gender, valid and unique phones, plausible profiles."""

from datetime import date

import numpy as np
from django.core.validators import validate_email

from langganan.core.phones import normalize_phone
from langganan.demo import names

TODAY = date(2025, 6, 30)


def people(n=500, seed=7):
    return names.random_people(np.random.default_rng(seed), n, TODAY)


def test_every_phone_is_a_valid_indonesian_mobile_from_a_known_operator_prefix():
    phones = [p.phone for p in people() if p.phone]
    assert phones
    for phone in phones:
        assert normalize_phone(phone) == phone
        assert "0" + phone[3:6] in names.MOBILE_PREFIXES


def test_phones_are_unique_and_a_few_customers_have_none():
    crowd = people(2000)
    phones = [p.phone for p in crowd if p.phone]
    assert len(phones) == len(set(phones))
    assert any(p.phone is None for p in crowd)


def test_first_names_match_the_recorded_gender():
    for person in people():
        first_word = person.full_name.split(" ")[0]
        if person.gender == "M":
            assert first_word in names.MALE_FIRST_NAMES
        elif person.gender == "F":
            assert any(person.full_name.startswith(n) for n in names.FEMALE_FIRST_NAMES)


def test_many_people_have_a_single_name():
    crowd = people(1000)
    single = sum(1 for p in crowd if " " not in p.full_name and p.full_name != "Ni Luh")
    assert 0.15 < single / len(crowd) < 0.45


def test_some_people_have_valid_emails_on_reserved_example_domains():
    emails = [p.email for p in people() if p.email]
    assert 0.3 < len(emails) / 500 < 0.6
    for email in emails:
        validate_email(email)
        assert email.rsplit("@", 1)[1] in names.EMAIL_DOMAINS


def test_some_birthdays_are_unknown_and_the_rest_are_adults():
    crowd = people(1000)
    known = [p.birth_date for p in crowd if p.birth_date]
    assert 0.05 < 1 - len(known) / len(crowd) < 0.3
    assert all(16 <= (TODAY - b).days / 365.25 <= 71 for b in known)


def test_people_live_around_jakarta():
    cities = {c[0] for c in names.CITIES} | {""}
    assert {p.city for p in people()} <= cities
