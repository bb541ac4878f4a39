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
    assert any("r=0.7" in line and f"seed={SEED}" in line for line in header)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert tuple(rows[0]) == TRUTH_COLUMNS
    assert [row["member_code"] for row in rows] == codes
    params, n = histories.params, len(rows)
    lam = np.array([float(row["lambda"]) for row in rows])
    p = np.array([float(row["p"]) for row in rows])
    assert abs(lam.mean() - params.lambda_mean) < 4 * math.sqrt(params.r) / params.alpha / n**0.5
    a, b = params.a, params.b
    assert abs(p.mean() - params.p_mean) < 4 * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)) / n)
    for row in rows[:500]:
        assert (row["dropout_at"] == "") == (row["alive_at_end"] == "1")
        assert int(row["purchases"]) >= 1


def test_dataset_truth_uses_the_recorded_purchase_times(tmp_path, dataset):
    path = tmp_path / "truth.csv"
    assert write_dataset_truth(path, dataset) == len(dataset.customers)
    rows = list(csv.DictReader(x for x in path.read_text().splitlines() if x[:1] != "#"))
    for row, customer in zip(rows, dataset.customers, strict=True):
        assert row["first_purchase_at"] == customer.joined_at.isoformat()
