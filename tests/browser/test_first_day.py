"""A merchant's first day in a real browser (Debian's chromium driven by Playwright): the
installation's first owner (made by ``langganan owner create``) signs in, sets up her business,
the loyalty program and a tier, uploads an Excel file with Indonesian headers and one bad row,
sees the row in the check's list, fixes the mapping, imports, finds her customers, filters the
list and exports it to Excel — and the downloaded workbook holds exactly the filtered
customers (opened with openpyxl)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from langganan.cli import cli
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.models import Program, Tier
from langganan.privacy.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "warteg-sri-2026"


def _workbook(path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Pembeli", "No HP", "Tanggal Lahir", "Kota"])
    sheet.append(["Rina Wati", "081234567890", "1990-05-01", "Bandung"])
    sheet.append(["Budi Santoso", "081298765432", "31/02/1988", "Bogor"])  # no such date
    sheet.append(["Sari Dewi", "081311112222", "02/03/1985", "Bandung"])
    sheet.append(["Tono Wijaya", "081322223333", "1979-12-24", "Depok"])
    book.save(path)


def test_a_new_owner_goes_from_nothing_to_an_exported_customer_list(
    browser, live_server, settings, tmp_path
):
    settings.DATA_DIR = tmp_path / "data"
    result = CliRunner().invoke(
        cli, ["owner", "create", "--username", "sri", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID").new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', "sri")
    page.fill('input[name="password"]', PASSWORD)
    page.click('main button[type="submit"]')
    page.wait_for_load_state("networkidle")

    # the set-up: her business and first outlet
    assert "Siapkan usaha Anda" in page.inner_text("main")
    page.fill("#id_name", "Warteg Bu Sri")
    page.select_option("#id_business_type", "warung")
    page.fill("#id_outlet_name", "Warteg Bu Sri Kemang")
    page.fill("#id_outlet_city", "Jakarta Selatan")
    page.click('main button[type="submit"]')
    page.wait_for_load_state("networkidle")
    merchant = Merchant.objects.get(name="Warteg Bu Sri")
    assert page.url.endswith(f"/m/{merchant.slug}/setup/")

    # the loyalty program with its live example, then a tier
    page.click("#step-program a.button")
    page.wait_for_load_state("networkidle")
    page.fill("#id_earn_step", "25000")
    assert "2 poin" in page.inner_text("#earn-example")  # Rp 50.000: 2 steps of Rp 25.000
    page.fill("#id_earn_points", "2")
    assert "4 poin" in page.inner_text("#earn-example")  # … of 2 points each
    page.click("#program-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert Program.objects.get(merchant=merchant).earn_step == 25000
    page.click("#step-tiers a.button")
    page.wait_for_load_state("networkidle")
    page.fill("#id_tier-0-name", "Gold")
    page.fill("#id_tier-0-min_spend", "1000000")
    page.fill("#id_tier-0-earn_multiplier", "2")
    page.click("#tiers-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Gold" in page.inner_text("main")
    assert Tier.objects.get(program__merchant=merchant).min_spend == 1000000

    # the import: preview, the bad row in the check's list, the mapping fixed, imported
    path = tmp_path / "pelanggan warteg.xlsx"
    _workbook(path)
    page.goto(f"{live_server.url}/m/{merchant.slug}/data/import/")
    page.check('input[value="pelanggan"]')
    page.set_input_files("#import-file", str(path))
    page.click(".import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#col_1") == ""  # "Pembeli" is no header the importer knows
    page.select_option("#col_1", "name")
    page.click("button[value=check]")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "31/02/1988" in main and "bukan tanggal" in main
    assert not Customer.objects.filter(merchant=merchant).exists()
    page.check('input[name="skip_invalid"]')
    page.click("button[value=import]")
    page.wait_for_load_state("networkidle")
    assert "Impor selesai" in page.inner_text("main")
    assert Customer.objects.filter(merchant=merchant).count() == 3

    # the list filtered to one city, exported to Excel
    page.goto(f"{live_server.url}/m/{merchant.slug}/customers/?cities=Bandung")
    page.wait_for_load_state("networkidle")
    listed = page.inner_text("main")
    assert "Rina Wati" in listed and "Sari Dewi" in listed and "Tono Wijaya" not in listed
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Nama", "Sapaan", "Telepon"]
    assert sorted(r[0] for r in rows[1:]) == ["Rina Wati", "Sari Dewi"]
    event = AuditEvent.objects.get(merchant=merchant, action="export.table")
    assert event.detail["rows"] == 2
