"""Synthetic transactions for the analytics benchmarks: BG/NBD buyers, café baskets.

Vectorised numpy throughout, so 10M transactions take seconds to make. Files are cached by
size and seed under the given folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HORIZON_DAYS = 540
START = np.datetime64("2025-05-01T00:00:00", "us")
MENU = [
    ("Kopi Susu Gula Aren", "Kopi", 22000),
    ("Americano", "Kopi", 20000),
    ("Cappuccino", "Kopi", 28000),
    ("Caffe Latte", "Kopi", 28000),
    ("Es Kopi Susu Besar", "Kopi", 32000),
    ("Es Teh Manis", "Non-Kopi", 8000),
    ("Matcha Latte", "Non-Kopi", 30000),
    ("Coklat", "Non-Kopi", 27000),
    ("Lemon Tea", "Non-Kopi", 15000),
    ("Nasi Goreng", "Makanan", 35000),
    ("Mie Goreng", "Makanan", 30000),
    ("Nasi Ayam Geprek", "Makanan", 32000),
    ("Roti Bakar", "Camilan", 20000),
    ("Pisang Goreng", "Camilan", 15000),
    ("Croissant", "Camilan", 25000),
    ("Kentang Goreng", "Camilan", 22000),
]
PARTNER = {0: 13, 1: 14, 9: 5, 10: 5, 11: 8, 6: 12, 2: 14, 3: 12}


def _draw(lam, p, first, rng: np.random.Generator):
    remaining = HORIZON_DAYS - first
    in_window = rng.poisson(lam * remaining)
    dropout_at = rng.geometric(p)
    repeats = np.minimum(in_window, dropout_at)
    owner = np.repeat(np.arange(lam.size), in_window)
    u = rng.uniform(0, 1, owner.size)
    order = np.lexsort((u, owner))  # uniforms sorted within each customer
    owner, u = owner[order], u[order]
    starts = np.concatenate([[0], np.cumsum(in_window)[:-1]])
    rank = np.arange(owner.size) - np.repeat(starts, in_window)
    keep = rank < repeats[owner]
    owner, u = owner[keep], u[keep]
    repeat_times = first[owner] + u * remaining[owner]
    return np.concatenate([np.arange(lam.size), owner]), np.concatenate([first, repeat_times])


def _simulate(n_customers: int, target: int, rng: np.random.Generator):
    """BG/NBD histories whose total count is close to ``target`` (rates rescaled to fit)."""
    lam = rng.gamma(0.9, 1.0 / 25.0, n_customers)
    p = rng.beta(0.6, 4.0, n_customers)
    first = rng.uniform(0, HORIZON_DAYS, n_customers)
    for _ in range(4):
        customers, days = _draw(lam, p, first, rng)
        repeats = customers.size - n_customers
        wanted = target - n_customers
        if abs(customers.size - target) <= 0.01 * target or repeats == 0:
            break
        lam = lam * (wanted / repeats) ** 1.3
    return customers, days


def make(folder: Path, n_transactions: int, n_customers: int, seed: int = 42) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{n_transactions}-{n_customers}-{seed}"
    paths = {
        "transactions": folder / f"transactions-{tag}.parquet",
        "lines": folder / f"lines-{tag}.parquet",
        "products": folder / "products.parquet",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(seed)
    customers, days = _simulate(n_customers, n_transactions, rng)
    order = np.argsort(days, kind="stable")
    customers, days = customers[order], days[order]
    n = customers.size
    hours = rng.choice(np.arange(7, 22), size=n)
    stamp = (
        START
        + (np.floor(days).astype("int64") * 86_400_000_000)
        + (hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, n))
    )
    # baskets: a main item (skewed), its partner half of the time, a random extra sometimes
    weights = 1.0 / np.arange(1, len(MENU) + 1)
    main = rng.choice(len(MENU), size=n, p=weights / weights.sum())
    partner = np.array([PARTNER.get(i, -1) for i in range(len(MENU))])[main]
    with_partner = (partner >= 0) & (rng.uniform(size=n) < 0.5)
    extra = np.where(rng.uniform(size=n) < 0.2, rng.integers(0, len(MENU), n), -1)
    extra = np.where((extra == main) | (extra == partner), -1, extra)
    tx_ids = np.arange(1, n + 1, dtype=np.int64)
    line_tx = np.concatenate([tx_ids, tx_ids[with_partner], tx_ids[extra >= 0]])
    line_item = np.concatenate([main, partner[with_partner], extra[extra >= 0]])
    prices = np.array([m[2] for m in MENU], dtype=np.float64)
    totals = np.bincount(line_tx - 1, weights=prices[line_item], minlength=n)
    names = np.array([m[0] for m in MENU], dtype=object)
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array(customers.astype(np.int64)),
                "transaction_id": pa.array(tx_ids),
                "occurred_at": pa.array(stamp, pa.timestamp("us")),
                "total": pa.array(totals),
            }
        ),
        paths["transactions"],
    )
    pq.write_table(
        pa.table(
            {
                "transaction_id": pa.array(line_tx),
                "customer_id": pa.array(customers[line_tx - 1].astype(np.int64)),
                "product": pa.array(names[line_item].tolist(), pa.string()),
            }
        ),
        paths["lines"],
    )
    pq.write_table(
        pa.table(
            {
                "item": [m[0] for m in MENU],
                "category": [m[1] for m in MENU],
                "price": [float(m[2]) for m in MENU],
            }
        ),
        paths["products"],
    )
    return paths
