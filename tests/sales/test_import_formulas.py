"""A file with a formula-injection payload (``=cmd|' /C calc'!A0`` as a name or a product):
the row is refused with a clear reason, by its number, and nothing is written unless bad rows
are skipped; plain text that merely starts with a sign ("- tanpa gula", a phone "+62…") is
imported as before (issue 18's bad files)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.customers.models import Customer
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.importing.common import looks_like_formula
from langganan.sales.models import ImportJob, Transaction
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://contoh.test","klik")',
    "  =1+1",
]
PLAIN = [
    "-",
    "- tanpa gula (es)",
    "+62 812 3456 789",
    "Rina (Bu RT)",
    "Es teh - manis",
    "Kak Rina!",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_payloads_look_like_formulas(text):
    assert looks_like_formula(text)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_does_not(text):
    assert not looks_like_formula(text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_customer_named_like_a_formula_is_refused_and_nothing_is_written(tmp_path, payload):
    merchant = MerchantFactory()
    path = tmp_path / "pelanggan.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        import csv

        writer = csv.writer(handle)
        writer.writerow(["Nama", "No HP", "Catatan"])
        writer.writerow(["Rina", "081234567890", "- tanpa gula (es)"])
        writer.writerow([payload, "081298765432", ""])

    report = customers_import(merchant=merchant, path=path)

    assert not report.committed
    assert [(e.row, e.field) for e in report.errors] == [(3, "name")]
    assert "spreadsheet formula" in report.errors[0].reason
    assert not Customer.objects.exists()

    skipped = customers_import(merchant=merchant, path=path, skip_invalid=True)

    assert skipped.committed and skipped.customers_created == 1
    assert Customer.objects.get(merchant=merchant).notes == "- tanpa gula (es)"


def test_a_product_named_like_a_formula_refuses_its_sale(tmp_path):
    merchant = MerchantFactory()
    path = tmp_path / "penjualan.csv"
    path.write_text(
        "No Nota,Tanggal,Produk,Harga\n"
        "N-1,2026-11-02,Nasi rames,15000\n"
        "N-2,2026-11-02,\"=cmd|' /C calc'!A0\",5000\n",
        encoding="utf-8",
    )

    report = transactions_import(merchant=merchant, path=path)

    assert [(e.row, e.field) for e in report.errors] == [(3, "product")]
    assert not Transaction.objects.exists()


def test_the_browser_names_the_row_and_the_reason_in_indonesian(client, settings, tmp_path):
    settings.DATA_DIR = str(tmp_path / "data")
    merchant = MerchantFactory()
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"Nama,No HP\nRina,081234567890\n\"=cmd|' /C calc'!A0\",081298765432\n"
    response = client.post(
        reverse("data:import", kwargs={"slug": merchant.slug}),
        {"kind": "pelanggan", "file": SimpleUploadedFile("pelanggan.csv", content)},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get(merchant=merchant)
    url = reverse("data:import_job", kwargs={"slug": merchant.slug, "job_id": job.pk})
    response = client.post(
        url, {"action": "check", "columns": "2", "col_1": "name", "col_2": "phone"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert [(e["row"], e["field"]) for e in job.dry_run["errors"]] == [(3, "name")]
    html = client.get(url).content.decode()
    assert "tampak seperti rumus spreadsheet" in html
    assert not Customer.objects.exists()
