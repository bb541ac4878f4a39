"""Import from the browser in a real browser (Debian's chromium driven by Playwright): an owner
uploads an Excel file with Indonesian headers, one header the importer does not know and one
bad row; sees the bad row in the check's list, fixes the mapping, imports skipping the bad row
and finds the customers in the list. Without chromium the tests fail under CI and skip
elsewhere (see tests/browser/conftest.py)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from langganan.core.models import Role
from langganan.customers.models import Customer
from langganan.sales.models import ImportJob
from tests.browser.test_insight_pages import PASSWORD
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def owner(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    merchant = MerchantFactory(name="Salon Ayu")
    membership = MembershipFactory(merchant=merchant, role=Role.OWNER)
    membership.user.set_password(PASSWORD)
    membership.user.save()
    return merchant, membership.user


def _workbook(path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Pembeli", "No HP", "Tanggal Lahir", "Kota"])
    sheet.append(["Rina Wati", "081234567890", "1990-05-01", "Bandung"])
    sheet.append(["Budi Santoso", "081298765432", "31/02/1988", "Bogor"])  # no such date
    sheet.append(["Sari Dewi", "081311112222", "02/03/1985", "Depok"])
    book.save(path)


@pytest.mark.parametrize("width", [1366, 390])
def test_an_owner_imports_customers_from_excel(browser, live_server, owner, tmp_path, width):
    merchant, user = owner
    path = tmp_path / "pelanggan salon.xlsx"
    _workbook(path)
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID").new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('main button[type="submit"]')
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/m/{merchant.slug}/data/import/")
    page.check('input[value="pelanggan"]')
    page.set_input_files("#import-file", str(path))
    page.click(".import-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    # the preview: "Pembeli" is not recognised, the phone and birth date columns are
    assert page.input_value("#col_1") == ""
    assert page.input_value("#col_2") == "phone"
    assert page.input_value("#col_3") == "birth_date"
    assert "dibaca sebagai 1 Mei 1990" in page.inner_text("main")
    page.select_option("#col_1", "name")
    page.click("button[value=check]")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "Hasil pemeriksaan" in main and "31/02/1988" in main and "bukan tanggal" in main
    assert not Customer.objects.filter(merchant=merchant).exists()
    assert page.input_value("#col_1") == "name"  # the changed mapping is kept

    page.check('input[name="skip_invalid"]')
    page.click("button[value=import]")
    page.wait_for_load_state("networkidle")
    assert "Impor selesai" in page.inner_text("main")
    job = ImportJob.objects.get(merchant=merchant)
    assert (job.customers_created, job.rejected_count) == (2, 1)
    assert sorted(
        Customer.objects.filter(merchant=merchant).values_list("full_name", flat=True)
    ) == [
        "Rina Wati",
        "Sari Dewi",
    ]

    page.click("text=Lihat pelanggan")
    page.wait_for_load_state("networkidle")
    listed = page.inner_text("main")
    assert "Rina Wati" in listed and "Sari Dewi" in listed and "Budi Santoso" not in listed
