"""People for the demo merchant: Indonesian names, phones, emails, birthdays and home cities.

The lists are written for this project. Many Indonesians carry a single name (Sukarno,
Wulandari); others a given name and a second name, which may be a second given name
(Dewi Lestari, Budi Santoso) or a family/clan name (Siregar, Nasution, Wijaya).
Everything here is pure Python + numpy; nothing touches Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from langganan.core.phones import normalize_phone

MALE_FIRST_NAMES = (
    "Budi", "Agus", "Andi", "Arif", "Bambang", "Dedi", "Dimas", "Eko", "Fajar", "Faisal",
    "Hendra", "Irfan", "Joko", "Rizky", "Yoga", "Teguh", "Wahyu", "Bayu", "Reza", "Ilham",
    "Adi", "Aditya", "Raka", "Galih", "Hadi", "Taufik", "Yusuf", "Rudi", "Slamet", "Surya",
    "Gilang", "Fikri", "Rangga", "Anton", "Dodi", "Iwan", "Kevin", "Michael", "Daniel", "Yohanes",
    "Putu", "Made", "Ketut", "Gede", "Ahmad", "Muhammad", "Rahmat", "Hafiz", "Farhan", "Naufal",
    "Dani", "Ikhsan", "Ridwan", "Sigit", "Tri", "Heru", "Bagus", "Arya", "Satria", "Fauzi",
)  # fmt: skip

FEMALE_FIRST_NAMES = (
    "Siti", "Dewi", "Sri", "Ayu", "Rina", "Putri", "Fitri", "Indah", "Nur", "Ratna",
    "Wulan", "Maya", "Intan", "Nadia", "Anisa", "Dian", "Lestari", "Ratih", "Yuni", "Kartika",
    "Citra", "Dinda", "Salsabila", "Aulia", "Nabila", "Zahra", "Rani", "Tika", "Novi", "Mega",
    "Eka", "Fani", "Gita", "Hana", "Irma", "Laras", "Melati", "Nia", "Okta", "Puspa",
    "Rahma", "Sekar", "Tiara", "Vina", "Winda", "Yulia", "Cindy", "Jessica", "Stefani", "Maria",
    "Ni Luh", "Kadek", "Annisa", "Devi", "Febri", "Hesti", "Lia", "Mira", "Sinta", "Tasya",
)  # fmt: skip

MALE_SECOND_NAMES = (
    "Santoso", "Saputra", "Pratama", "Setiawan", "Hidayat", "Nugroho", "Kurniawan", "Wibowo",
    "Firmansyah", "Ramadhan", "Prasetyo", "Susanto", "Hermawan", "Gunawan", "Permana",
    "Hakim", "Maulana", "Syahputra", "Prakoso", "Wicaksono", "Kusnadi", "Suryadi", "Wijaya",
    "Purnomo", "Utomo", "Darmawan", "Anggara", "Perdana",
)  # fmt: skip

FEMALE_SECOND_NAMES = (
    "Lestari", "Rahmawati", "Puspitasari", "Anggraini", "Wulandari", "Sari", "Putri",
    "Safitri", "Handayani", "Permatasari", "Kusumawati", "Utami", "Maharani", "Pertiwi",
    "Oktaviani", "Susanti", "Novitasari", "Purnamasari", "Ramadhani", "Wijayanti", "Amalia",
    "Fitriani", "Yuliani", "Damayanti", "Anjani", "Larasati",
)  # fmt: skip

FAMILY_NAMES = (
    "Siregar", "Nasution", "Harahap", "Lubis", "Simanjuntak", "Sitompul", "Hutapea",
    "Tambunan", "Manurung", "Sinaga", "Panjaitan", "Pane", "Halim", "Tanuwijaya", "Salim",
    "Hartono", "Sutanto", "Kartawijaya", "Lim", "Tanjung", "Chaniago", "Sembiring", "Ginting",
    "Tarigan", "Pattiasina", "Manuputty", "Rumbewas", "Wenas", "Lumban Gaol", "Pohan",
)  # fmt: skip

# Mobile prefixes by operator (Telkomsel, Indosat, XL/Axis, Tri, Smartfren).
MOBILE_PREFIXES = (
    "0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853",  # Telkomsel
    "0814", "0815", "0816", "0855", "0856", "0857", "0858",  # Indosat Ooredoo
    "0817", "0818", "0819", "0859", "0877", "0878",  # XL Axiata
    "0895", "0896", "0897", "0898", "0899",  # Tri
    "0881", "0882", "0883", "0884", "0885", "0886", "0887", "0888", "0889",  # Smartfren
)  # fmt: skip
# Rough market shares, Telkomsel largest; spread evenly over each operator's prefixes.
_OPERATOR_SHARE = {"0811": 0.45, "0814": 0.2, "0817": 0.2, "0895": 0.08, "0881": 0.07}

# Where customers of a Jakarta café live: (city, province, weight).
CITIES = (
    ("Jakarta Selatan", "DKI Jakarta", 30),
    ("Jakarta Pusat", "DKI Jakarta", 12),
    ("Jakarta Barat", "DKI Jakarta", 8),
    ("Jakarta Timur", "DKI Jakarta", 8),
    ("Jakarta Utara", "DKI Jakarta", 4),
    ("Tangerang Selatan", "Banten", 12),
    ("Tangerang", "Banten", 5),
    ("Depok", "Jawa Barat", 9),
    ("Bekasi", "Jawa Barat", 7),
    ("Bogor", "Jawa Barat", 3),
)

# Reserved example domains (RFC 2606): demo data never points at a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

ACQUISITION_SOURCES = (
    ("counter", 55),
    ("instagram", 15),
    ("referral", 10),
    ("gofood", 8),
    ("grabfood", 7),
    ("event", 5),
)


@dataclass(frozen=True)
class Person:
    full_name: str
    gender: str  # "M", "F" or "" (not recorded)
    birth_date: date | None
    phone: str | None  # E.164
    email: str
    city: str
    province: str
    acquisition_source: str


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _prefix_weights() -> np.ndarray:
    groups: list[list[str]] = []
    for prefix in MOBILE_PREFIXES:
        if prefix in _OPERATOR_SHARE:
            groups.append([prefix])
        else:
            groups[-1].append(prefix)
    weights = []
    for group in groups:
        share = _OPERATOR_SHARE[group[0]]
        weights.extend([share / len(group)] * len(group))
    return _weights(weights)


_PREFIX_P = _prefix_weights()
_CITY_P = _weights([c[2] for c in CITIES])
_SOURCE_P = _weights([s[1] for s in ACQUISITION_SOURCES])


def random_mobile(rng: np.random.Generator) -> str:
    """An Indonesian mobile number in E.164, checked with :func:`normalize_phone`."""
    while True:
        prefix = MOBILE_PREFIXES[rng.choice(len(MOBILE_PREFIXES), p=_PREFIX_P)]
        length = 8 if rng.random() < 0.7 else 7
        subscriber = "".join(str(d) for d in rng.integers(0, 10, size=length))
        if subscriber[0] == "0":
            continue
        try:
            e164 = normalize_phone(prefix + subscriber)
        except ValueError:  # pragma: no cover - every prefix above is a valid mobile range
            continue
        assert e164 is not None
        return e164


def random_name(rng: np.random.Generator, gender: str) -> str:
    male = gender == "M" if gender else rng.random() < 0.5
    first = rng.choice(MALE_FIRST_NAMES if male else FEMALE_FIRST_NAMES)
    roll = rng.random()
    if roll < 0.3:  # a single name
        return str(first)
    if roll < 0.75:
        second = rng.choice(MALE_SECOND_NAMES if male else FEMALE_SECOND_NAMES)
    else:
        second = rng.choice(FAMILY_NAMES)
    if second == first:
        return str(first)
    return f"{first} {second}"


def _email_for(rng: np.random.Generator, full_name: str, birth_date: date | None) -> str:
    parts = full_name.lower().replace(" ", ".").split(".")
    local = rng.choice([".", "_", ""]).join(parts)
    suffix = rng.random()
    if suffix < 0.35 and birth_date:
        local += str(birth_date.year)[-2:]
    elif suffix < 0.7:
        local += str(int(rng.integers(1, 1000)))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def random_birth_date(rng: np.random.Generator, today: date) -> date:
    """Adult café customers, most between 20 and 35."""
    age_years = min(17.0 + rng.gamma(2.5, 5.0), 70.0)
    return today - timedelta(days=int(age_years * 365.25))


def random_people(rng: np.random.Generator, n: int, today: date) -> list[Person]:
    """``n`` people with unique phone numbers (a few have none, some have an email)."""
    people: list[Person] = []
    phones: set[str] = set()
    for _ in range(n):
        roll = rng.random()
        gender = "F" if roll < 0.5 else ("M" if roll < 0.95 else "")
        name = random_name(rng, gender)
        birth_date = random_birth_date(rng, today) if rng.random() < 0.85 else None
        phone = None
        if rng.random() < 0.96:
            phone = random_mobile(rng)
            while phone in phones:
                phone = random_mobile(rng)
            phones.add(phone)
        email = _email_for(rng, name, birth_date) if rng.random() < 0.45 else ""
        if rng.random() < 0.02:
            city, province = "", ""
        else:
            city, province, _weight = CITIES[rng.choice(len(CITIES), p=_CITY_P)]
        source = ACQUISITION_SOURCES[rng.choice(len(ACQUISITION_SOURCES), p=_SOURCE_P)][0]
        people.append(
            Person(
                full_name=name,
                gender=gender,
                birth_date=birth_date,
                phone=phone,
                email=email,
                city=city,
                province=province,
                acquisition_source=source,
            )
        )
    return people
