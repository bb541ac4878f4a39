"""The demo café's menu and how its customers fill a basket.

Prices are whole Rupiah (ints here; the database writer turns them into ``Decimal``).
Baskets follow recognisable patterns: each anchor item has a designed companion
(Kopi Susu Gula Aren with Pisang Goreng, Americano with Croissant, Nasi Goreng with Es Teh
Manis…), the time of day moves demand between coffee, pastries and meals, and Ramadan
evenings bring buka-puasa food and takjil.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MenuItem:
    name: str
    category: str
    price: int
    popularity: float  # relative weight as the first item of an order
    sku: str = ""
    ramadan_only: bool = False

    @property
    def is_drink(self) -> bool:
        return self.category in DRINK_CATEGORIES


KOPI, NON_KOPI, MAKANAN, CAMILAN, ROTI, RAMADAN = (
    "Kopi",
    "Non-Kopi",
    "Makanan",
    "Camilan",
    "Roti & Kue",
    "Menu Ramadan",
)
CATEGORIES = (KOPI, NON_KOPI, MAKANAN, CAMILAN, ROTI, RAMADAN)
DRINK_CATEGORIES = frozenset({KOPI, NON_KOPI})

_RAW_MENU = (
    # name, category, price, popularity
    ("Kopi Susu Gula Aren", KOPI, 25_000, 10.0),
    ("Americano", KOPI, 22_000, 6.0),
    ("Cappuccino", KOPI, 28_000, 4.5),
    ("Caffè Latte", KOPI, 28_000, 5.0),
    ("Espresso", KOPI, 18_000, 1.5),
    ("Kopi Tubruk", KOPI, 15_000, 2.0),
    ("Es Kopi Susu Pandan", KOPI, 27_000, 3.0),
    ("V60 Manual Brew", KOPI, 32_000, 1.5),
    ("Mocha", KOPI, 30_000, 2.0),
    ("Matcha Latte", NON_KOPI, 30_000, 3.5),
    ("Cokelat Panas", NON_KOPI, 27_000, 2.0),
    ("Red Velvet Latte", NON_KOPI, 28_000, 1.5),
    ("Es Teh Manis", NON_KOPI, 10_000, 4.0),
    ("Teh Tarik", NON_KOPI, 18_000, 2.0),
    ("Es Jeruk", NON_KOPI, 15_000, 2.0),
    ("Lemon Tea", NON_KOPI, 18_000, 1.5),
    ("Air Mineral", NON_KOPI, 8_000, 1.0),
    ("Nasi Goreng Kampung", MAKANAN, 35_000, 3.0),
    ("Mie Goreng Jawa", MAKANAN, 32_000, 2.0),
    ("Nasi Ayam Sambal Matah", MAKANAN, 38_000, 2.0),
    ("Nasi Ayam Geprek", MAKANAN, 33_000, 2.0),
    ("Spaghetti Aglio Olio", MAKANAN, 40_000, 1.0),
    ("Pisang Goreng", CAMILAN, 18_000, 1.0),
    ("Kentang Goreng", CAMILAN, 22_000, 1.0),
    ("Tahu Cabai Garam", CAMILAN, 20_000, 0.6),
    ("Cireng Rujak", CAMILAN, 18_000, 0.6),
    ("Singkong Goreng Keju", CAMILAN, 20_000, 0.5),
    ("Croissant", ROTI, 25_000, 1.2),
    ("Pain au Chocolat", ROTI, 28_000, 0.6),
    ("Roti Bakar Cokelat Keju", ROTI, 22_000, 0.8),
    ("Banana Bread", ROTI, 24_000, 0.6),
    ("Donat Gula", ROTI, 12_000, 0.6),
    ("Kolak Pisang", RAMADAN, 15_000, 1.5),
    ("Es Buah", RAMADAN, 20_000, 1.5),
    ("Paket Buka Puasa", RAMADAN, 45_000, 2.0),
)

_SKU_PREFIX = {KOPI: "KOP", NON_KOPI: "NKP", MAKANAN: "MKN", CAMILAN: "CML", ROTI: "RTI"}
_SKU_PREFIX[RAMADAN] = "RMD"


def _build_menu() -> tuple[MenuItem, ...]:
    counters: dict[str, int] = {}
    items = []
    for name, category, price, popularity in _RAW_MENU:
        counters[category] = counters.get(category, 0) + 1
        items.append(
            MenuItem(
                name=name,
                category=category,
                price=price,
                popularity=popularity,
                sku=f"{_SKU_PREFIX[category]}-{counters[category]:02d}",
                ramadan_only=category == RAMADAN,
            )
        )
    return tuple(items)


MENU: tuple[MenuItem, ...] = _build_menu()
INDEX = {item.name: i for i, item in enumerate(MENU)}

# Designed pairs: ordering the first makes the second likely (and the other way round).
PAIRS = (
    ("Kopi Susu Gula Aren", "Pisang Goreng"),
    ("Americano", "Croissant"),
    ("Nasi Goreng Kampung", "Es Teh Manis"),
    ("Cappuccino", "Banana Bread"),
    ("Caffè Latte", "Pain au Chocolat"),
    ("Mie Goreng Jawa", "Es Jeruk"),
    ("Matcha Latte", "Donat Gula"),
    ("Nasi Ayam Geprek", "Es Teh Manis"),
    ("Teh Tarik", "Roti Bakar Cokelat Keju"),
    ("Paket Buka Puasa", "Kolak Pisang"),
)
PAIR_PROBABILITY = 0.45  # chance that an anchor brings its designed companion
SIDE_PROBABILITY = 0.15  # chance of another, random side item (drink ↔ food)

_COMPANIONS: dict[int, list[int]] = {}
for _a, _b in PAIRS:
    _COMPANIONS.setdefault(INDEX[_a], []).append(INDEX[_b])
    _COMPANIONS.setdefault(INDEX[_b], []).append(INDEX[_a])

# Time of day moves demand between categories (hour → daypart).
DAYPARTS = ("morning", "lunch", "afternoon", "evening")
_DAYPART_FACTORS = {
    "morning": {KOPI: 1.6, NON_KOPI: 0.7, MAKANAN: 0.4, CAMILAN: 0.5, ROTI: 2.0},
    "lunch": {KOPI: 0.8, NON_KOPI: 1.2, MAKANAN: 3.5, CAMILAN: 0.8, ROTI: 0.5},
    "afternoon": {KOPI: 1.2, NON_KOPI: 1.1, MAKANAN: 0.6, CAMILAN: 2.0, ROTI: 1.0},
    "evening": {KOPI: 0.8, NON_KOPI: 1.3, MAKANAN: 1.6, CAMILAN: 1.2, ROTI: 0.6},
}
# Buka puasa: evenings in Ramadan bring meals and takjil.
_RAMADAN_EVENING_FACTORS = {KOPI: 0.6, NON_KOPI: 1.4, MAKANAN: 2.2, CAMILAN: 1.3, ROTI: 0.4}


def daypart(hour: int) -> str:
    if hour < 11:
        return "morning"
    if hour < 14:
        return "lunch"
    if hour < 17:
        return "afternoon"
    return "evening"


def _anchor_probabilities(part: str, ramadan: bool) -> np.ndarray:
    factors = dict(_DAYPART_FACTORS[part])
    factors[RAMADAN] = 0.0
    if ramadan and part == "evening":
        factors = dict(_RAMADAN_EVENING_FACTORS)
        factors[RAMADAN] = 3.0
    elif ramadan:
        factors[RAMADAN] = 0.5  # takjil bought in the afternoon to take home
    w = np.array([item.popularity * factors[item.category] for item in MENU])
    return w / w.sum()


ANCHOR_CDF = {
    (part, ramadan): np.cumsum(_anchor_probabilities(part, ramadan))
    for part in DAYPARTS
    for ramadan in (False, True)
}


def pick(rng: np.random.Generator, cdf: np.ndarray) -> int:
    """One index drawn with the probabilities whose running sum is ``cdf`` (fast for scalars)."""
    return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)


def _popularity_cdf(indices: list[int]) -> np.ndarray:
    return np.cumsum([MENU[i].popularity for i in indices])


_DRINKS = [i for i, item in enumerate(MENU) if item.is_drink and not item.ramadan_only]
_FOODS = [i for i, item in enumerate(MENU) if not item.is_drink and not item.ramadan_only]
_DRINK_CDF = _popularity_cdf(_DRINKS)
_FOOD_CDF = _popularity_cdf(_FOODS)

# Favourites ("the usual"): mostly a drink, sometimes a meal.
_USUAL_CANDIDATES = np.array([i for i, item in enumerate(MENU) if not item.ramadan_only])
_USUAL_P = np.array(
    [MENU[i].popularity * (1.0 if MENU[i].is_drink else 0.5) for i in _USUAL_CANDIDATES]
)
_USUAL_P = _USUAL_P / _USUAL_P.sum()


def random_usual(rng: np.random.Generator) -> int:
    """Index into :data:`MENU` of a customer's usual order."""
    return int(_USUAL_CANDIDATES[rng.choice(len(_USUAL_CANDIDATES), p=_USUAL_P)])


def _party_size(rng: np.random.Generator, delivery: bool) -> int:
    roll = rng.random()
    if delivery:
        return 1 if roll < 0.55 else (2 if roll < 0.85 else 3)
    return 1 if roll < 0.78 else (2 if roll < 0.94 else (3 if roll < 0.98 else 4))


def random_basket(
    rng: np.random.Generator,
    *,
    hour: int,
    ramadan: bool,
    usual: int | None = None,
    usual_probability: float = 0.0,
    delivery: bool = False,
) -> dict[int, int]:
    """One order as ``{menu index: quantity}``.

    Each person in the party picks an anchor (the customer's usual, with the customer's own
    probability, or an item that fits the hour), which brings its designed companion with
    :data:`PAIR_PROBABILITY`, or else a random side (drink with food, food with a drink).
    """
    anchor_cdf = ANCHOR_CDF[(daypart(hour), ramadan)]
    basket: dict[int, int] = {}
    for person in range(_party_size(rng, delivery)):
        if person == 0 and usual is not None and rng.random() < usual_probability:
            anchor = usual
        else:
            anchor = pick(rng, anchor_cdf)
        basket[anchor] = basket.get(anchor, 0) + 1
        companions = _COMPANIONS.get(anchor)
        if companions and rng.random() < PAIR_PROBABILITY:
            side = companions[int(rng.integers(len(companions)))]
            if MENU[side].ramadan_only and not ramadan:
                continue
        elif rng.random() < SIDE_PROBABILITY:
            if MENU[anchor].is_drink:
                side = _FOODS[pick(rng, _FOOD_CDF)]
            else:
                side = _DRINKS[pick(rng, _DRINK_CDF)]
        else:
            continue
        basket[side] = basket.get(side, 0) + 1
    return basket
