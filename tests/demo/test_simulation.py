"""The simulated café: seasons, baskets, walk-ins, habits, reproducibility.

One fixed seed and 800 customers (~6,700 sales). Thresholds sit well inside the designed
effects: payday days sell ~1.5x mid-month days (asserted > 1.2x), Ramadan moves the evening
share from ~0.29 to ~0.57 (asserted +0.15), designed pairs have lift ~4-7 (asserted > 1.5).
"""

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from langganan.demo import menu, seasons
from langganan.demo.simulation import months_before, simulate_demo

JAKARTA = ZoneInfo("Asia/Jakarta")
END = date(2025, 6, 30)  # 18 months back covers the Ramadans of 2024 and 2025
SEED = 11


@pytest.fixture(scope="module")
def dataset():
    return simulate_demo(n_customers=800, seed=SEED, end=END)


def _local(txn):
    return txn.occurred_at.astimezone(JAKARTA)


def test_eighteen_months_end_the_day_before_end(dataset):
    assert dataset.start == date(2023, 12, 30)
    first = min(_local(t) for t in dataset.transactions)
    last = max(_local(t) for t in dataset.transactions)
    assert first.date() >= dataset.start
    assert last.date() < END
    assert last.date() >= date(2025, 6, 20)


def test_months_before_keeps_the_day_or_takes_the_last_of_a_short_month():
    assert months_before(date(2025, 6, 30), 18) == date(2023, 12, 30)
    assert months_before(date(2025, 8, 31), 18) == date(2024, 2, 29)
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)


def test_same_seed_gives_the_same_merchant_and_another_seed_another():
    def fingerprint(ds):
        return (
            [(c.member_code, c.person, c.joined_at) for c in ds.customers],
            [
                (t.occurred_at, t.customer, t.total, t.payment_method, t.receipt)
                for t in ds.transactions
            ],  # fmt: skip
        )

    a = simulate_demo(n_customers=60, seed=5, end=END)
    b = simulate_demo(n_customers=60, seed=5, end=END)
    c = simulate_demo(n_customers=60, seed=6, end=END)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)


def test_every_customer_joins_with_their_first_purchase(dataset):
    first = {}
    for t in dataset.transactions:
        if t.customer is not None and t.customer not in first:
            first[t.customer] = t.occurred_at
    assert len(first) == len(dataset.customers)
    for i, customer in enumerate(dataset.customers):
        assert customer.joined_at == first[i]


def test_purchases_per_customer_match_the_truth(dataset):
    counts = Counter(t.customer for t in dataset.transactions if t.customer is not None)
    assert [counts[i] for i in range(len(dataset.customers))] == list(dataset.histories.n_purchases)


def test_the_office_workers_are_the_regular_buyers(dataset):
    tagged = np.array(["karyawan kantor" in c.tags for c in dataset.customers])
    assert np.array_equal(tagged, dataset.histories.regular)
    assert 0.2 < tagged.mean() < 0.4


def test_walk_ins_have_no_customer_and_are_a_share_of_sales(dataset):
    walkins = sum(1 for t in dataset.transactions if t.customer is None)
    assert 0.2 < walkins / len(dataset.transactions) < 0.4


def test_totals_equal_the_sum_of_line_items_and_discounts_stay_within_the_line(dataset):
    for txn in dataset.transactions:
        assert txn.lines
        assert txn.total == sum(x.quantity * x.unit_price - x.discount for x in txn.lines)
        assert all(0 <= x.discount <= x.quantity * x.unit_price for x in txn.lines)
    assert any(x.discount for t in dataset.transactions for x in t.lines)


def test_payment_methods_are_mixed_and_customers_have_a_favourite(dataset):
    methods = Counter(t.payment_method for t in dataset.transactions)
    assert len(methods) >= 5
    assert max(methods.values()) / sum(methods.values()) < 0.5
    by_customer: dict[int, Counter] = {}
    for t in dataset.transactions:
        if t.customer is not None and t.channel != "delivery":
            by_customer.setdefault(t.customer, Counter())[t.payment_method] += 1
    shares = [c.most_common(1)[0][1] / c.total() for c in by_customer.values() if c.total() >= 6]
    assert np.mean(shares) > 0.6


def test_sales_channels_include_dine_in_take_away_and_delivery(dataset):
    assert {t.channel for t in dataset.transactions} == {"dine_in", "take_away", "delivery"}


def test_hours_fit_a_cafe(dataset):
    hours = Counter(_local(t).hour for t in dataset.transactions)
    assert min(hours) >= 7 and max(hours) <= 21
    assert hours[12] > hours[21]


def test_payday_days_sell_more_per_day_than_mid_month(dataset):
    per_day = Counter(_local(t).date() for t in dataset.transactions)
    payday = [per_day[d] for d in dataset.calendar.days if seasons.is_payday_period(d)]
    mid = [per_day[d] for d in dataset.calendar.days if not seasons.is_payday_period(d)]
    assert np.mean(payday) > 1.2 * np.mean(mid)


@pytest.mark.parametrize(
    "pair",
    [
        ("Kopi Susu Gula Aren", "Pisang Goreng"),
        ("Americano", "Croissant"),
        ("Nasi Goreng Kampung", "Es Teh Manis"),
    ],
)
def test_designed_pairs_are_bought_together_more_than_chance(dataset, pair):
    a, b = (menu.INDEX[name] for name in pair)
    baskets = [{x.item for x in t.lines} for t in dataset.transactions]
    n = len(baskets)
    p_a = sum(a in s for s in baskets) / n
    p_b = sum(b in s for s in baskets) / n
    p_ab = sum(a in s and b in s for s in baskets) / n
    assert p_ab / (p_a * p_b) > 1.5


def test_regulars_have_a_usual_order(dataset):
    baskets: dict[int, list[set[int]]] = {}
    for t in dataset.transactions:
        if t.customer is not None:
            baskets.setdefault(t.customer, []).append({x.item for x in t.lines})
    shares = [
        sum(dataset.customers[i].usual in s for s in visits) / len(visits)
        for i, visits in baskets.items()
        if len(visits) >= 6
    ]
    assert len(shares) > 20
    assert np.median(shares) > 0.5


def test_ramadan_evenings_take_a_larger_share_than_other_evenings(dataset):
    calendar = dataset.calendar
    ramadan_days = {d for d, r in zip(calendar.days, calendar.ramadan, strict=True) if r}
    assert len(ramadan_days) == 60  # Ramadan 2024 and 2025

    def evening_share(sales):
        return sum(_local(t).hour >= seasons.EVENING_FROM for t in sales) / len(sales)

    inside = [t for t in dataset.transactions if _local(t).date() in ramadan_days]
    outside = [t for t in dataset.transactions if _local(t).date() not in ramadan_days]
    assert evening_share(inside) > evening_share(outside) + 0.15
