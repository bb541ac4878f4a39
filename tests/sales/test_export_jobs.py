"""Large exports go to the background worker (issue 18, point 3): the owner is sent to the
export page, the worker writes the file and records the export in the audit log, the page
offers the file for download for a day; small exports and exports without a worker are written
in the request as before. Another merchant's files are a 404; managers and cashiers a 403."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from langganan.customers.models import Customer
from langganan.privacy.models import AuditEvent
from langganan.sales import export_jobs
from langganan.sales.models import ExportJob
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(client, settings, tmp_path, monkeypatch):
    settings.DATA_DIR = str(tmp_path / "data")
    settings.LANGGANAN_EXPORT_INLINE_ROWS = 3
    merchant = MerchantFactory()
    for n in range(5):
        CustomerFactory(
            merchant=merchant, full_name=f"Pelanggan {n}", city="Bandung" if n % 2 else "Bogor"
        )
    owner = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(owner.user)
    queued: list[tuple] = []
    import django_q.tasks

    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: queued.append(a))
    monkeypatch.setattr("langganan.sales.views.worker_running", lambda: True)
    monkeypatch.setattr("langganan.customers.views.worker_running", lambda: True)
    merchant.queued = queued
    merchant.owner = owner.user
    return merchant


def _export_page(client, merchant):
    return client.get(reverse("data:export", args=[merchant.slug]))


def test_a_large_table_is_prepared_in_the_background_and_downloaded(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("data:export_file", args=[shop.slug, "customers", "xlsx"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("data:export", args=[shop.slug]) + "#exports"
    job = ExportJob.objects.get(merchant=shop)
    assert shop.queued == [(export_jobs.TASK, job.pk)]
    assert (job.what, job.fmt, job.status, job.user_id) == (
        "customers",
        "xlsx",
        "antre",
        shop.owner.pk,
    )
    page = _export_page(client, shop).content.decode()
    assert "sedang disiapkan" in page and 'http-equiv="refresh"' in page
    assert not AuditEvent.objects.filter(action="export.table").exists()

    assert export_jobs.export_job_task(job.pk) == f"export {job.pk}: selesai"

    job.refresh_from_db()
    assert job.rows == 5
    assert oct(Path(job.stored_path).stat().st_mode)[-3:] == "600"
    page = _export_page(client, shop).content.decode()
    assert 'http-equiv="refresh"' not in page
    download = client.get(reverse("data:export_download", args=[shop.slug, job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="pelanggan-')
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    names = sorted(row[header.index("Nama")] for row in rows)
    assert names == [f"Pelanggan {n}" for n in range(5)]
    event = AuditEvent.objects.get(merchant=shop, action="export.table")
    assert (event.user_id, event.detail["rows"], event.detail["background"]) == (
        shop.owner.pk,
        5,
        True,
    )


def test_a_large_filtered_list_is_prepared_with_its_filters(
    client, shop, django_capture_on_commit_callbacks
):
    url = reverse("customers:customer_list_export", args=[shop.slug, "csv"])
    with django_capture_on_commit_callbacks(execute=True):
        # three of the five are in Bogor: not more than the inline limit of 3
        small = client.post(url + "?cities=Bogor")
    assert small.status_code == 200 and not ExportJob.objects.exists()
    Customer.objects.filter(merchant=shop, city="Bandung").update(city="Bogor")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "?cities=Bogor&sort=name")

    assert response.status_code == 302
    job = ExportJob.objects.get(merchant=shop)
    assert (job.what, job.query) == ("list", "cities=Bogor&sort=name")
    CustomerFactory(merchant=shop, full_name="Orang Depok", city="Depok")
    export_jobs.export_job_task(job.pk)
    job.refresh_from_db()
    rows = list(csv.reader(io.StringIO(Path(job.stored_path).read_text("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [f"Pelanggan {n}" for n in range(5)]
    event = AuditEvent.objects.filter(merchant=shop, action="export.table").latest("pk")
    assert (event.detail["filters"], event.detail["background"]) == (["cities"], True)


def test_small_exports_and_exports_without_a_worker_are_written_at_once(
    client, shop, monkeypatch, settings
):
    settings.LANGGANAN_EXPORT_INLINE_ROWS = 100
    small = client.post(reverse("data:export_file", args=[shop.slug, "customers", "csv"]))
    assert small.status_code == 200
    settings.LANGGANAN_EXPORT_INLINE_ROWS = 3
    monkeypatch.setattr("langganan.sales.views.worker_running", lambda: False)
    no_worker = client.post(reverse("data:export_file", args=[shop.slug, "customers", "csv"]))
    assert no_worker.status_code == 200
    assert not ExportJob.objects.exists()


def test_a_prepared_file_is_deleted_after_a_day(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("data:export_file", args=[shop.slug, "balances", "csv"]))
    job = ExportJob.objects.get(merchant=shop)
    export_jobs.export_job_task(job.pk)
    job.refresh_from_db()
    path = Path(job.stored_path)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=2))

    _export_page(client, shop)

    assert not path.exists()
    assert client.get(reverse("data:export_download", args=[shop.slug, job.pk])).status_code == 404


def test_another_merchants_file_is_not_found_and_staff_may_not_download(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("data:export_file", args=[shop.slug, "customers", "csv"]))
    job = ExportJob.objects.get(merchant=shop)
    export_jobs.export_job_task(job.pk)

    other = MerchantFactory()
    client.force_login(MembershipFactory(merchant=other, role="owner").user)
    assert client.get(reverse("data:export_download", args=[other.slug, job.pk])).status_code == 404
    assert client.get(reverse("data:export_download", args=[shop.slug, job.pk])).status_code == 404
    for role in ("manager", "cashier"):
        client.force_login(MembershipFactory(merchant=shop, role=role).user)
        response = client.get(reverse("data:export_download", args=[shop.slug, job.pk]))
        assert response.status_code == 403
