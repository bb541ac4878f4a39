"""Workbooks as merchants make them: formulas (read by their saved results, refused when there
are none) and merged cells (each cell of the range gets the range's value), in the command
line's import and in the browser's preview alike."""

from __future__ import annotations

import zipfile

import pytest
from django.urls import reverse
from openpyxl import Workbook

from langganan.core.errors import InvalidInput
from langganan.customers.models import Customer
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.importing.readers import open_table
from langganan.sales.models import ImportJob, Transaction
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def _save_with_results(book: Workbook, path, results: dict[str, str]) -> None:
    """Save ``book`` and write a saved result into its formula cells, as Excel does."""
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in results.items():
        start = sheet.index(f'<c r="{ref}"')
        end = sheet.index("</c>", start)
        cell = sheet[start:end].replace("<v />", "").replace("<v/>", "")
        sheet = sheet[:start] + cell + f"<v>{value}</v>" + sheet[end:]
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _sales_book() -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.append(["No Nota", "Tanggal", "No HP", "Total"])
    sheet.append(["N-1", "2026-11-02", "081234567890", "=20000+5000"])
    sheet.append(["N-2", "2026-11-03", "081298765432", "=SUM(10000,2000)"])
    return book


def test_formulas_are_read_by_their_saved_results(tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "penjualan.xlsx"
    _save_with_results(_sales_book(), path, {"D2": "25000", "D3": "12000"})

    report = transactions_import(merchant=merchant, path=path)

    assert report.transactions_created == 2
    totals = sorted(Transaction.objects.filter(merchant=merchant).values_list("total", flat=True))
    assert [int(t) for t in totals] == [12000, 25000]


def test_formulas_without_saved_results_are_refused_naming_the_cells(tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "penjualan.xlsx"
    _sales_book().save(path)  # openpyxl saves no results: the cells would read as empty

    with pytest.raises(InvalidInput) as refused:
        transactions_import(merchant=merchant, path=path)

    assert "D2, D3" in refused.value.message
    assert "formula" in refused.value.message
    assert not Transaction.objects.exists()


def test_merged_cells_give_every_cell_of_the_range_its_value(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Nama", "No HP", "Kota"])
    sheet.append(["Rina", "081234567890", "Bandung"])
    sheet.append(["Budi", "081298765432", None])
    sheet.append(["Sari", "081311112222", None])
    sheet.append(["Tono", "081322223333", "Bogor"])
    sheet.merge_cells("C2:C4")  # one city written once for three customers
    path = tmp_path / "pelanggan.xlsx"
    book.save(path)

    rows = list(open_table(path).rows)
    assert [r[2] for r in rows] == ["Kota", "Bandung", "Bandung", "Bandung", "Bogor"]

    merchant = MerchantFactory()
    report = customers_import(merchant=merchant, path=path)

    assert report.customers_created == 4
    cities = dict(Customer.objects.filter(merchant=merchant).values_list("full_name", "city"))
    assert cities == {"Rina": "Bandung", "Budi": "Bandung", "Sari": "Bandung", "Tono": "Bogor"}


def test_a_title_merged_across_the_columns_does_not_spill_into_the_rows_below(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Daftar pelanggan November"])
    sheet.merge_cells("A1:C1")
    sheet.append(["Nama", "No HP", "Kota"])
    sheet.append(["Rina", "081234567890", "Bandung"])
    path = tmp_path / "pelanggan.xlsx"
    book.save(path)

    rows = list(open_table(path).rows)

    assert rows[0] == ["Daftar pelanggan November"] * 3
    assert rows[1:] == [["Nama", "No HP", "Kota"], ["Rina", "081234567890", "Bandung"]]


def test_the_browser_refuses_unsaved_formulas_in_indonesian_and_keeps_nothing(
    client, tmp_path, settings
):
    settings.DATA_DIR = str(tmp_path / "data")
    merchant = MerchantFactory()
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    path = tmp_path / "penjualan.xlsx"
    _sales_book().save(path)

    with open(path, "rb") as upload:
        response = client.post(
            reverse("data:import", kwargs={"slug": merchant.slug}),
            {"kind": "transaksi", "file": upload},
        )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Sel D2, D3 berisi rumus yang hasilnya belum pernah disimpan" in html
    assert "Traceback" not in html
    assert not ImportJob.objects.exists()
    assert not (tmp_path / "data" / "uploads" / str(merchant.pk)).exists() or not any(
        (tmp_path / "data" / "uploads" / str(merchant.pk)).iterdir()
    )
    assert not Transaction.objects.exists()
