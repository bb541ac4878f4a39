"""The --truth CSV: one row per customer, parameters in the header, means recoverable."""

import csv
import math
from datetime import date

import numpy as np
import pytest

from langganan.demo.simulation import simulate_demo
from langganan.demo.truth import TRUTH_COLUMNS, write_dataset_truth, write_truth

SEED = 11


@pytest.fixture(scope="module")
def dataset():
    return simulate_demo(n_customers=100, seed=SEED, end=date(2025, 6, 30))


def test_truth_file_has_one_row_per_customer_and_recovers_the_means(tmp_path, histories):
    path = tmp_path / "truth.csv"
    codes = [f"LG{i:08d}" for i in range(len(histories.lam))]
    write_truth(path, histories=histories, member_codes=codes, seed=SEED, start=date(2024, 1, 1))
    lines = path.read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    params = histories.params
    assert any(
        f"r={params.r}" in line
        and f"b={params.b}" in line
        and f"regular_share={params.regular_share}" in line
        and f"regular_k={params.regular_k}" in line
        and f"seed={SEED}" in line
        for line in header
    )
    assert any("MBG/CNBD-k" in line for line in header)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert tuple(rows[0]) == TRUTH_COLUMNS
    assert [row["member_code"] for row in rows] == codes
    n = len(rows)
    lam = np.array([float(row["lambda"]) for row in rows])
    p = np.array([float(row["p"]) for row in rows])
    assert abs(lam.mean() - params.lambda_mean) < 4 * math.sqrt(params.r) / params.alpha / n**0.5
    a, b = params.a, params.b
    assert abs(p.mean() - params.p_mean) < 4 * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)) / n)
    k = np.array([int(row["k"]) for row in rows])
    assert np.array_equal(k, histories.k)
    share = params.regular_share
    assert abs((k > 1).mean() - share) < 4 * math.sqrt(share * (1 - share) / n)
    for row in rows[:500]:
        assert (row["dropout_at"] == "") == (row["alive_at_end"] == "1")
        assert int(row["purchases"]) >= 1
    # one-time buyers who left: dropout after the first purchase (impossible under BG/NBD)
    assert any(row["purchases"] == "1" and row["alive_at_end"] == "0" for row in rows)


def test_dataset_truth_uses_the_recorded_purchase_times(tmp_path, dataset):
    path = tmp_path / "truth.csv"
    assert write_dataset_truth(path, dataset) == len(dataset.customers)
    rows = list(csv.DictReader(x for x in path.read_text().splitlines() if x[:1] != "#"))
    for row, customer in zip(rows, dataset.customers, strict=True):
        assert row["first_purchase_at"] == customer.joined_at.isoformat()
