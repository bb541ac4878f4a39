"""Import from the browser (owners only): upload a file, check its columns on the preview,
run a dry run, import in the background with a progress bar, and see the result.

Views parse input, call :mod:`langganan.sales.import_jobs` and answer.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from langganan.core.errors import Conflict, InvalidInput
from langganan.core.jobs.selectors import worker_running
from langganan.sales.import_jobs import (
    cancel_pending,
    field_label,
    import_files_prune,
    import_job_cancel,
    import_job_check,
    import_job_create,
    import_job_set_mapping,
    import_job_start,
    progress_read,
    reason_text,
)
from langganan.sales.importing.readers import quote_cell
from langganan.sales.models import ImportJob, ImportKind, ImportStatus
from langganan.sales.uploads import (
    UploadRefused,
    fields_for,
    max_bytes,
    preview_read,
    too_large_message,
)
from langganan.web.access import merchant_for_request, merchant_view
from langganan.web.views import _render_for_merchant

ENDED = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)
ERRORS_SHOWN = 200


class _SizeLimit(FileUploadHandler):
    """Stops receiving a file as soon as it passes the import's limit (the rest of the request
    is read and thrown away), so an oversized upload never fills the disk."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def new_file(self, *args, **kwargs):
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            self.request.import_too_large = self.received
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _job(merchant, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(merchant=merchant, pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _job_url(job: ImportJob) -> str:
    return reverse("data:import_job", kwargs={"slug": job.merchant.slug, "job_id": job.pk})


@merchant_view
@csrf_exempt  # checked below, once the size limit is in place (Django's upload handler rule)
def import_page(request, slug: str):
    """Choose what the file holds and upload it; the recent imports below."""
    if request.method == "POST":
        request.upload_handlers.insert(0, _SizeLimit(request))
    return _import_page(request, slug)


@csrf_protect
def _import_page(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    error = ""
    kind = request.POST.get("kind", ImportKind.CUSTOMERS)
    if request.method == "POST":
        too_large = getattr(request, "import_too_large", 0)
        if too_large:  # the whole request's size says more than where the upload was cut
            too_large = max(too_large, int(request.META.get("CONTENT_LENGTH") or 0))
        try:
            if too_large:
                raise UploadRefused(too_large_message(too_large))
            job = import_job_create(
                merchant=merchant,
                user=request.user,
                kind=kind,
                uploaded=request.FILES.get("file"),
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect(_job_url(job))
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    else:
        import_files_prune(merchant=merchant)
    context = {
        "error": error,
        "kind": kind,
        "kinds": ImportKind.choices,
        "max_mb": max_bytes() // (1024 * 1024),
        "jobs": ImportJob.objects.filter(merchant=merchant)[:10],
    }
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "sales/import_upload.html",
        context,
        status=400 if error else 200,
    )


def _error_rows(errors: list[dict], limit: int | None = ERRORS_SHOWN) -> list[dict]:
    return [
        {
            "row": e.get("row"),
            "field": field_label(e.get("field")),
            "value": e.get("value", ""),
            "reason": reason_text(e.get("reason", "")),
        }
        for e in errors[:limit]
    ]


def _preview_context(job: ImportJob) -> dict:
    try:
        preview = preview_read(path=job.stored_path, kind=job.kind, mapping=job.mapping)
    except (InvalidInput, OSError):
        return {"preview_error": _("The uploaded file can no longer be read. Upload it again.")}
    choices = [("", _("— ignore —"))] + [(name, field_label(name)) for name in fields_for(job.kind)]
    columns = [
        {"number": i + 1, "header": header, "field": preview.fields[i]}
        for i, header in enumerate(preview.headers)
    ]
    samples = [
        {"field": field_label(s.field), "format": s.format, "cell": s.cell, "reading": s.reading}
        for s in preview.samples
    ]
    # a first row with no header the importer knows: the owner may say it holds the names
    header_choice = (
        bool(job.mapping)
        and not preview_read(path=job.stored_path, kind=job.kind, mapping={}).has_header
    )
    header_choice = header_choice or not preview.has_header
    return {
        "preview": preview,
        "columns": columns,
        "choices": choices,
        "samples": samples,
        "header_choice": header_choice,
    }


@merchant_view
def job_page(request, slug: str, job_id: int):
    """One import: the preview and mapping, the dry run, the progress, or the result."""
    merchant, membership = merchant_for_request(request, slug)
    job = _job(merchant, job_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ("save", "check", "import"):
            return redirect(_job_url(job))
        width = int(request.POST.get("columns", "0") or 0)
        columns = [request.POST.get(f"col_{n}", "") for n in range(1, min(width, 500) + 1)]
        try:
            header_choice = request.POST.get("header_choice") == "1"
            import_job_set_mapping(
                job=job,
                columns=columns,
                skip_invalid=request.POST.get("skip_invalid") == "1",
                first_row_header=(
                    request.POST.get("first_row_header") == "1" if header_choice else None
                ),
            )
            if action == "check":
                import_job_check(job=job)
                return redirect(_job_url(job) + "#periksa")
            if action == "import":
                import_job_start(job=job, worker_running=worker_running())
            return redirect(_job_url(job))
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect(_job_url(job))
        except InvalidInput as exc:
            error = str(exc)
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    context: dict = {"job": job, "error": error, "ended": job.status in ENDED}
    if job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        context.update(_preview_context(job))
        if job.dry_run:
            context["dry"] = job.dry_run
            context["dry_errors"] = _error_rows(job.dry_run.get("errors", []))
    elif job.status == ImportStatus.RUNNING:
        done, total = progress_read(job)
        context.update(
            percent=_percent(done, total), cancelling=cancel_pending(job), done=done, total=total
        )
    else:
        context["errors"] = _error_rows(job.errors)
        context["has_rejects"] = bool(job.rejects_path) and Path(job.rejects_path).exists()
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "sales/import_job.html",
        context,
        status=400 if error else 200,
    )


def _percent(done: int, total: int) -> int:
    return min(100, int(done * 100 / total)) if total else 0


@merchant_view
@require_safe
def job_status(request, slug: str, job_id: int):
    """What the progress bar polls every second: status, done, total, percent."""
    merchant, _membership = merchant_for_request(request, slug)
    job = _job(merchant, job_id)
    done, total = progress_read(job)
    return JsonResponse(
        {
            "status": job.status,
            "label": job.get_status_display(),
            "done": done,
            "total": total,
            "percent": 100 if job.status == ImportStatus.DONE else _percent(done, total),
            "ended": job.status in ENDED,
            "cancelling": job.status == ImportStatus.RUNNING and cancel_pending(job),
        },
        headers={"Cache-Control": "no-store"},
    )


@merchant_view
@require_POST
def job_cancel(request, slug: str, job_id: int):
    merchant, _membership = merchant_for_request(request, slug)
    job = _job(merchant, job_id)
    try:
        import_job_cancel(job=job)
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect(_job_url(job))


@merchant_view
@require_safe
def job_errors(request, slug: str, job_id: int):
    """The bad rows (of the dry run before the import, of the import after) as a CSV file:
    row number, column, value and reason."""
    merchant, _membership = merchant_for_request(request, slug)
    job = _job(merchant, job_id)
    errors = job.errors if job.status in ENDED else (job.dry_run or {}).get("errors", [])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Reason")])
    for row in _error_rows(errors, limit=None):
        writer.writerow(
            [row["row"], row["field"], quote_cell(str(row["value"])), quote_cell(row["reason"])]
        )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="baris-salah-{job.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@merchant_view
@require_safe
def job_rejects(request, slug: str, job_id: int):
    """The rows skipped by an import with "lewati baris yang salah", as they were read, with
    the reason in an extra column."""
    merchant, _membership = merchant_for_request(request, slug)
    job = _job(merchant, job_id)
    if not job.rejects_path or not Path(job.rejects_path).exists():
        messages.error(request, _("This import has no file of skipped rows."))
        return redirect(_job_url(job))
    response = FileResponse(
        open(job.rejects_path, "rb"),  # noqa: SIM115 (closed by the response)
        as_attachment=True,
        filename=f"baris-dilewati-{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response
