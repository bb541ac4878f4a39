"""Data pages: the merchant's tables exported from the browser (owners only).

Views parse input, call the exporter and answer; the export's columns and its safety against
spreadsheet formulas are :mod:`langganan.sales.exporting`'s.
"""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from langganan.core.jobs.selectors import worker_running
from langganan.customers.models import Customer
from langganan.privacy import audit
from langganan.sales.export_jobs import (
    export_file_of,
    export_files_prune,
    export_job_queue,
    inline_max_rows,
)
from langganan.sales.exporting import TABLES, export_table
from langganan.sales.models import ExportJob, ExportStatus, LineItem, Transaction
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone
from langganan.web.views import _render_for_merchant

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: the file's name for each table (Indonesian, as the merchant saves it)
FILE_NAMES = {
    "customers": "pelanggan",
    "transactions": "transaksi",
    "balances": "saldo",
    "list": "pelanggan",
}
#: what each background export holds, as the export page lists it
EXPORT_NAMES = {
    "customers": _lazy("Customers"),
    "transactions": _lazy("Sales"),
    "balances": _lazy("Points and tab balances"),
    "list": _lazy("Filtered customer list"),
}


def _count(singular: str, plural: str, rows) -> str:
    n = rows.count()
    return ngettext(singular, plural, n) % {"n": number_format(n, force_grouping=True)}


@merchant_view
@require_safe
def export_page(request, slug: str):
    """The merchant's tables, each with its size and a download as Excel or CSV."""
    merchant, membership = merchant_for_request(request, slug)
    tables = [
        {
            "key": "customers",
            "title": _("Customers"),
            "text": _("Profile, contact, member code, birthday, source, tags and consent."),
            "count": _count(
                "%(n)s customer", "%(n)s customers", Customer.objects.filter(merchant=merchant)
            ),
        },
        {
            "key": "transactions",
            "title": _("Sales"),
            "text": _("Every sale and refund, one row per item, with outlet and payment."),
            "count": _count(
                "%(n)s sale or refund",
                "%(n)s sales and refunds",
                Transaction.objects.filter(merchant=merchant),
            ),
        },
        {
            "key": "balances",
            "title": _("Points and tab balances"),
            "text": _("Each customer's points and their value, store credit, tab owed and limit."),
            "count": "",
        },
    ]
    export_files_prune(merchant=merchant)
    jobs = list(ExportJob.objects.filter(merchant=merchant)[:10])
    pending = any(j.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for j in jobs)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "sales/export.html",
        {"tables": tables, "jobs": jobs, "pending": pending, "names": EXPORT_NAMES},
    )


def _size(merchant, what: str) -> int:
    """How many rows the table's file will have (sales: one row per item)."""
    if what == "transactions":
        return LineItem.objects.filter(transaction__merchant=merchant).count()
    return Customer.objects.filter(merchant=merchant).count()


def export_later(request, merchant, *, what: str, fmt: str, query: str = ""):
    """Hand a large export to the worker and send the owner to the export page, where the
    file appears when it is ready."""
    export_job_queue(merchant=merchant, user=request.user, what=what, fmt=fmt, query=query)
    messages.info(
        request,
        _(
            "The file is large, so it is being prepared in the background. It appears below "
            "when it is ready; you may leave this page meanwhile."
        ),
    )
    return redirect(reverse("data:export", args=[merchant.slug]) + "#exports")


@merchant_view
@require_safe
def export_download(request, slug: str, job_id: int):
    """A file prepared in the background, for the merchant's owner."""
    merchant, _membership = merchant_for_request(request, slug)
    job = ExportJob.objects.filter(merchant=merchant, pk=job_id).first()
    path = export_file_of(job) if job is not None else None
    if path is None:
        raise Http404
    name = FILE_NAMES.get(job.what, "pelanggan")
    stamp = timezone.localtime(job.finished_at, merchant_zone(merchant)).date().isoformat()
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 (closed by the response)
        as_attachment=True,
        filename=f"{name}-{merchant.slug}-{stamp}.{job.fmt}",
        content_type=CONTENT_TYPES[job.fmt],
    )
    response["Cache-Control"] = "no-store"
    return response


@merchant_view
@require_POST
def export_file(request, slug: str, what: str, fmt: str):
    """One table as a file with Indonesian headers; recorded in the audit log (who, when,
    which table, how many rows). Written to a private temporary file and streamed, so a large
    table does not sit in memory."""
    if what not in TABLES or fmt not in CONTENT_TYPES:
        raise Http404
    merchant, _membership = merchant_for_request(request, slug)
    if _size(merchant, what) > inline_max_rows() and worker_running():
        return export_later(request, merchant, what=what, fmt=fmt)
    handle, path = tempfile.mkstemp(prefix="langganan-export-", suffix=f".{fmt}")
    os.close(handle)
    try:
        rows = export_table(merchant=merchant, what=what, path=path, headers="id")
        audit.record(request, merchant, "export.table", table=what, format=fmt, rows=rows)
        stream = open(path, "rb")  # noqa: SIM115 (closed by the response)
    finally:
        os.unlink(path)  # the open handle keeps the file readable until it is sent
    with timezone.override(merchant_zone(merchant)):
        stamp = timezone.localdate().isoformat()
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"{FILE_NAMES[what]}-{merchant.slug}-{stamp}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
    )
    response["Cache-Control"] = "no-store"
    return response
