"""Acceptance: the public CDNOW transaction file (Fader & Hardie's CDNOW master data set,
69,659 purchases by 23,570 customers; shipped inside the `lifetimes` package) imports with
`--map`, its counts match the file exactly, and a second import creates nothing."""

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from langganan.cli import cli
from langganan.customers.models import Customer
from langganan.sales.models import Transaction


def cdnow_master() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # located, not imported
    assert spec is not None, "the dev extra installs lifetimes, which ships the CDNOW file"
    return Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_master.txt"


def read_truth(path: Path):
    rows, customers, amount, quantity = 0, set(), Decimal(0), Decimal(0)
    with open(path) as handle:
        next(handle)
        for line in handle:
            customer, _date, qty, value = line.split()
            rows += 1
            customers.add(customer)
            amount += Decimal(value)
            quantity += Decimal(qty)
    return rows, len(customers), amount, quantity


@pytest.mark.slow
def test_cdnow_imports_with_map_and_counts_match_the_file(merchant):
    path = cdnow_master()
    rows, customers, amount, quantity = read_truth(path)
    assert (rows, customers) == (69659, 23570)  # the published size of the data set
    args = [
        "import",
        "transactions",
        str(path),
        "--merchant",
        merchant.slug,
        "--map",
        "customer_id=customer_id",
        "--map",
        "number_of_cds=quantity",
        "--map",
        "dollar_value=total",
        "--json",
    ]
    first = json.loads(CliRunner().invoke(cli, args).output)
    assert first["errors"] == []
    assert first["rows_read"] == rows
    assert first["transactions_created"] == rows
    assert first["customers_created"] == customers
    stored = Transaction.objects.filter(merchant=merchant)
    assert stored.count() == rows
    # summed in Python: SQLite's SUM() goes through floating point
    assert sum(stored.values_list("total", flat=True)) == amount
    assert sum(stored.values_list("item_count", flat=True)) == quantity
    assert Customer.objects.filter(merchant=merchant).count() == customers

    second = json.loads(CliRunner().invoke(cli, args).output)
    assert second["transactions_created"] == 0
    assert second["customers_created"] == 0
    assert second["skipped_duplicates"] == rows
    assert Transaction.objects.filter(merchant=merchant).count() == rows
