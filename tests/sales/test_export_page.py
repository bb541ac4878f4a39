"""Export from the browser (issue 18, point 3): the customers, sales and balances tables with
Indonesian headers that import back, owners only, each export in the audit log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from langganan.loyalty.points import points_earn
from langganan.loyalty.tab import tab_charge, tab_set_limit
from langganan.privacy.models import AuditEvent
from langganan.sales.exporting import INDONESIAN_HEADERS
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.importing.fields import ALIASES, normalize_header
from langganan.sales.models import Transaction
from tests.factories import MembershipFactory, MerchantFactory, OutletFactory
from tests.loyalty.factories import ProgramFactory
from tests.sales.test_export import shop  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
READ_ONLY = {"kind", "refund_of"}  # for reading: the importer passes them over


def file_url(merchant, what: str, fmt: str) -> str:
    return reverse("data:export_file", kwargs={"slug": merchant.slug, "what": what, "fmt": fmt})


def log_in(client, merchant, role="owner"):
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return membership.user


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


def test_every_indonesian_header_is_read_by_the_importer_as_its_field():
    field_of = {"transaction_id": "external_id"}
    for column, header in INDONESIAN_HEADERS.items():
        if column in READ_ONLY:
            continue
        field = field_of.get(column, column)
        assert normalize_header(header) in ALIASES[field], (column, header)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_owner_downloads_both_tables_and_they_import_back(client, shop, tmp_path, fmt):  # noqa: F811
    user = log_in(client, shop)

    files = {}
    for what in ("customers", "transactions"):
        response = client.post(file_url(shop, what, fmt))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        name = "pelanggan" if what == "customers" else "transaksi"
        assert f'filename="{name}-{shop.slug}-' in response["Content-Disposition"]
        files[what] = tmp_path / f"{what}.{fmt}"
        files[what].write_bytes(downloaded(response))

    if fmt == "csv":
        header = next(csv.reader(io.StringIO(files["customers"].read_text("utf-8"))))
    else:
        header = next(load_workbook(files["customers"]).active.iter_rows(values_only=True))
    assert list(header[:3]) == ["ID Pelanggan", "No HP", "Nama"]

    copy = MerchantFactory()
    OutletFactory(merchant=copy, code="JKT-01")
    assert customers_import(merchant=copy, path=files["customers"]).customers_created == 1
    report = transactions_import(merchant=copy, path=files["transactions"])
    assert report.committed, report.errors
    assert report.transactions_created == 2
    assert sum(Transaction.objects.filter(merchant=copy).values_list("total", flat=True)) == sum(
        Transaction.objects.filter(merchant=shop).values_list("total", flat=True)
    )
    events = AuditEvent.objects.filter(merchant=shop, action="export.table").order_by("id")
    assert [(e.detail["table"], e.detail["rows"], e.user_id) for e in events] == [
        ("customers", 1, user.pk),
        ("transactions", 3, user.pk),
    ]


def test_the_balances_file_holds_points_value_credit_and_tab(client, shop):  # noqa: F811
    ProgramFactory(merchant=shop, point_value=Decimal("100"))
    rina = shop.customers.get(full_name="Rina")
    points_earn(customer=rina, points=25, key="p1", at=NOW)
    tab_set_limit(customer=rina, limit=Decimal("200000"), at=NOW)
    tab_charge(customer=rina, amount=Decimal("35000"), key="t1", at=NOW)
    log_in(client, shop)

    response = client.post(file_url(shop, "balances", "csv"))

    rows = list(csv.reader(io.StringIO(downloaded(response).decode("utf-8"))))
    assert rows[0] == [
        "ID Pelanggan",
        "Nama",
        "No HP",
        "Kode Member",
        "Poin",
        "Nilai Poin (Rp)",
        "Saldo Toko (Rp)",
        "Kasbon Terutang (Rp)",
        "Limit Kasbon (Rp)",
    ]
    assert len(rows) == 2
    row = rows[1]
    assert row[1] == "Rina"
    assert row[4] == "25"
    assert Decimal(row[5]) == Decimal("2500")
    assert Decimal(row[6]) == 0
    assert Decimal(row[7]) == Decimal("35000")
    assert Decimal(row[8]) == Decimal("200000")


def test_the_page_lists_the_tables_in_indonesian(client, shop):  # noqa: F811
    log_in(client, shop)

    response = client.get(reverse("data:export", kwargs={"slug": shop.slug}))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Ekspor data", "Pelanggan", "Penjualan", "Saldo poin dan kasbon", "Unduh Excel"):
        assert text in html
    assert "2 penjualan dan refund" in html and "1 pelanggan" in html


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_the_owner_may_export(client, shop, role):  # noqa: F811
    log_in(client, shop, role)

    assert client.get(reverse("data:export", kwargs={"slug": shop.slug})).status_code == 403
    assert client.post(file_url(shop, "customers", "csv")).status_code == 403
    assert not AuditEvent.objects.filter(action="export.table").exists()


def test_another_merchants_export_is_not_found_and_bad_requests_are_refused(client, shop):  # noqa: F811
    log_in(client, shop)
    other = MerchantFactory()

    assert client.get(reverse("data:export", kwargs={"slug": other.slug})).status_code == 404
    assert client.post(file_url(other, "customers", "csv")).status_code == 404
    assert client.post(file_url(shop, "passwords", "csv")).status_code == 404
    assert client.post(file_url(shop, "customers", "pdf")).status_code == 404
    assert client.get(file_url(shop, "customers", "csv")).status_code == 405
    assert not AuditEvent.objects.filter(action="export.table").exists()
