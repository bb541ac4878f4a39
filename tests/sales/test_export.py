import csv
from decimal import Decimal

import pytest

from langganan.customers.services import consent_record
from langganan.sales.exporting import CUSTOMER_COLUMNS, TRANSACTION_COLUMNS, export_table
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.models import LineItem, Transaction
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
)


@pytest.fixture
def shop(db):
    merchant = MerchantFactory()
    outlet = OutletFactory(merchant=merchant, code="JKT-01")
    rina = CustomerFactory(
        merchant=merchant,
        full_name="Rina",
        phone="+6281234567890",
        external_ref="C-1",
        tags=["kopi"],
    )
    consent_record(customer=rina, channel="whatsapp", granted=True, source="counter")
    with_items = TransactionFactory(
        merchant=merchant,
        outlet=outlet,
        customer=rina,
        total=Decimal("47000"),
        payment_method="qris",
    )
    LineItemFactory(
        transaction=with_items,
        product_name="Kopi Susu",
        quantity=2,
        unit_price=Decimal("22000"),
        discount=Decimal("2000"),
    )
    LineItemFactory(
        transaction=with_items, product_name="Pisang Goreng", quantity=1, unit_price=Decimal("5000")
    )
    TransactionFactory(
        merchant=merchant, outlet=outlet, customer=None, total=Decimal("8000"), external_id="POS-77"
    )
    return merchant


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_into_another_merchant_gives_the_same_data(shop, tmp_path, suffix):
    customers_file = tmp_path / f"customers{suffix}"
    transactions_file = tmp_path / f"transactions{suffix}"
    assert export_table(merchant=shop, what="customers", path=customers_file) == 1
    assert export_table(merchant=shop, what="transactions", path=transactions_file) == 3

    copy = MerchantFactory()
    OutletFactory(merchant=copy, code="JKT-01")
    assert customers_import(merchant=copy, path=customers_file).customers_created == 1
    report = transactions_import(merchant=copy, path=transactions_file)
    assert report.committed, report.errors
    assert (report.transactions_created, report.line_items_created) == (2, 2)
    assert report.customers_created == 0  # matched by customer id
    original = Transaction.objects.filter(merchant=shop)
    copied = Transaction.objects.filter(merchant=copy)
    assert sum(copied.values_list("total", flat=True)) == sum(
        original.values_list("total", flat=True)
    )
    assert sorted(copied.values_list("payment_method", "customer__phone")) == sorted(
        original.values_list("payment_method", "customer__phone")
    )
    assert sorted(
        LineItem.objects.filter(transaction__merchant=copy).values_list(
            "product_name", "quantity", "unit_price", "discount"
        )
    ) == sorted(
        LineItem.objects.filter(transaction__merchant=shop).values_list(
            "product_name", "quantity", "unit_price", "discount"
        )
    )


def test_an_export_imported_back_into_the_same_merchant_creates_nothing(shop, tmp_path):
    path = tmp_path / "t.csv"
    export_table(merchant=shop, what="transactions", path=path)
    # transactions without a POS id get their import identity on the first import
    Transaction.objects.filter(merchant=shop, external_id__isnull=True).delete()
    first = transactions_import(merchant=shop, path=path)
    assert first.transactions_created == 1
    again = transactions_import(merchant=shop, path=path)
    assert again.transactions_created == 0


def test_export_files_have_a_header_row(shop, tmp_path):
    path = tmp_path / "c.csv"
    export_table(merchant=shop, what="customers", path=path)
    with open(path) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CUSTOMER_COLUMNS
    assert rows[1][CUSTOMER_COLUMNS.index("consent_whatsapp")] == "ya"
    path = tmp_path / "t.csv"
    export_table(merchant=shop, what="transactions", path=path)
    with open(path) as handle:
        assert next(csv.reader(handle)) == TRANSACTION_COLUMNS


def test_cells_that_look_like_formulas_are_neutralised(db, tmp_path):
    merchant = MerchantFactory()
    CustomerFactory(merchant=merchant, full_name='=HYPERLINK("x")')
    path = tmp_path / "c.csv"
    export_table(merchant=merchant, what="customers", path=path)
    assert "'=HYPERLINK" in path.read_text()


def test_export_only_contains_the_merchants_own_rows(shop, tmp_path):
    other = MerchantFactory()
    CustomerFactory(merchant=other, full_name="Orang Lain")
    path = tmp_path / "c.csv"
    export_table(merchant=shop, what="customers", path=path)
    assert "Orang Lain" not in path.read_text()
