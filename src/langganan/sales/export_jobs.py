"""Large exports in the background: a table (or a filtered customer list) too big to write
while the owner waits is written by the worker to a private file, which the export page offers
for download and which is deleted after :data:`FILE_KEPT`.

Small exports, and every export when no worker is running, are written in the request as
before (:mod:`langganan.sales.views`, :func:`langganan.customers.views.customer_list_export`).
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation

from langganan.core.models import Merchant
from langganan.privacy import audit
from langganan.sales.models import ExportJob, ExportStatus

log = logging.getLogger(__name__)

TASK = "langganan.sales.export_jobs.export_job_task"
#: how long a prepared file waits for its download
FILE_KEPT = timedelta(days=1)
TABLES = ("customers", "transactions", "balances", "list")
FORMATS = ("csv", "xlsx")


def inline_max_rows() -> int:
    """Exports of more rows than this go to the worker (when one is running)."""
    return int(getattr(settings, "LANGGANAN_EXPORT_INLINE_ROWS", 20000))


def export_dir(merchant_id: int) -> Path:
    folder = Path(settings.DATA_DIR) / "exports" / str(merchant_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def export_job_queue(
    *, merchant: Merchant, user, what: str, fmt: str, query: str = ""
) -> ExportJob:
    """Record the export and hand it to the worker once this transaction commits."""
    if what not in TABLES or fmt not in FORMATS:
        raise ValueError(f"unknown export {what}.{fmt}")
    job = ExportJob.objects.create(
        merchant=merchant,
        user=user if getattr(user, "is_authenticated", False) else None,
        what=what,
        fmt=fmt,
        query=query,
        language=(translation.get_language() or "id")[:8],
    )
    job_id = job.pk
    transaction.on_commit(lambda: _queue(job_id))
    return job


def _queue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, job_id, task_name=f"export {job_id}")


def _write(job: ExportJob, path: Path) -> int:
    from langganan.web.access import merchant_zone

    merchant = job.merchant
    with translation.override(job.language), timezone.override(merchant_zone(merchant)):
        if job.what == "list":
            from langganan.customers import listing
            from langganan.customers.exporting import list_export
            from langganan.customers.views import SEARCH_MAX_LENGTH, _list_filters

            params = QueryDict(job.query)
            _form, filters, problems = _list_filters(SimpleNamespace(GET=params), merchant)
            if problems:
                raise ValueError("; ".join(problems))
            customers = listing.customer_list(
                merchant=merchant,
                filters=filters,
                query=params.get("q", "").strip()[:SEARCH_MAX_LENGTH],
                sort=listing.sort_parse(params.get("sort")),
            )
            content, rows = list_export(merchant=merchant, customers=customers, fmt=job.fmt)
            path.write_bytes(content)
            return rows
        from langganan.sales.exporting import export_table

        return export_table(merchant=merchant, what=job.what, path=path, headers="id")


def export_job_task(job_id: int) -> str:
    """The background task: write the file, record the export in the audit log (who asked,
    which table, how many rows) and mark the job done; a failure is kept on the job."""
    job = ExportJob.objects.select_related("merchant", "user").filter(pk=job_id).first()
    if job is None or job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return f"export {job_id}: nothing to do"
    job.status = ExportStatus.RUNNING
    job.save(update_fields=["status"])
    path = export_dir(job.merchant_id) / f"{uuid.uuid4().hex}.{job.fmt}"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        rows = _write(job, path)
    except Exception as exc:
        path.unlink(missing_ok=True)
        log.exception("export %s failed", job_id)
        job.status, job.message, job.finished_at = ExportStatus.FAILED, str(exc), timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        return f"export {job_id}: {job.status}"
    table = "customers" if job.what == "list" else job.what
    detail = {"table": table, "format": job.fmt, "rows": rows, "background": True}
    if job.what == "list":
        detail["filters"] = sorted({k for k in QueryDict(job.query) if k not in ("q", "sort")})
    audit.record(None, job.merchant, "export.table", job, user=job.user, **detail)
    job.status, job.rows, job.stored_path = ExportStatus.DONE, rows, str(path)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "rows", "stored_path", "finished_at"])
    return f"export {job_id}: {job.status}"


def export_files_prune(*, merchant: Merchant) -> int:
    """Delete prepared files older than :data:`FILE_KEPT` (they hold personal data)."""
    old = ExportJob.objects.filter(
        merchant=merchant, finished_at__lt=timezone.now() - FILE_KEPT
    ).exclude(stored_path="")
    removed = 0
    for job in old:
        Path(job.stored_path).unlink(missing_ok=True)
        removed += 1
    old.update(stored_path="")
    return removed


def export_file_of(job: ExportJob) -> Path | None:
    """The job's prepared file, when it is there to download."""
    if job.status != ExportStatus.DONE or not job.stored_path:
        return None
    path = Path(job.stored_path)
    return path if path.is_file() else None
