"""Exports neutralise every cell a spreadsheet would run as a formula (OWASP CSV injection),
keep numbers as numbers, and still import back unchanged."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from langganan.sales.exporting import export_table, safe_cell
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.importing.readers import quote_cell, unquote_cell
from langganan.sales.models import Transaction
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
)

LEADING = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("start", LEADING)
def test_text_starting_with_a_formula_character_gets_a_single_quote(start):
    text = start + "cmd|' /C calc'!A0"
    assert safe_cell(text) == "'" + text
    assert unquote_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["Rina", "", "0812", "Kak 'Rina'", "a=b", "x-y"])
def test_other_text_is_left_alone(value):
    assert safe_cell(value) == value == unquote_cell(value)


@pytest.mark.parametrize("value", [Decimal("-25000.00"), -3, -1.5, 0])
def test_numbers_stay_numbers_even_when_negative(value):
    assert safe_cell(value) is value


def _cells_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _cells_xlsx(path):
    sheet = load_workbook(path).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("start", LEADING)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_customer_named_like_a_formula_is_exported_quoted(db, tmp_path, start, suffix):
    merchant = MerchantFactory()
    name = start + "cmd|' /C calc'!A0"
    CustomerFactory(merchant=merchant, full_name=name, notes=start + "SUM(A1)")
    path = tmp_path / f"c{suffix}"
    export_table(merchant=merchant, what="customers", path=path)
    rows = _cells_csv(path) if suffix == ".csv" else _cells_xlsx(path)
    header, row = rows[0], rows[1]
    stored = {"name": "'" + name, "notes": "'" + start + "SUM(A1)"}
    for column, expected in stored.items():
        if suffix == ".xlsx":  # XML keeps a carriage return as a line feed
            expected = expected.replace("\r", "\n")
        assert row[header.index(column)] == expected
    if suffix == ".xlsx":  # and never a formula cell
        sheet = load_workbook(path).worksheets[0]
        assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)


def test_a_refund_total_stays_a_negative_number_in_xlsx(db, tmp_path):
    merchant = MerchantFactory()
    outlet = OutletFactory(merchant=merchant)
    sale = TransactionFactory(merchant=merchant, outlet=outlet, total=Decimal("25000"))
    TransactionFactory(
        merchant=merchant, outlet=outlet, kind="refund", refund_of=sale, total=Decimal("-25000")
    )
    path = tmp_path / "t.xlsx"
    export_table(merchant=merchant, what="transactions", path=path)
    rows = _cells_xlsx(path)
    totals = [row[rows[0].index("total")] for row in rows[1:]]
    assert -25000 in totals and all(isinstance(t, int | float) for t in totals)
    csv_path = tmp_path / "t.csv"
    export_table(merchant=merchant, what="transactions", path=csv_path)
    rows = _cells_csv(csv_path)
    assert "-25000.00" in [row[rows[0].index("total")] for row in rows[1:]]  # not '-25000.00


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_quoted_cells_import_back_as_they_were(db, tmp_path, suffix):
    merchant = MerchantFactory()
    outlet = OutletFactory(merchant=merchant, code="JKT-01")
    rina = CustomerFactory(
        merchant=merchant, full_name="-Rina+", phone="+6281234567890", external_ref="@C1"
    )
    sale = TransactionFactory(merchant=merchant, outlet=outlet, customer=rina, external_id="=1")
    LineItemFactory(transaction=sale, product_name="+Kopi", quantity=1, unit_price=Decimal(9))
    customers, transactions = tmp_path / f"c{suffix}", tmp_path / f"t{suffix}"
    export_table(merchant=merchant, what="customers", path=customers)
    export_table(merchant=merchant, what="transactions", path=transactions)
    copy = MerchantFactory()
    OutletFactory(merchant=copy, code="JKT-01")
    assert customers_import(merchant=copy, path=customers).committed
    assert transactions_import(merchant=copy, path=transactions).committed
    copied = Transaction.objects.get(merchant=copy)
    assert copied.external_id == "=1"
    assert (copied.customer.full_name, copied.customer.phone, copied.customer.external_ref) == (
        "-Rina+",
        "+6281234567890",
        "@C1",
    )
    assert copied.items.get().product_name == "+Kopi"


def test_the_reject_file_quotes_the_cells_it_copies(db, tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "c.csv"
    path.write_text('name,phone\nRina,0812345678\n=HYPERLINK("x"),+cmd\n', encoding="utf-8")
    report = customers_import(merchant=merchant, path=path, skip_invalid=True)
    assert report.rejects_path, report.as_dict()
    text = open(report.rejects_path, encoding="utf-8").read()
    rows = list(csv.reader(text.splitlines()))
    assert rows[1][1:3] == ['\'=HYPERLINK("x")', "'+cmd"]


def test_quote_and_unquote_are_inverse():
    for start in LEADING:
        assert unquote_cell(quote_cell(start + "x")) == start + "x"
