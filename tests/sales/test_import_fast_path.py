"""The fast write path of the transactions import (issue 18, point 4) gives the results the
row-by-row import gave: the same identities, totals, dates, customers and row-numbered errors,
on tricky files. Runs on SQLite and PostgreSQL."""

import csv
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from langganan.customers.models import Customer
from langganan.sales.importing import transactions_import
from langganan.sales.importing.transactions import CHUNK
from langganan.sales.models import LineItem, Product, Transaction, TransactionPayment
from tests.factories import CustomerFactory, OutletFactory

JAKARTA = ZoneInfo("Asia/Jakarta")


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def expected_key(txn: Transaction, occurrence: int, items: str = "") -> str:
    """The import identity as the row-by-row import computed it: the digest of the sale's
    content and its occurrence number among identical sales of the file."""
    content = "|".join(
        str(part)
        for part in (
            txn.customer_id or "-",
            txn.occurred_at.astimezone(UTC).isoformat(),
            txn.total,
            txn.payment_method,
            txn.channel,
            txn.outlet_id,
            txn.item_count if txn.item_count is not None else "",
            items,
        )
    )
    digest = hashlib.sha256(content.encode()).hexdigest()
    return hashlib.sha256(f"{digest}#{occurrence}".encode()).hexdigest()[:48]


def test_identical_rows_get_the_identities_of_the_row_by_row_import(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,Jam,No HP,Total,Metode Pembayaran
05/01/2025,10:00,081234567890,25.000,Tunai
05/01/2025,10:00,081234567890,25.000,Tunai
05/01/2025,10:00,081234567890,25.000,Tunai
06/01/2025,11:30,081234567890,"Rp 18.000,00",QRIS
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert (report.transactions_created, report.customers_created) == (4, 1)
    same = list(Transaction.objects.filter(total=Decimal("25000")).order_by("id"))
    assert len(same) == 3
    assert [t.import_key for t in same] == [expected_key(t, n) for n, t in enumerate(same, 1)]
    other = Transaction.objects.get(total=Decimal("18000"))
    assert other.import_key == expected_key(other, 1)
    again = transactions_import(merchant=merchant, path=path)
    assert (again.transactions_created, again.skipped_duplicates) == (0, 4)
    assert Transaction.objects.count() == 4


def test_identities_count_occurrences_across_chunks(merchant, tmp_path):
    row = "07/02/2025,09:15,081298765432,12000,Tunai\n"
    path = tmp_path / "many.csv"
    path.write_text("Tanggal,Jam,No HP,Total,Metode\n" + row * (CHUNK + 3), encoding="utf-8")
    report = transactions_import(merchant=merchant, path=path)
    assert report.transactions_created == CHUNK + 3
    keys = list(Transaction.objects.order_by("id").values_list("import_key", flat=True))
    assert len(set(keys)) == CHUNK + 3
    last = Transaction.objects.order_by("-id").first()
    assert last.import_key == expected_key(last, CHUNK + 3)
    assert transactions_import(merchant=merchant, path=path).transactions_created == 0


def test_existing_customers_get_the_sales_and_no_twin(merchant, tmp_path):
    known = CustomerFactory(merchant=merchant, phone="+6281234567890", full_name="Rina")
    by_ref = CustomerFactory(merchant=merchant, phone=None, external_ref="C-7")
    path = write(
        tmp_path,
        """
customer_id,no_hp,nama,tanggal,total
,0812-3456-7890,Rina W,2025-03-01,10000
C-7,,,2025-03-02,20000
C-8,0813 0000 1111,Baru,2025-03-03,30000
,081300001111,,2025-03-04,40000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert (report.transactions_created, report.customers_created) == (4, 1)
    assert known.transactions.get().total == Decimal("10000")
    assert by_ref.transactions.get().total == Decimal("20000")
    new = Customer.objects.get(merchant=merchant, external_ref="C-8")
    assert new.phone == "+6281300001111"
    assert sorted(new.transactions.values_list("total", flat=True)) == [
        Decimal("30000"),
        Decimal("40000"),
    ]
    assert new.joined_at == datetime(2025, 3, 3, tzinfo=JAKARTA)
    assert new.member_code.startswith("LG") and new.acquisition_source == "import"
    known.refresh_from_db()
    assert known.full_name == "Rina"  # an import never renames a known customer


def test_indonesian_amounts_and_day_month_year_dates(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal;Jam;Total
31/12/2024;23.59;Rp 25.000,00
01/02/2025;07:05;1.250.000,50
2/3/25;;"Rp 25.000,-"
15-04-2025;12:00:30;11.77
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert report.committed and report.error_count == 0
    got = list(Transaction.objects.order_by("occurred_at").values_list("occurred_at", "total"))
    assert got == [
        (datetime(2024, 12, 31, 23, 59, tzinfo=JAKARTA), Decimal("25000.00")),
        (datetime(2025, 2, 1, 7, 5, tzinfo=JAKARTA), Decimal("1250000.50")),
        (datetime(2025, 3, 2, 0, 0, tzinfo=JAKARTA), Decimal("25000.00")),
        (datetime(2025, 4, 15, 12, 0, 30, tzinfo=JAKARTA), Decimal("11.77")),
    ]
    paid = TransactionPayment.objects.order_by("transaction__occurred_at")
    assert [p.amount for p in paid] == [t for _, t in got]
    assert {p.method for p in paid} == {"cash"}


def test_every_bad_row_is_reported_by_number_and_nothing_is_written(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,Total,No HP
01/01/2025,10.000,081234567890
32/01/2025,10.000,081234567890
01/01/2025,sepuluh ribu,081234567890
32/01/2025,5000,081234567890
02/01/2025,-5000,
03/01/2025,7000,12
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert not report.committed
    got = [(e.row, e.field) for e in report.errors]
    # the same bad date text twice is reported twice, each with its own row number
    assert got == [(3, "date"), (4, "total"), (5, "date"), (6, "total"), (7, "phone")]
    assert report.error_count == 5
    assert (Transaction.objects.count(), Customer.objects.count()) == (0, 0)


def test_skip_invalid_commits_the_good_rows_and_rejects_the_bad_with_reasons(merchant, tmp_path):
    path = write(
        tmp_path,
        """
Tanggal,Total
01/01/2025,10.000
31/02/2025,20.000
02/01/2025,Rp 30.000
02/01/2025,abc
""",
    )
    rejects = tmp_path / "bad.csv"
    report = transactions_import(
        merchant=merchant, path=path, skip_invalid=True, rejects_path=rejects
    )
    assert report.committed and report.transactions_created == 2
    assert sorted(Transaction.objects.values_list("total", flat=True)) == [
        Decimal("10000"),
        Decimal("30000"),
    ]
    with open(rejects, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == ["3", "5"]
    assert all(r[-1].startswith(f"row {r[0]}: ") for r in rows[1:])


def test_line_items_products_and_payments_are_written_with_their_sales(merchant, tmp_path):
    path = write(
        tmp_path,
        """
tanggal,jam,no_hp,produk,kategori,qty,harga
2025-05-01,10:00,081234567890,Kopi Susu,Minuman,2,Rp 18.000
2025-05-01,10:00,081234567890,Roti Bakar,Makanan,1,16.000
2025-05-01,12:00,081234567890,kopi susu,Minuman,1,18000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert (report.transactions_created, report.line_items_created) == (2, 3)
    assert report.products_created == 2
    assert sorted(Product.objects.values_list("name", flat=True)) == ["Kopi Susu", "Roti Bakar"]
    first = Transaction.objects.get(occurred_at=datetime(2025, 5, 1, 10, tzinfo=JAKARTA))
    assert first.total == Decimal("52000")
    assert first.import_key == expected_key(
        first, 1, "kopi susu*2.000@18000.00-0;roti bakar*1.000@16000.00-0"
    )
    assert list(first.items.values_list("product__name", "quantity", "unit_price")) == [
        ("Kopi Susu", Decimal("2"), Decimal("18000")),
        ("Roti Bakar", Decimal("1"), Decimal("16000")),
    ]
    assert list(first.payments.values_list("method", "amount")) == [("cash", Decimal("52000"))]
    assert LineItem.objects.filter(product__name="Kopi Susu").count() == 2
    assert transactions_import(merchant=merchant, path=path).transactions_created == 0


def test_imported_sales_never_reuse_the_id_of_a_deleted_sale(merchant, tmp_path):
    outlet = OutletFactory(merchant=merchant)
    gone = Transaction.objects.create(
        merchant=merchant,
        outlet=outlet,
        occurred_at=datetime(2025, 1, 1, tzinfo=JAKARTA),
        total=Decimal("1000"),
        payment_method="cash",
    )
    gone_id = gone.pk
    gone.delete()
    path = write(tmp_path, "tanggal,total\n2025-01-02,2000\n2025-01-03,3000")
    transactions_import(merchant=merchant, path=path)
    ids = sorted(Transaction.objects.values_list("id", flat=True))
    assert len(ids) == 2 and min(ids) > gone_id
    # the ORM's next sale comes after the imported ones
    later = Transaction.objects.create(
        merchant=merchant,
        outlet=outlet,
        occurred_at=datetime(2025, 1, 4, tzinfo=JAKARTA),
        total=Decimal("4000"),
        payment_method="cash",
    )
    assert later.pk > max(ids)


def _indexes(tables):
    from django.db import connection

    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
            f"({', '.join(['%s'] * len(tables))}) ORDER BY name",
            tables,
        )
        return cursor.fetchall()


TABLES = ["sales_transaction", "sales_transactionpayment", "sales_lineitem"]


def test_a_large_import_builds_the_plain_indexes_at_the_end(merchant, tmp_path, monkeypatch):
    """A file large for the table (here: any file) has the sales tables' plain indexes built
    once at the end on SQLite; they come back exactly as they were, the results are those
    of the index-by-index import, and a bad row's roll-back keeps them too."""
    from langganan.sales.importing import transactions as module

    monkeypatch.setattr(module, "DEFER_INDEXES_MIN_ROWS", 1)
    monkeypatch.setattr(module, "CSV_BYTES_PER_ROW", 1)
    before = _indexes(TABLES)
    path = write(
        tmp_path,
        """
tanggal,no_hp,produk,qty,harga
2025-06-01,081234567890,Kopi,1,18000
2025-06-01,081234567890,Roti,2,"16.000"
2025-06-02,081298765432,Kopi,1,18000
""",
    )
    report = transactions_import(merchant=merchant, path=path)
    assert (report.transactions_created, report.line_items_created) == (2, 3)
    assert _indexes(TABLES) == before
    assert Transaction.objects.filter(customer__phone="+6281234567890").get().total == Decimal(
        "50000"
    )
    bad = write(tmp_path, "tanggal,total\n2025-06-03,1000\n2025-13-03,1000", name="bad.csv")
    failed = transactions_import(merchant=merchant, path=bad)
    assert not failed.committed and [e.row for e in failed.errors] == [3]
    assert _indexes(TABLES) == before
    assert Transaction.objects.count() == 2
