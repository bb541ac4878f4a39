"""Import from the browser (issue 18, point 2): upload → preview with the recognised columns
and a mapping that can be changed → dry run listing bad rows by number, writing nothing →
import in the background with progress and cancel → result; the same counts as the command
line's importer; bad files refused in Indonesian with nothing written; owners only."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from langganan.customers.models import Customer
from langganan.sales import import_jobs
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.models import ImportJob, Transaction
from tests.factories import MembershipFactory, MerchantFactory, OutletFactory

pytestmark = pytest.mark.django_db

SALES_CSV = (
    "Tanggal,No HP,Nama,Total,Pembayaran\n"
    '05/11/2026 14:30,081234567890,Rina Wati,"Rp 25.000",tunai\n'
    "06/11/2026 09:15,081298765432,Budi,18.500,qris\n"
    "07/11/2026 12:00,081234567890,Rina Wati,32000,gopay\n"
    "08/11/2026 19:45,081311112222,Sari,41.000,debit\n"
)
#: row 3 (the header is row 1) has a date that does not exist
SALES_BAD_CSV = (
    "Tanggal,No HP,Nama,Total\n"
    "05/11/2026,081234567890,Rina Wati,25000\n"
    "31/02/2026,081298765432,Budi,18500\n"
    "07/11/2026,081311112222,Sari,32000\n"
)
#: "Pembeli" is no header the importer knows; "Kota" is, and will be ignored
CUSTOMERS_CSV = (
    "Pembeli,No HP,Kota\nRina Wati,081234567890,Jakarta\nBudi Santoso,081298765432,Bandung\n"
)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Uploads go under the data folder: a fresh one for each test."""
    settings.DATA_DIR = tmp_path / "data"


def owner_client(client, merchant, role="owner"):
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def import_url(merchant) -> str:
    return reverse("data:import", kwargs={"slug": merchant.slug})


def job_url(job, name="data:import_job") -> str:
    return reverse(name, kwargs={"slug": job.merchant.slug, "job_id": job.pk})


def upload(client, merchant, text: str | bytes, *, kind="transaksi", name="penjualan.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        import_url(merchant),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
    )


def uploaded_job(client, merchant, text, **kwargs) -> ImportJob:
    response = upload(client, merchant, text, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.filter(merchant=merchant).latest("pk")
    assert response["Location"] == job_url(job)
    return job


def post_job(client, job, action, columns: list[str] | None = None, skip_invalid=False):
    if columns is None:  # what the preview shows selected
        columns = [c["field"] for c in client.get(job_url(job)).context["columns"]]
    data = {"action": action, "columns": str(len(columns))}
    data.update({f"col_{n}": field for n, field in enumerate(columns, start=1)})
    if skip_invalid:
        data["skip_invalid"] = "1"
    return client.post(job_url(job), data)


def uploads_of(merchant) -> list[Path]:
    folder = Path(settings.DATA_DIR) / "uploads" / str(merchant.pk)
    return sorted(folder.iterdir()) if folder.exists() else []


# -- upload and preview -----------------------------------------------------------------------


def test_the_preview_shows_the_recognised_columns_and_how_cells_are_read(client, merchant):
    owner_client(client, merchant)

    job = uploaded_job(client, merchant, SALES_CSV)
    page = client.get(job_url(job))

    assert page.status_code == 200
    assert [c["field"] for c in page.context["columns"]] == [
        "date",
        "phone",
        "name",
        "total",
        "payment_method",
    ]
    html = page.content.decode()
    assert '<option value="date" selected>Tanggal</option>' in html
    assert '<option value="total" selected>Total</option>' in html
    assert "Rina Wati" in html and "081298765432" in html
    # the date and amount formats, with how the first cell of each is read
    assert "DD/MM/YYYY dengan jam" in html
    assert "dibaca sebagai <strong>5 November 2026 pukul 14.30</strong>" in html
    assert "sel “Rp 25.000” dibaca sebagai <strong>Rp 25.000</strong>" in html
    assert "ribuan dengan titik (25.000) diawali Rp" in html
    # stored outside the web root, under the data folder, and nothing imported yet
    (stored,) = uploads_of(merchant)
    assert Path(job.stored_path) == stored and stored.suffix == ".csv"
    assert (job.status, job.kind, job.original_name) == ("diunggah", "transaksi", "penjualan.csv")
    assert job.size == len(SALES_CSV.encode())
    assert not Transaction.objects.filter(merchant=merchant).exists()


def test_a_changed_mapping_is_used_by_the_import(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, CUSTOMERS_CSV, kind="pelanggan", name="pelanggan.csv")
    columns = [c["field"] for c in client.get(job_url(job)).context["columns"]]
    assert columns == ["", "phone", "city"]  # "Pembeli" is not recognised

    response = post_job(client, job, "save", ["name", "phone", ""])
    assert response.status_code == 302
    page = client.get(job_url(job))
    assert [c["field"] for c in page.context["columns"]] == ["name", "phone", ""]

    post_job(client, job, "import", ["name", "phone", ""])

    job.refresh_from_db()
    assert (job.status, job.customers_created) == ("selesai", 2)
    rina = Customer.objects.get(merchant=merchant, phone="+6281234567890")
    assert rina.full_name == "Rina Wati"
    assert rina.city == ""  # the ignored column


def test_a_first_row_of_unknown_names_can_be_made_the_header(client, merchant):
    text = "Pembeli,Telp,Asal\nRina Wati,081234567890,Bogor\nBudi,081298765432,Depok\n"
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, text, kind="pelanggan")
    page = client.get(job_url(job))
    assert [c["header"] for c in page.context["columns"]] == ["Kolom 1", "Kolom 2", "Kolom 3"]
    assert page.context["preview"].rows[0] == (1, ["Pembeli", "Telp", "Asal"])
    assert 'name="first_row_header"' in page.content.decode()

    data = {"action": "save", "columns": "3", "col_1": "name", "col_2": "phone", "col_3": "city"}
    client.post(job_url(job), {**data, "header_choice": "1", "first_row_header": "1"})

    page = client.get(job_url(job))
    assert [c["header"] for c in page.context["columns"]] == ["Pembeli", "Telp", "Asal"]
    assert [n for n, _cells in page.context["preview"].rows] == [2, 3]
    post_job(client, job, "import")
    job.refresh_from_db()
    assert (job.status, job.customers_created, job.rejected_count) == ("selesai", 2, 0)
    assert sorted(Customer.objects.values_list("full_name", "city")) == [
        ("Budi", "Depok"),
        ("Rina Wati", "Bogor"),
    ]


def test_two_columns_set_to_one_field_are_refused_in_indonesian(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)

    response = post_job(client, job, "check", ["date", "phone", "name", "total", "total"])

    assert response.status_code == 400
    assert "Kolom 4 dan 5 sama-sama diisi “Total”; pilih salah satu." in response.content.decode()
    job.refresh_from_db()
    assert job.dry_run is None and job.mapping == {}


# -- dry run ----------------------------------------------------------------------------------


def test_the_dry_run_lists_the_bad_row_by_number_and_writes_nothing(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_BAD_CSV)

    response = post_job(client, job, "check")

    assert response.status_code == 302 and response["Location"].endswith("#periksa")
    job.refresh_from_db()
    assert job.status == "diperiksa"
    assert job.dry_run["rejected"] == 1
    assert [(e["row"], e["field"]) for e in job.dry_run["errors"]] == [(3, "date")]
    html = client.get(job_url(job)).content.decode()
    assert "Baris </span>3</td><td>Tanggal</td><td>31/02/2026</td>" in html
    assert "bukan tanggal (pakai YYYY-MM-DD, DD/MM/YYYY atau YYYYMMDD)" in html
    assert "Tidak ada yang bisa diimpor selama baris-baris ini salah" in html
    assert "Transaksi yang akan dibuat" not in html  # nothing would be, all or nothing
    assert not Transaction.objects.filter(merchant=merchant).exists()
    assert not Customer.objects.filter(merchant=merchant).exists()

    download = client.get(job_url(job, "data:import_errors"))
    assert download.status_code == 200
    assert 'filename="baris-salah-' in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Baris", "Kolom", "Isi", "Alasan"]
    assert rows[1][:3] == ["3", "Tanggal", "31/02/2026"]
    assert rows[1][3].startswith("bukan tanggal")


def test_a_clean_dry_run_counts_what_the_import_would_create_and_writes_nothing(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)

    post_job(client, job, "check")

    job.refresh_from_db()
    assert job.dry_run["transactions_created"] == 4
    assert job.dry_run["customers_created"] == 3
    assert job.dry_run["rejected"] == 0
    assert "Tidak ada baris yang salah. Berkas siap diimpor." in (
        client.get(job_url(job)).content.decode()
    )
    assert not Transaction.objects.filter(merchant=merchant).exists()
    assert not Customer.objects.filter(merchant=merchant).exists()
    assert Path(job.stored_path).exists()  # kept for the import


# -- the import -------------------------------------------------------------------------------


def test_the_import_counts_what_the_cli_counts_and_deletes_the_file(client, merchant, tmp_path):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)
    post_job(client, job, "check")

    response = post_job(client, job, "import")  # no worker running: runs in this request

    assert response.status_code == 302
    job.refresh_from_db()
    copy = tmp_path / "penjualan.csv"
    copy.write_text(SALES_CSV, encoding="utf-8")
    cli = transactions_import(merchant=MerchantFactory(), path=copy)
    assert job.status == "selesai"
    assert (
        job.transactions_created,
        job.customers_created,
        job.duplicates_skipped,
        job.rejected_count,
    ) == (
        cli.transactions_created,
        cli.customers_created,
        cli.skipped_duplicates,
        cli.error_count,
    )
    assert cli.transactions_created == 4
    assert Transaction.objects.filter(merchant=merchant).count() == 4
    assert uploads_of(merchant) == []  # the upload and its progress file are gone
    html = client.get(job_url(job)).content.decode()
    assert "Impor selesai" in html
    assert reverse("customers:customer_list", kwargs={"slug": merchant.slug}) in html

    # the same file again creates nothing
    ImportJob.objects.filter(pk=job.pk).delete()
    again = uploaded_job(client, merchant, SALES_CSV)
    post_job(client, again, "import")
    again.refresh_from_db()
    assert (again.status, again.transactions_created, again.duplicates_skipped) == (
        "selesai",
        0,
        4,
    )
    assert Transaction.objects.filter(merchant=merchant).count() == 4


def test_a_customers_import_counts_what_the_cli_counts(client, merchant, tmp_path):
    text = "Nama,No HP,Tanggal Lahir\nRina,081234567890,1990-05-01\nBudi,081298765432,\n"
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, text, kind="pelanggan", name="pelanggan.csv")

    post_job(client, job, "import")

    job.refresh_from_db()
    copy = tmp_path / "pelanggan.csv"
    copy.write_text(text, encoding="utf-8")
    cli = customers_import(merchant=MerchantFactory(), path=copy)
    assert (job.status, job.customers_created, job.duplicates_skipped) == (
        "selesai",
        cli.customers_created,
        cli.skipped_duplicates,
    )
    assert job.customers_created == 2
    # personal data came in: the audit log says who imported what, and how much
    from langganan.privacy.models import AuditEvent

    event = AuditEvent.objects.get(merchant=merchant, action="import.table")
    assert (event.user_id, event.object_id) == (job.user_id, str(job.pk))
    assert (event.detail["table"], event.detail["created"]) == (job.kind, 2)


def test_with_a_worker_the_import_is_queued_and_the_status_polls_its_progress(
    client, merchant, monkeypatch, django_capture_on_commit_callbacks
):
    import django_q.tasks

    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)
    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: queued.append(a))
    monkeypatch.setattr("langganan.sales.import_views.worker_running", lambda: True)

    with django_capture_on_commit_callbacks(execute=True):
        post_job(client, job, "import")

    assert queued == [(import_jobs.TASK, job.pk)]
    job.refresh_from_db()
    assert job.status == "berjalan"
    page = client.get(job_url(job)).content.decode()
    assert 'role="progressbar"' in page and "import-progress.js" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    Path(job.stored_path + ".progress").write_text(json.dumps({"done": 50, "total": 200}))
    status = client.get(job_url(job, "data:import_status")).json()
    assert (status["status"], status["percent"], status["ended"]) == ("berjalan", 25, False)

    assert import_jobs.import_job_task(job.pk) == f"import {job.pk}: selesai"

    status = client.get(job_url(job, "data:import_status")).json()
    assert (status["status"], status["percent"], status["ended"]) == ("selesai", 100, True)
    job.refresh_from_db()
    # the file's bytes and a tenth more for the work after its last row (FINISH_SHARE)
    assert job.progress_done == job.progress_total == job.size + job.size // 9
    assert Transaction.objects.filter(merchant=merchant).count() == 4


def test_skipping_bad_rows_imports_the_good_ones_and_offers_the_rejects(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_BAD_CSV)

    post_job(client, job, "import", skip_invalid=True)

    job.refresh_from_db()
    assert (job.status, job.transactions_created, job.rejected_count) == ("selesai", 2, 1)
    assert job.skip_invalid
    assert Transaction.objects.filter(merchant=merchant).count() == 2
    html = client.get(job_url(job)).content.decode()
    assert "Unduh baris yang dilewati" in html
    download = client.get(job_url(job, "data:import_rejects"))
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["row", "Tanggal", "No HP", "Nama", "Total", "reason"]
    assert rows[1][:2] == ["3", "31/02/2026"] and "not a date" in rows[1][-1]
    assert not Path(job.stored_path).exists()


def test_without_skipping_a_bad_row_the_import_fails_and_writes_nothing(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_BAD_CSV)

    post_job(client, job, "import")

    job.refresh_from_db()
    assert (job.status, job.rejected_count) == ("gagal", 1)
    assert "Tidak ada yang diimpor: 1 baris salah." in client.get(job_url(job)).content.decode()
    assert not Transaction.objects.filter(merchant=merchant).exists()
    assert not Customer.objects.filter(merchant=merchant).exists()
    from langganan.privacy.models import AuditEvent

    assert not AuditEvent.objects.filter(action="import.table").exists()  # nothing came in


# -- cancel -----------------------------------------------------------------------------------


def test_cancelling_a_running_import_rolls_it_back(client, merchant, monkeypatch):
    rows = "".join(f"Pelanggan {i},0812{i:08d}\n" for i in range(1, 1301))  # 3 chunks of 500
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, "Nama,No HP\n" + rows, kind="pelanggan")
    monkeypatch.setattr("langganan.sales.import_views.worker_running", lambda: True)
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    post_job(client, job, "import")
    job.refresh_from_db()
    seen = []
    original = import_jobs._ProgressFile.__call__

    def progress_then_cancel(self, done, total):
        original(self, done, total)
        if done and not seen:  # the owner presses "Batalkan" once the first chunk is written
            seen.append((done, total, Customer.objects.filter(merchant=merchant).count()))
            assert client.post(job_url(job, "data:import_cancel")).status_code == 302

    monkeypatch.setattr(import_jobs._ProgressFile, "__call__", progress_then_cancel)

    import_jobs.import_job_task(job.pk)

    assert seen and seen[0][2] == 500  # the first chunk was written…
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("dibatalkan", True)
    assert not Customer.objects.filter(merchant=merchant).exists()  # …and rolled back
    assert uploads_of(merchant) == []
    assert "Impor dibatalkan" in client.get(job_url(job)).content.decode()


def test_a_cancel_while_the_worker_runs_asks_it_to_stop_at_the_next_chunk(
    client, merchant, monkeypatch
):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)
    monkeypatch.setattr("langganan.sales.import_views.worker_running", lambda: True)
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    post_job(client, job, "import")
    Path(job.stored_path + ".progress").write_text(json.dumps({"done": 0, "total": 10}))

    assert client.post(job_url(job, "data:import_cancel")).status_code == 302

    job.refresh_from_db()
    assert job.status == "berjalan"  # the worker holds the import's transaction: no write
    assert Path(job.stored_path + ".cancel").exists()
    assert "Membatalkan…" in client.get(job_url(job)).content.decode()
    assert client.get(job_url(job, "data:import_status")).json()["cancelling"] is True
    import_jobs.import_job_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("dibatalkan", True)
    assert not Transaction.objects.filter(merchant=merchant).exists()
    assert uploads_of(merchant) == []


def test_cancelling_before_the_import_deletes_the_file(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)

    response = client.post(job_url(job, "data:import_cancel"))

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("dibatalkan", True)
    assert uploads_of(merchant) == []
    again = post_job(client, job, "import", ["date", "phone", "name", "total", ""])
    assert again.status_code == 302
    job.refresh_from_db()
    assert job.status == "dibatalkan"
    assert not Transaction.objects.filter(merchant=merchant).exists()


# -- bad files --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("kosong.csv", b"", "Berkas ini kosong."),
        ("foto.csv", PNG * 20, "Berkas ini bukan berkas teks CSV (isinya data biner)."),
        ("buku.csv", b"PK\x03\x04" + b"\x00" * 200, "Berkas ini buku kerja Excel yang diberi"),
        ("palsu.xlsx", b"Nama,No HP\nRina,0812\n", "Berkas ini bukan buku kerja Excel (.xlsx)"),
        ("laporan.pdf", b"%PDF-1.4 hello", "Jenis berkas ini tidak bisa diimpor."),
        ("kosong2.csv", b"\n\n  \n", "Berkas ini tidak berisi baris untuk diimpor."),
        (
            "utf16.csv",
            "Nama,No HP\nRina,0812\n".encode("utf-16"),
            "Berkas ini disimpan sebagai teks Unicode (UTF-16).",
        ),
    ],
)
def test_a_bad_file_is_refused_in_indonesian_and_nothing_is_kept(
    client, merchant, name, content, message
):
    owner_client(client, merchant)

    response = upload(client, merchant, content, kind="pelanggan", name=name)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Traceback" not in html
    assert not ImportJob.objects.exists()
    assert uploads_of(merchant) == []
    assert not Customer.objects.exists()


def test_a_file_over_the_limit_is_refused(client, merchant, settings):
    settings.LANGGANAN_IMPORT_MAX_MB = 0.01  # 10485 bytes
    owner_client(client, merchant)
    text = "Nama,No HP\n" + "".join(f"Pelanggan {i},0812{i:08d}\n" for i in range(1, 600))

    response = upload(client, merchant, text, kind="pelanggan")

    assert response.status_code == 400
    html = response.content.decode()
    assert f"Berkas terlalu besar ({filesizeformat(len(text))[:2]}" in html
    assert f"berkas terbesar yang bisa diimpor di sini {filesizeformat(10485)}." in html
    assert not ImportJob.objects.exists()
    assert uploads_of(merchant) == []
    assert not Customer.objects.exists()


def test_a_csv_in_windows_1252_is_accepted_and_read(client, merchant):
    owner_client(client, merchant)
    text = "Nama,No HP\nRené Café,081234567890\n".encode("cp1252")

    job = uploaded_job(client, merchant, text, kind="pelanggan", name="pelanggan.csv")
    post_job(client, job, "import")

    assert Customer.objects.get(merchant=merchant).full_name == "René Café"


def test_an_xlsx_with_indonesian_headers_is_previewed_and_imported(client, merchant, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Nama Pelanggan", "No HP", "Tanggal Lahir"])
    sheet.append(["Rina", "081234567890", "1990-05-01"])
    sheet.append(["Budi", "081298765432", "02/03/1988"])
    path = tmp_path / "pelanggan.xlsx"
    book.save(path)
    owner_client(client, merchant)

    job = uploaded_job(client, merchant, path.read_bytes(), kind="pelanggan", name="data.xlsx")
    page = client.get(job_url(job))

    assert [c["field"] for c in page.context["columns"]] == ["name", "phone", "birth_date"]
    assert "dibaca sebagai <strong>1 Mei 1990</strong>" in page.content.decode()
    post_job(client, job, "import")
    job.refresh_from_db()
    assert (job.status, job.customers_created) == ("selesai", 2)


# -- who may ----------------------------------------------------------------------------------


def test_another_merchants_import_is_not_found(client, merchant):
    owner_client(client, merchant)
    job = uploaded_job(client, merchant, SALES_CSV)
    stranger = MerchantFactory()
    client.force_login(MembershipFactory(merchant=stranger, role="owner").user)

    own_slug = {"slug": stranger.slug, "job_id": job.pk}
    for name in ("data:import_job", "data:import_status", "data:import_errors"):
        assert client.get(reverse(name, kwargs=own_slug)).status_code == 404, name
        assert client.get(job_url(job, name)).status_code == 404, name
    assert client.post(reverse("data:import_cancel", kwargs=own_slug)).status_code == 404
    job.refresh_from_db()
    assert job.status == "diunggah" and Path(job.stored_path).exists()


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_managers_and_cashiers_may_not_import(client, merchant, role):
    owner = owner_client(client.__class__(), merchant)
    job = uploaded_job(owner, merchant, SALES_CSV)
    owner_client(client, merchant, role=role)

    assert client.get(import_url(merchant)).status_code == 403
    assert upload(client, merchant, SALES_CSV).status_code == 403
    assert client.get(job_url(job)).status_code == 403
    assert client.post(job_url(job, "data:import_cancel")).status_code == 403
    assert ImportJob.objects.count() == 1
    job.refresh_from_db()
    assert job.status == "diunggah"


# -- the frame's new options ------------------------------------------------------------------


def test_the_frame_reports_progress_and_a_dry_run_writes_nothing(merchant, tmp_path):
    path = tmp_path / "pelanggan.csv"
    path.write_text(
        "Nama,No HP\n" + "".join(f"P {i},0812{i:08d}\n" for i in range(1, 1201)),
        encoding="utf-8",
    )
    calls = []

    report = customers_import(
        merchant=merchant, path=path, dry_run=True, on_progress=lambda d, t: calls.append((d, t))
    )

    assert report.dry_run and not report.committed
    assert report.customers_created == 1200
    assert not Customer.objects.filter(merchant=merchant).exists()
    assert len(calls) >= 3  # at each chunk of 500 and at the end
    size = path.stat().st_size
    whole = size + size // 9  # a tenth of the bar for the work after the last row
    assert calls[-1] == (whole, whole)
    assert {t for _d, t in calls} == {whole}
    assert [d for d, _t in calls] == sorted(d for d, _t in calls)
    assert calls[-2][0] < whole  # the end is reported once the import has ended


def test_the_progress_moves_after_the_last_row_until_the_import_has_ended(merchant, tmp_path):
    """The bar does not wait at the end of the file while the import finishes: the customers'
    join dates (and, on a large import, the indexes and the buyers' insights) report as they
    go, and the whole is reported only once the import has committed."""
    from langganan.sales.importing import common

    OutletFactory(merchant=merchant, code="JKT-01")
    path = tmp_path / "penjualan.csv"
    path.write_text(
        "Tanggal,No HP,Total,Outlet\n"
        + "".join(
            f"2026-0{1 + i % 9}-1{i % 10} 10:00,0812{i:08d},25000,JKT-01\n" for i in range(1200)
        ),
        encoding="utf-8",
    )
    calls = []

    report = transactions_import(
        merchant=merchant, path=path, on_progress=lambda d, t: calls.append((d, t))
    )

    assert report.committed and report.transactions_created == 1200
    size = path.stat().st_size
    whole = size + size * common.FINISH_SHARE // (100 - common.FINISH_SHARE)
    after_last_row = [d for d, _t in calls if size < d < whole]
    assert len(after_last_row) >= 2, calls[-6:]  # 1,200 join dates, in steps of 500
    assert calls[-1] == (whole, whole)
    assert [d for d, _t in calls] == sorted(d for d, _t in calls)


def test_files_left_behind_are_deleted_after_a_while(client, merchant):
    owner_client(client, merchant)
    bad = uploaded_job(client, merchant, SALES_BAD_CSV)
    post_job(client, bad, "import", skip_invalid=True)
    bad.refresh_from_db()
    rejects = Path(bad.rejects_path)
    waiting = uploaded_job(client, merchant, SALES_CSV)
    assert client.get(import_url(merchant)).status_code == 200
    assert rejects.exists() and Path(waiting.stored_path).exists()  # not yet

    ImportJob.objects.filter(pk=bad.pk).update(finished_at=timezone.now() - timedelta(days=8))
    ImportJob.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert client.get(import_url(merchant)).status_code == 200

    assert not rejects.exists() and not Path(waiting.stored_path).exists()
    assert uploads_of(merchant) == []
    waiting.refresh_from_db()
    bad.refresh_from_db()
    assert (waiting.status, bad.rejects_path) == ("dibatalkan", "")
    assert client.get(job_url(bad, "data:import_rejects")).status_code == 302
