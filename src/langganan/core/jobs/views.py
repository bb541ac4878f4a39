"""The jobs page (owners and managers): each recurring job's last run, result, duration, next
run and errors in plain words, with "run now". A cashier gets 403 (langganan.web.permissions);
another merchant is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from langganan.core.selectors import merchants_for_user
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

from .models import JobRun
from .registry import describe, job_get
from .selectors import ago_text, job_rows, worker_running, worker_seen_at
from .services import job_run_now


def _merchant(request, slug: str):
    return merchant_for_request(request, slug)


@merchant_view
@require_safe
def job_list(request, slug: str):
    merchant, membership = _merchant(request, slug)
    seen = worker_seen_at()
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "rows": job_rows(merchant=merchant),
        "worker_running": worker_running(),
        "worker_seen_at": seen,
        "worker_seen": ago_text(seen) if seen else "",
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, "core/jobs.html", context)


@merchant_view
@require_POST
def job_run(request, slug: str, name: str):
    merchant, _membership = _merchant(request, slug)
    try:
        job = job_get(name)
    except KeyError as exc:
        raise Http404 from exc
    run = job_run_now(job=job, merchant=merchant, worker_running=worker_running())
    if run is None:
        messages.success(
            request,
            _("%(job)s was sent to the background worker; its result appears here shortly.")
            % {"job": job.title},
        )
    elif run.outcome == JobRun.Outcome.FAILED:
        messages.error(
            request,
            _("%(job)s was run here at once (no background worker is running) and failed.")
            % {"job": job.title},
        )
    else:
        messages.success(
            request,
            _("%(job)s was run here at once (no background worker is running): %(result)s.")
            % {"job": job.title, "result": describe(job, run.result)},
        )
    return redirect("jobs:list", slug=merchant.slug)
