"""A file named .xlsx that is no workbook gets a clear error, never a zip or XML traceback."""

from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from langganan.cli import cli
from langganan.core.errors import InvalidInput
from langganan.customers.models import Customer
from langganan.sales.importing import customers_import
from tests.factories import MerchantFactory


def _real_workbook(path, rows=200):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "phone"])
    for n in range(rows):
        sheet.append([f"Pelanggan {n}", f"08123{n:06d}"])
    workbook.save(path)


def _empty(path):
    path.write_bytes(b"")


def _binary(path):
    path.write_bytes(bytes(range(256)) * 64)


def _pdf(path):
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


def _zip_of_something_else(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "bukan workbook")


def _truncated(path):
    _real_workbook(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damaged_sheet(path):
    """A valid zip whose sheet XML is cut off half-way: opens, then fails on a row."""
    _real_workbook(path, rows=2000)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet][: len(parts[sheet]) // 2]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


BROKEN = [_empty, _binary, _pdf, _zip_of_something_else, _truncated, _damaged_sheet]


@pytest.mark.parametrize("make", BROKEN, ids=lambda f: f.__name__.strip("_"))
def test_import_of_a_broken_xlsx_prints_an_error_and_exits_non_zero(db, tmp_path, make):
    merchant = MerchantFactory()
    path = tmp_path / "pelanggan.xlsx"
    make(path)
    result = CliRunner().invoke(
        cli, ["import", "customers", str(path), "--merchant", merchant.slug]
    )
    assert result.exit_code != 0
    assert "Error: pelanggan.xlsx is not a readable Excel workbook (.xlsx)" in result.output
    assert "Traceback" not in result.output and "BadZipFile" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("make", BROKEN, ids=lambda f: f.__name__.strip("_"))
def test_the_service_refuses_a_broken_xlsx_as_invalid_input(db, tmp_path, make):
    path = tmp_path / "x.xlsx"
    make(path)
    with pytest.raises(InvalidInput, match="not a readable Excel workbook"):
        customers_import(merchant=MerchantFactory(), path=path)


def test_a_real_workbook_still_imports(db, tmp_path):
    path = tmp_path / "ok.xlsx"
    _real_workbook(path, rows=3)
    assert customers_import(merchant=MerchantFactory(), path=path).customers_created == 3


def test_import_with_json_output_reports_the_error_as_json(db, tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "kosong.xlsx"
    _empty(path)
    result = CliRunner().invoke(
        cli, ["import", "customers", str(path), "--merchant", merchant.slug, "--json"]
    )
    assert result.exit_code == 2
    assert "not a readable Excel workbook" in result.output and "Traceback" not in result.output


def test_opening_balances_refuse_a_broken_xlsx_too(db, tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "saldo.xlsx"
    _binary(path)
    result = CliRunner().invoke(
        cli, ["loyalty", "import-balances", "--merchant", merchant.slug, str(path)]
    )
    assert result.exit_code != 0
    assert "not a readable Excel workbook" in result.output
    assert "Traceback" not in result.output
