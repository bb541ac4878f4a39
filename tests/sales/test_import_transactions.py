import json
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from langganan.core.errors import InvalidInput
from langganan.customers.models import Customer
from langganan.sales.importing import transactions_import
from langganan.sales.importing.transactions import ERR_NEED_DATE, ERR_OUTLET_UNKNOWN
from langganan.sales.models import LineItem, Product, Transaction
from tests.factories import OutletFactory

JAKARTA = ZoneInfo("Asia/Jakarta")


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def counts():
    return (Transaction.objects.count(), LineItem.objects.count(), Customer.objects.count())


@pytest.fixture
def outlets(merchant):
    return [
        OutletFactory(merchant=merchant, code="JKT-01", name="Kemang"),
        OutletFactory(merchant=merchant, code="JKT-02", name="Tebet"),
    ]


def test_one_row_per_transaction_with_indonesian_headers(merchant, outlets, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,Jam,No HP,Nama,Total,Metode Pembayaran,Cabang
31/03/2025,08:15,0812-3456-7890,Rina,Rp 25.000,QRIS,JKT-01
31/03/2025,12:30,0813 1111 2222,Budi,"47.500",Tunai,JKT-02
01/04/2025,09:00,081234567890,Rina,18000,GoPay,JKT-01
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed and report.error_count == 0
    assert (report.rows_read, report.transactions_created, report.customers_created) == (3, 3, 2)
    rina = Customer.objects.get(merchant=merchant, phone="+6281234567890")
    assert rina.full_name == "Rina"
    assert rina.transactions.count() == 2
    first = Transaction.objects.get(customer=rina, total=Decimal("25000"))
    assert first.occurred_at == datetime(2025, 3, 31, 8, 15, tzinfo=JAKARTA)
    assert first.payment_method == "qris"
    assert first.outlet.code == "JKT-01"
    assert rina.joined_at == first.occurred_at


def test_one_row_per_line_item_with_a_receipt_number(merchant, outlets, tmp_path):
    path = write(
        tmp_path,
        """
No Struk,Tanggal,No HP,Produk,Kategori,Qty,Harga,Diskon
S-001,2025-04-01 08:00,081234567890,Kopi Susu Gula Aren,Kopi,2,22000,4000
S-001,2025-04-01 08:00,081234567890,Pisang Goreng,Camilan,1,15000,
S-002,2025-04-01 09:00,,Americano,Kopi,1,20000,
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed, report.errors
    assert (report.transactions_created, report.line_items_created) == (2, 3)
    receipt = Transaction.objects.get(external_id="S-001")
    assert receipt.total == Decimal("55000.00")  # 2*22000 - 4000 + 15000
    assert [i.product_name for i in receipt.items.all()] == ["Kopi Susu Gula Aren", "Pisang Goreng"]
    assert Product.objects.get(name="Pisang Goreng").category.name == "Camilan"
    walk_in = Transaction.objects.get(external_id="S-002")
    assert walk_in.customer is None


def test_line_items_without_a_receipt_number_are_grouped_by_visit(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,Jam,No HP,Item,Qty,Total
2025-04-01,08:00,081234567890,Kopi Susu,1,22000
2025-04-01,08:00,081234567890,Roti Bakar,1,20000
2025-04-01,17:00,081234567890,Kopi Susu,1,22000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert (report.transactions_created, report.line_items_created) == (2, 3)
    assert sorted(Transaction.objects.values_list("total", flat=True)) == [
        Decimal("22000.00"),
        Decimal("42000.00"),
    ]


def test_a_receipt_total_repeated_on_each_line_is_the_transaction_total(merchant, tmp_path):
    path = write(
        tmp_path,
        """
ID Transaksi,Tanggal,Produk,Qty,Harga,Total
T1,2025-04-01,Nasi Goreng,1,35000,55000
T1,2025-04-01,Es Teh Manis,2,8000,55000
""",
    )
    transactions_import(merchant=merchant, path=path)
    assert Transaction.objects.get(external_id="T1").total == Decimal("55000.00")


def test_a_customer_id_instead_of_a_phone_identifies_the_customer(merchant, tmp_path):
    path = write(
        tmp_path,
        """
customer_id,date,amount
C-9,20250102,10000
C-9,20250209,12000
C-10,20250209,5000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert report.customers_created == 2
    customer = Customer.objects.get(merchant=merchant, external_ref="C-9")
    assert customer.transactions.count() == 2
    assert customer.phone is None


def test_reimporting_the_same_file_creates_nothing(merchant, outlets, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,No HP,Total,Produk,Qty,Harga
2025-04-01,081234567890,22000,Kopi Susu,1,22000
2025-04-01,081234567890,22000,Kopi Susu,1,22000
2025-04-02,081299998888,20000,,,
""",
    )
    first = transactions_import(merchant=merchant, path=path)
    before = counts()
    second = transactions_import(merchant=merchant, path=path)
    assert counts() == before
    assert second.committed
    assert (second.transactions_created, second.customers_created) == (0, 0)
    assert second.skipped_duplicates == first.transactions_created


def test_two_identical_rows_without_ids_are_two_sales_and_stay_two(merchant, tmp_path):
    path = write(
        tmp_path,
        """
customer_id,date,amount
C-1,20250102,10000
C-1,20250102,10000
C-2,20250102,10000
""",
    )
    assert transactions_import(merchant=merchant, path=path).transactions_created == 3
    assert transactions_import(merchant=merchant, path=path).transactions_created == 0
    assert Transaction.objects.filter(customer__external_ref="C-1").count() == 2


def test_a_later_file_that_repeats_earlier_rows_adds_only_the_new_ones(merchant, tmp_path):
    january = write(tmp_path, "customer_id,date,amount\nC-1,20250102,10000\n", "jan.csv")
    both = write(
        tmp_path,
        "customer_id,date,amount\nC-1,20250102,10000\nC-1,20250203,9000\n",
        "jan-feb.csv",
    )
    transactions_import(merchant=merchant, path=january)
    report = transactions_import(merchant=merchant, path=both)
    assert (report.transactions_created, report.skipped_duplicates) == (1, 1)


def test_a_malformed_row_in_the_middle_fails_with_its_number_and_changes_nothing(
    merchant, tmp_path
):
    path = write(
        tmp_path,
        """
Tanggal,No HP,Total
2025-04-01,081234567890,22000
2025-04-02,081234567890,22000
2025-04-31,081234567890,22000
2025-04-03,081234567890,abc
2025-04-04,081234567890,22000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert not report.committed
    assert [(e.row, e.field) for e in report.errors] == [(4, "date"), (5, "total")]
    assert "not a date" in report.errors[0].reason
    assert report.errors[0].value == "2025-04-31"
    assert counts() == (0, 0, 0)
    assert report.transactions_created == 0


def test_skip_invalid_writes_the_valid_rows_and_a_reject_file(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,No HP,Total,Metode Pembayaran
2025-04-01,081234567890,22000,Tunai
2025-04-02,081234567890,22000,barter
2025-04-03,12,22000,Tunai
2025-04-04,081234567890,22000,QRIS
""",
    )
    rejects = tmp_path / "bad.csv"
    report = transactions_import(
        merchant=merchant, path=path, skip_invalid=True, rejects_path=rejects
    )
    assert report.committed
    assert report.transactions_created == 2
    assert report.rejects_path == str(rejects)
    lines = rejects.read_text().splitlines()
    assert lines[0] == "row,Tanggal,No HP,Total,Metode Pembayaran,reason"
    assert lines[1].startswith("3,2025-04-02") and "unknown payment method" in lines[1]
    assert lines[2].startswith("4,2025-04-03") and "not a valid phone number" in lines[2]


def test_a_bad_line_rejects_its_whole_transaction(merchant, tmp_path):
    path = write(
        tmp_path,
        """
No Struk,Tanggal,Produk,Qty,Harga
S1,2025-04-01,Kopi,1,20000
S1,2025-04-01,Roti,-1,15000
S2,2025-04-01,Kopi,1,20000
""",
    )
    report = transactions_import(merchant=merchant, path=path, skip_invalid=True)
    assert [e.row for e in report.errors] == [3]
    assert list(Transaction.objects.values_list("external_id", flat=True)) == ["S2"]
    assert LineItem.objects.count() == 1


def test_an_unknown_outlet_is_reported_with_the_known_codes(merchant, outlets, tmp_path):
    path = write(tmp_path, "Tanggal,Total,Cabang\n2025-04-01,1000,BDG-01\n")
    report = transactions_import(merchant=merchant, path=path)
    assert ERR_OUTLET_UNKNOWN in report.errors[0].reason
    assert "JKT-01" in report.errors[0].reason


def test_a_file_without_outlets_goes_to_the_first_outlet_or_a_new_main_one(merchant, tmp_path):
    path = write(tmp_path, "Tanggal,Total\n2025-04-01,1000\n")
    transactions_import(merchant=merchant, path=path)
    assert Transaction.objects.get().outlet.code == "MAIN"


def test_a_file_without_a_date_column_is_refused_before_reading_rows(merchant, tmp_path):
    path = write(tmp_path, "Nilai,Total\nx,1000\n")
    with pytest.raises(InvalidInput, match=re.escape(ERR_NEED_DATE)):
        transactions_import(merchant=merchant, path=path)


def test_a_transaction_id_repeated_apart_from_its_rows_is_an_error(merchant, tmp_path):
    path = write(
        tmp_path,
        """
No Struk,Tanggal,Produk,Harga
S1,2025-04-01,Kopi,20000
S2,2025-04-01,Kopi,20000
S1,2025-04-01,Roti,15000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert [e.row for e in report.errors] == [4]
    assert not report.committed


def test_semicolon_separated_export_with_decimal_commas(merchant, tmp_path):
    path = write(tmp_path, "tanggal;no hp;total\n01/04/2025;081234567890;25.000,00\n")
    transactions_import(merchant=merchant, path=path)
    assert Transaction.objects.get().total == Decimal("25000.00")


def test_xlsx_files_with_real_date_and_number_cells(merchant, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tanggal", "No HP", "Produk", "Qty", "Harga"])
    sheet.append([datetime(2025, 4, 1, 10, 30), 81234567890, "Kopi Susu", 2, 22000])
    sheet.append([datetime(2025, 4, 2), "0813-1111-2222", "Croissant", 1, 25000.5])
    path = tmp_path / "penjualan.xlsx"
    workbook.save(path)
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed, report.errors
    assert report.transactions_created == 2
    first = Transaction.objects.get(customer__phone="+6281234567890")
    assert first.occurred_at == datetime(2025, 4, 1, 10, 30, tzinfo=JAKARTA)
    assert first.total == Decimal("44000.00")
    assert Transaction.objects.get(customer__phone="+6281311112222").total == Decimal("25000.50")
    assert transactions_import(merchant=merchant, path=path).transactions_created == 0


def test_import_is_isolated_per_merchant(db, tmp_path):
    from tests.factories import MerchantFactory

    a, b = MerchantFactory(), MerchantFactory()
    path = write(tmp_path, "customer_id,date,amount\nC-1,20250102,10000\n")
    transactions_import(merchant=a, path=path)
    report = transactions_import(merchant=b, path=path)
    assert report.transactions_created == 1
    assert Customer.objects.filter(external_ref="C-1").count() == 2


def test_the_cli_prints_one_json_object(merchant, tmp_path):
    from click.testing import CliRunner

    from langganan.cli import cli

    path = write(tmp_path, "customer_id,date,amount\nC-1,20250102,10000\nC-1,20250103,9000\n")
    result = CliRunner().invoke(
        cli, ["import", "transactions", str(path), "--merchant", merchant.slug, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {
        k: data[k]
        for k in (
            "rows_read",
            "customers_created",
            "transactions_created",
            "line_items_created",
            "skipped_duplicates",
            "errors",
        )
    } == {
        "rows_read": 2,
        "customers_created": 1,
        "transactions_created": 2,
        "line_items_created": 0,
        "skipped_duplicates": 0,
        "errors": [],
    }


def test_the_cli_exits_non_zero_and_names_the_bad_row(merchant, tmp_path):
    from click.testing import CliRunner

    from langganan.cli import cli

    path = write(tmp_path, "customer_id,date,amount\nC-1,20250102,10000\nC-1,2025-99-99,9\n")
    result = CliRunner().invoke(
        cli, ["import", "transactions", str(path), "--merchant", merchant.slug]
    )
    assert result.exit_code == 1
    assert "row 3: date: not a date" in result.output
    assert "Nothing imported" in result.output
    assert Transaction.objects.count() == 0


def test_the_cli_reports_an_unknown_merchant_without_a_traceback(db, tmp_path):
    from click.testing import CliRunner

    from langganan.cli import cli

    path = write(tmp_path, "date,amount\n20250102,1\n")
    result = CliRunner().invoke(cli, ["import", "transactions", str(path), "--merchant", "nope"])
    assert result.exit_code == 1
    assert "no merchant with this slug: nope" in result.output
    assert "Traceback" not in result.output


def test_lines_that_cost_the_same_are_line_totals_not_a_receipt_total(merchant, tmp_path):
    path = write(
        tmp_path,
        """
no_nota,tanggal,produk,harga,qty,total
A1,2024-02-01,Kopi,15000,1,15000
A1,2024-02-01,Roti,15000,1,15000
""",
    )
    transactions_import(merchant=merchant, path=path)
    assert Transaction.objects.get(external_id="A1").total == Decimal("30000.00")


def test_a_row_with_only_the_phone_of_a_new_customer_belongs_to_that_customer(merchant, tmp_path):
    path = write(
        tmp_path,
        """
tanggal,total,no_hp,id_pelanggan
2024-03-01,10000,081299990001,C1
2024-03-02,20000,081299990001,
""",
    )
    first = transactions_import(merchant=merchant, path=path)
    assert first.customers_created == 1
    customer = Customer.objects.get(merchant=merchant)
    assert (customer.external_ref, customer.phone) == ("C1", "+6281299990001")
    assert customer.transactions.count() == 2
    again = transactions_import(merchant=merchant, path=path)
    assert (again.transactions_created, again.skipped_duplicates) == (0, 2)


def test_a_windows_1252_file_with_an_accent_deep_inside_imports(merchant, tmp_path):
    path = tmp_path / "cp1252.csv"
    rows = ["tanggal,total,nama"] + [f"2024-01-05,{1000 + i},Pelanggan" for i in range(3000)]
    rows.append("2024-01-05,5000,Café André")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed and report.transactions_created == 3001


def test_a_blank_line_before_the_header_does_not_hide_the_delimiter(merchant, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\ntanggal,total,no_hp\n01/02/2024,25000,081234567890\n")
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed and report.transactions_created == 1
