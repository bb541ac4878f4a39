"""Imports from the browser: an uploaded file, its mapping, a dry run, the import as a
background task with progress and cancel, and its result (:class:`ImportJob`).

The import itself is the command line's (:func:`customers_import`,
:func:`transactions_import`), so everything it guarantees holds here: all or nothing unless
the bad rows are skipped (then written to a reject file offered for download), and importing
the same file again creates nothing.

While an import runs it holds the database's write transaction (on SQLite the only one), so
its progress and a cancel request travel through two small files next to the upload, not the
database: ``<file>.progress`` (written by the import, at most four times a second) and
``<file>.cancel`` (made by the cancel button, looked for at each chunk). The job row gets the
outcome — counts, bad rows, ``cancel_requested`` — when the import ends.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Merchant
from langganan.privacy import audit
from langganan.sales.importing import customers_import, transactions_import
from langganan.sales.importing.common import MAX_ERRORS_REPORTED, ImportReport
from langganan.sales.importing.fields import normalize_header
from langganan.sales.models import ImportJob, ImportKind, ImportStatus
from langganan.sales.uploads import (
    UploadRefused,
    fields_for,
    preview_read,
    upload_delete,
    upload_store,
)

logger = logging.getLogger(__name__)

TASK = "langganan.sales.import_jobs.import_job_task"
PROGRESS_EVERY_S = 0.25
#: an upload left without an import is deleted after this long, a reject file after this long
UPLOAD_KEPT = timedelta(days=1)
REJECTS_KEPT = timedelta(days=7)

FIELD_LABELS = {
    "customer_id": gettext_lazy("Customer ID"),
    "phone": gettext_lazy("Phone number"),
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("Email"),
    "date": gettext_lazy("Date"),
    "time": gettext_lazy("Time of day"),
    "total": gettext_lazy("Total"),
    "quantity": gettext_lazy("Quantity"),
    "product": gettext_lazy("Product"),
    "category": gettext_lazy("Category"),
    "unit_price": gettext_lazy("Unit price"),
    "discount": gettext_lazy("Discount"),
    "payment_method": gettext_lazy("Payment method"),
    "channel": gettext_lazy("Order type"),
    "outlet": gettext_lazy("Outlet"),
    "external_id": gettext_lazy("Transaction number"),
    "member_code": gettext_lazy("Member code"),
    "gender": gettext_lazy("Gender"),
    "greeting": gettext_lazy("Greeting"),
    "birth_date": gettext_lazy("Birth date"),
    "address": gettext_lazy("Address"),
    "city": gettext_lazy("City"),
    "province": gettext_lazy("Province"),
    "joined_at": gettext_lazy("Joined on"),
    "acquisition_source": gettext_lazy("Source"),
    "tags": gettext_lazy("Tags"),
    "notes": gettext_lazy("Notes"),
    "consent_email": gettext_lazy("Email consent"),
    "consent_whatsapp": gettext_lazy("WhatsApp consent"),
    "consent_sms": gettext_lazy("SMS consent"),
}

#: the importer's reasons (English constants) that have a translation; a reason that starts
#: with one is shown translated, its detail (the value, the known outlets) kept
_REASONS = (
    "not a date (use YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD)",
    "not a time (use HH:MM or HH:MM:SS)",
    "unknown payment method",
    "unknown sales channel",
    "quantity must be a positive number",
    "gender must be L/P, M/F or empty",
    "not a yes/no value",
    "amount is empty",
    "not a valid amount",
    "not a valid phone number",
    "not a valid email address",
    "row has no name, phone, customer id or member code",
    "greeting must be one of Kak, Mas, Mbak, Pak, Bu",
    "the same customer appears earlier in this file",
    "total is missing",
    "total is negative; refunds are recorded through the refund service",
    "unit price is missing",
    "discount is negative or larger than the line amount",
    "unknown outlet",
    "this transaction id already appeared earlier in the file, apart from its other rows",
    "rejected with the other rows of the same transaction",
    "looks like a spreadsheet formula, which no name or text starts with",
    "the file needs a column that identifies customers: customer_id, phone, member_code or name",
    "the file needs a date column (tanggal/date); name it with --map HEADER=date",
    "the file needs a total column (total/amount), or product with unit price (produk, harga)",
)

ERR_NOT_NOW = gettext_lazy("This import has already run or been cancelled.")
ERR_RUNNING = gettext_lazy("This import is running; wait for it to finish or cancel it.")


def reason_text(reason: str) -> str:
    """An importer's reason in the user's language (the value it names kept as it is)."""
    for known in sorted(_REASONS, key=len, reverse=True):
        if reason.startswith(known):
            return _(known) + reason[len(known) :]
    return reason


def field_label(name: str | None) -> str:
    return str(FIELD_LABELS.get(name or "", name or ""))


# -- upload and mapping ---------------------------------------------------------------------


def import_job_create(*, merchant: Merchant, user, kind: str, uploaded) -> ImportJob:
    """Check and store an uploaded file and record it; refuses (nothing kept) a file that
    cannot be imported, with :class:`UploadRefused`."""
    if kind not in ImportKind.values:
        raise UploadRefused(_("Choose what the file holds: customers or sales."))
    path, size = upload_store(merchant_id=merchant.pk, uploaded=uploaded)
    try:
        preview_read(path=path, kind=kind, mapping={})
        return ImportJob.objects.create(
            merchant=merchant,
            user=user,
            kind=kind,
            original_name=Path(uploaded.name).name[:255],
            stored_path=str(path),
            size=size,
        )
    except BaseException:
        upload_delete(path)
        raise


def _editable(job: ImportJob) -> None:
    if job.status == ImportStatus.RUNNING:
        raise Conflict(str(ERR_RUNNING))
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        raise Conflict(str(ERR_NOT_NOW))


def import_job_set_mapping(
    *,
    job: ImportJob,
    columns: list[str],
    skip_invalid: bool,
    first_row_header: bool | None = None,
) -> None:
    """The field of each column as chosen on the preview (``""``: ignore the column). A new
    mapping forgets the last dry run. ``first_row_header`` (for a file whose first row holds
    no column name the importer knows): whether that row holds the column names anyway."""
    _editable(job)
    allowed = fields_for(job.kind)
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name and name not in allowed:
            raise InvalidInput(_("Column %(n)s: choose a field from the list.") % {"n": number})
        if name in seen:
            raise InvalidInput(
                _("Columns %(a)s and %(b)s are both set to “%(field)s”; choose one.")
                % {"a": seen[name], "b": number, "field": field_label(name)}
            )
        if name:
            seen[name] = number
    keys = [str(n) for n in range(1, len(columns) + 1)]
    if first_row_header:
        keys = _header_keys(job, keys)
    elif first_row_header is None and len(job.mapping) == len(columns):
        # not asked: the columns keep their keys, in the file's column order (PostgreSQL's
        # jsonb keeps a mapping's keys in an order of its own, so never read them in order)
        if not all(str(key).isdigit() for key in job.mapping):
            keys = _header_keys(job, keys)
    mapping = dict(zip(keys, columns, strict=True))
    if mapping != job.mapping:
        job.mapping, job.dry_run, job.status, job.checked_at = mapping, None, "diunggah", None
    job.skip_invalid = skip_invalid
    job.save(update_fields=["mapping", "dry_run", "status", "checked_at", "skip_invalid"])


def _header_keys(job: ImportJob, numbers: list[str]) -> list[str]:
    """The first row's cells as the mapping's keys, so that the importer reads that row as the
    header (a blank, repeated or numeric cell keeps its column number)."""
    auto = preview_read(path=job.stored_path, kind=job.kind, mapping={})
    if auto.has_header or not auto.rows or auto.rows[0][0] != 1:
        return numbers
    first = auto.rows[0][1]
    names = [normalize_header(cell) for cell in first]
    keys = []
    for index, number in enumerate(numbers):
        cell = first[index].strip() if index < len(first) else ""
        usable = names[index] if index < len(names) else ""
        if usable and not usable.isdigit() and names.count(usable) == 1:
            keys.append(cell)
        else:
            keys.append(number)
    return keys


def _importer(job: ImportJob):
    return customers_import if job.kind == ImportKind.CUSTOMERS else transactions_import


def _errors(report: ImportReport) -> list[dict]:
    return [e.as_dict() for e in report.errors[:MAX_ERRORS_REPORTED]]


def _counts(report: ImportReport) -> dict:
    return {
        "rows_read": report.rows_read,
        "customers_created": report.customers_created,
        "transactions_created": report.transactions_created,
        "duplicates_skipped": report.skipped_duplicates,
        "rejected": report.error_count,
        "errors": _errors(report),
    }


def import_job_check(*, job: ImportJob) -> ImportJob:
    """The dry run ("Periksa"): the whole import written and rolled back; the job keeps what
    it would create and every bad row (row number and reason)."""
    _editable(job)
    try:
        report = _importer(job)(
            merchant=job.merchant,
            path=job.stored_path,
            mapping=job.mapping,
            skip_invalid=job.skip_invalid,
            dry_run=True,
            progress=False,
        )
    except InvalidInput as exc:
        job.dry_run = {"problem": reason_text(str(exc)), **_counts(ImportReport(kind=""))}
    else:
        job.dry_run = _counts(report)
    job.dry_run["skip_invalid"] = job.skip_invalid
    job.status, job.checked_at = ImportStatus.CHECKED, timezone.now()
    job.save(update_fields=["dry_run", "status", "checked_at"])
    return job


# -- the import -----------------------------------------------------------------------------


def _progress_path(job: ImportJob) -> Path:
    return Path(job.stored_path + ".progress")


def _cancel_path(job: ImportJob) -> Path:
    return Path(job.stored_path + ".cancel")


def progress_read(job: ImportJob) -> tuple[int, int]:
    """(done, total) of a running import, as its last progress file says; the job's own
    figures once it has ended."""
    if job.status == ImportStatus.RUNNING and job.stored_path:
        try:
            data = json.loads(_progress_path(job).read_text())
            return int(data["done"]), int(data["total"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0, 0
    return job.progress_done, job.progress_total


def cancel_pending(job: ImportJob) -> bool:
    return bool(job.stored_path) and _cancel_path(job).exists()


def import_job_start(*, job: ImportJob, worker_running: bool) -> ImportJob:
    """Start the import: queued for the background worker when one is running, else run
    here, in this request."""
    _editable(job)
    if job.dry_run and job.dry_run.get("problem"):
        raise InvalidInput(job.dry_run["problem"])
    job.status, job.started_at, job.cancel_requested = ImportStatus.RUNNING, timezone.now(), False
    job.save(update_fields=["status", "started_at", "cancel_requested"])
    if worker_running:
        job_id = job.pk
        transaction.on_commit(lambda: _queue(job_id))
    else:
        import_job_task(job.pk)
        job.refresh_from_db()
    return job


def _queue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, job_id, task_name=f"import {job_id}")


class _ProgressFile:
    """Writes (done, total) to the progress file at most every :data:`PROGRESS_EVERY_S`."""

    def __init__(self, path: Path):
        self.path = path
        self.last = 0.0
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and done < total:
            return
        self.last = now
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"done": done, "total": total}))
        os.replace(scratch, self.path)


def import_job_task(job_id: int) -> str:
    """The background task: import the job's file and record the outcome. The upload, its
    progress and cancel files are deleted afterwards; a reject file is kept for download."""
    job = ImportJob.objects.select_related("merchant").filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.RUNNING:
        return "nothing to do"
    progress = _ProgressFile(_progress_path(job))
    progress(0, 0)  # started: from now on a cancel goes through the cancel file only
    cancel = _cancel_path(job)
    report: ImportReport | None = None
    try:
        if cancel.exists():
            report = ImportReport(kind=job.kind, cancelled=True)
        else:
            report = _importer(job)(
                merchant=job.merchant,
                path=job.stored_path,
                mapping=job.mapping,
                skip_invalid=job.skip_invalid,
                progress=False,
                on_progress=progress,
                cancelled=cancel.exists,
            )
    except InvalidInput as exc:
        job.status, job.message = ImportStatus.FAILED, reason_text(str(exc))
    except Exception as exc:
        logger.exception("import %s failed", job_id)
        job.status = ImportStatus.FAILED
        job.message = _(
            "The import stopped on an unexpected problem (%(kind)s); nothing was imported. "
            "The technical details are in the server's log."
        ) % {"kind": type(exc).__name__}
    if report is not None:
        job.rows_read = report.rows_read
        job.customers_created = report.customers_created
        job.transactions_created = report.transactions_created
        job.created_count = (
            report.customers_created
            if job.kind == ImportKind.CUSTOMERS
            else report.transactions_created
        )
        job.duplicates_skipped = report.skipped_duplicates
        job.rejected_count = report.error_count
        job.errors = _errors(report)
        job.rejects_path = report.rejects_path or ""
        if report.cancelled:
            job.status, job.cancel_requested = ImportStatus.CANCELLED, True
        elif report.committed:
            job.status = ImportStatus.DONE
        else:
            job.status = ImportStatus.FAILED
            job.message = _("Nothing was imported: %(n)s rows are wrong.") % {
                "n": report.error_count
            }
    job.progress_done, job.progress_total = progress.done, progress.total
    job.finished_at = timezone.now()
    for path in (job.stored_path, progress.path, cancel):
        upload_delete(path)
    job.save()
    if job.status == ImportStatus.DONE:
        # personal data came in: who, when, what and how much (the audit log)
        audit.record(
            None,
            job.merchant,
            "import.table",
            job,
            user=job.user,
            actor="import",
            table=job.kind,
            created=job.created_count,
            duplicates=job.duplicates_skipped,
            rejected=job.rejected_count,
        )
    return f"import {job_id}: {job.status}"


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel: an import not started is cancelled and its file deleted at once; a running one
    stops at its next chunk and rolls back (see the module docstring)."""
    if job.status == ImportStatus.RUNNING:
        _cancel_path(job).touch()
        if not _progress_path(job).exists():  # not picked up by the worker yet
            ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now()
            )
            for path in (job.stored_path, _cancel_path(job)):
                upload_delete(path)
        job.refresh_from_db()
        return job
    _editable(job)
    upload_delete(job.stored_path)
    job.status, job.cancel_requested, job.finished_at = (
        ImportStatus.CANCELLED,
        True,
        timezone.now(),
    )
    job.save(update_fields=["status", "cancel_requested", "finished_at"])
    return job


def import_files_prune(*, merchant: Merchant) -> int:
    """Delete what the merchant's imports left behind (files of personal data): uploads never
    imported after :data:`UPLOAD_KEPT` (the job is cancelled) and reject files after
    :data:`REJECTS_KEPT`. Returns how many files went."""
    now = timezone.now()
    removed = 0
    waiting = ImportJob.objects.filter(
        merchant=merchant,
        status__in=(ImportStatus.UPLOADED, ImportStatus.CHECKED),
        created_at__lt=now - UPLOAD_KEPT,
    )
    for job in waiting:
        upload_delete(job.stored_path)
        removed += 1
    waiting.update(status=ImportStatus.CANCELLED, finished_at=now)
    old = ImportJob.objects.filter(merchant=merchant, finished_at__lt=now - REJECTS_KEPT).exclude(
        rejects_path=""
    )
    for job in old:
        upload_delete(job.rejects_path)
        removed += 1
    old.update(rejects_path="")
    return removed
