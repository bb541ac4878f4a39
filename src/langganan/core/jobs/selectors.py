"""Reading the jobs' runs: the jobs page's rows and whether a worker is running."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from langganan.core.models import Merchant

from .models import JobRun
from .registry import Job, describe, jobs, nightly_hour

#: no scheduled run (or ``langganan worker --once``) finished for this long: no worker running
WORKER_SILENT_AFTER = timedelta(minutes=5)
WORKER_JOB = "campaigns.outbox"  # runs every minute wherever a worker runs


def worker_seen_at() -> datetime | None:
    """When a worker last finished a run of the every-minute outbox job (not a run by hand)."""
    return (
        JobRun.objects.filter(job=WORKER_JOB)
        .exclude(trigger=JobRun.Trigger.MANUAL)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def worker_running(*, now: datetime | None = None) -> bool:
    seen = worker_seen_at()
    return seen is not None and seen >= (now or timezone.now()) - WORKER_SILENT_AFTER


def plain_error(error: str) -> str:
    """A failed run's error in plain words, without the technical details."""
    kind = error.split(":", 1)[0].strip()
    if kind in {"OperationalError", "InterfaceError", "DatabaseError"}:
        return _("The database was busy or could not be reached. It will be tried again.")
    if kind in {"TimeoutError", "URLError", "ConnectionError", "ConnectionRefusedError"}:
        return _("Another service did not answer in time. It will be tried again.")
    if kind in {"MemoryError"}:
        return _("The server ran out of memory for this job.")
    return _(
        "The job stopped on an unexpected problem (%(kind)s). The technical details are in "
        "the worker's log."
    ) % {"kind": kind or "?"}


def cadence_text(job: Job) -> str:
    if job.daily:
        return _("Every night at %(time)s") % {"time": f"{nightly_hour():02d}.00"}
    return ngettext("Every minute", "Every %(count)s minutes", job.every_minutes) % {
        "count": job.every_minutes
    }


def ago_text(moment: datetime, now: datetime | None = None) -> str:
    """ "just now" under a minute, else "5 minutes ago" (in the active language)."""
    from django.utils.timesince import timesince

    now = now or timezone.now()
    if now - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(moment, now)}


def duration_text(ms: int) -> str:
    if ms < 1000:
        return _("under a second")
    seconds = round(ms / 1000)
    if seconds < 90:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}
    minutes = round(seconds / 60)
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


@dataclass
class JobRow:
    job: Job
    cadence: str
    for_everyone: bool
    last: JobRun | None
    result: str
    error: str
    duration: str
    next_run: datetime | None
    next_soon: bool  # due: runs at the worker's next check
    last_ok: JobRun | None  # the latest run that did not fail, when the latest one failed


def _next_run(job: Job, merchant: Merchant, last: JobRun | None, schedules: dict, now):
    """(next run time, due now) — the daily jobs from the merchant's nightly time, the others
    from their django-q2 schedule."""
    from .services import daily_due, daily_slot

    check = schedules.get(job.schedule_name)
    if job.daily:
        if daily_due(job=job, merchant=merchant, now=now):
            return check, True
        return daily_slot(merchant=merchant, now=now) + timedelta(days=1), False
    if check is not None:
        return check, check <= now
    if last is not None:
        at = last.started_at + timedelta(minutes=job.every_minutes)
        return at, at <= now
    return None, True


def job_rows(*, merchant: Merchant, now: datetime | None = None) -> list[JobRow]:
    """One row per registered job: its latest run for this merchant (for a global job, the
    latest run for everyone), in plain words, and when it runs next."""
    from django_q.models import Schedule

    now = now or timezone.now()
    schedules = dict(Schedule.objects.values_list("name", "next_run"))
    rows = []
    for job in jobs():
        mine = Q(merchant=merchant) if job.per_merchant else Q(merchant__isnull=True)
        runs = JobRun.objects.filter(mine, job=job.name).order_by("-started_at", "-id")
        last = runs.first()
        last_ok = None
        if last is not None and last.outcome == JobRun.Outcome.FAILED:
            last_ok = runs.exclude(outcome=JobRun.Outcome.FAILED).first()
        next_run, soon = _next_run(job, merchant, last, schedules, now)
        rows.append(
            JobRow(
                job=job,
                cadence=cadence_text(job),
                for_everyone=not job.per_merchant,
                last=last,
                result=describe(job, last.result) if last and last.outcome != "failed" else "",
                error=plain_error(last.error) if last and last.outcome == "failed" else "",
                duration=duration_text(last.duration_ms) if last else "",
                next_run=next_run,
                next_soon=soon,
                last_ok=last_ok,
            )
        )
    return rows
