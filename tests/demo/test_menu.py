"""The demo café's menu and baskets."""

from collections import Counter

import numpy as np

from langganan.demo import menu


def test_menu_prices_are_whole_rupiah_and_every_category_is_used():
    assert {item.category for item in menu.MENU} == set(menu.CATEGORIES)
    assert all(item.price % 500 == 0 and item.price > 0 for item in menu.MENU)
    assert len({item.sku for item in menu.MENU}) == len(menu.MENU)


def test_ramadan_items_are_sold_only_in_ramadan():
    rng = np.random.default_rng(1)
    ramadan_items = {i for i, item in enumerate(menu.MENU) if item.ramadan_only}
    outside = Counter()
    inside = Counter()
    for _ in range(3000):
        outside.update(menu.random_basket(rng, hour=18, ramadan=False))
        inside.update(menu.random_basket(rng, hour=18, ramadan=True))
    assert not ramadan_items & set(outside)
    assert sum(inside[i] for i in ramadan_items) > 300


def test_meals_sell_at_lunch_and_coffee_in_the_morning():
    rng = np.random.default_rng(2)

    def share(hour, category):
        counts = Counter()
        for _ in range(3000):
            for item, qty in menu.random_basket(rng, hour=hour, ramadan=False).items():
                counts[menu.MENU[item].category] += qty
        return counts[category] / sum(counts.values())

    assert share(12, menu.MAKANAN) > 2 * share(8, menu.MAKANAN)
    assert share(8, menu.KOPI) > share(12, menu.KOPI)


def test_a_customer_with_a_usual_order_mostly_orders_it():
    rng = np.random.default_rng(3)
    usual = menu.INDEX["Americano"]
    baskets = [
        menu.random_basket(rng, hour=9, ramadan=False, usual=usual, usual_probability=0.8)
        for _ in range(1000)
    ]
    assert sum(usual in b for b in baskets) / len(baskets) > 0.75
