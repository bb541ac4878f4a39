"""Running the recurring jobs: record every run, lock per merchant, run what is due, and keep
django-q2's schedules in step with the registry.

How a run goes (:func:`job_run`):

1. **Lock** (per-merchant jobs): the (job, merchant) :class:`JobLock` row is taken for the job's
   lease in a short transaction — ``SELECT … FOR UPDATE`` on PostgreSQL, so two workers reading
   it at once queue and the second sees the first's lease; on SQLite ``FOR UPDATE`` does nothing,
   but every transaction is IMMEDIATE (see the settings), so the second waits for the whole
   write lock instead and sees the lease the same way. A run that finds the lease held by
   another is recorded as *skipped* ("already running"). The lock is released at the end; a
   killed run's lease runs out by itself.
2. **Run** the job's function outside any transaction of ours (the services keep their own
   transactions short). Each service is idempotent by itself — journal keys per lot, per
   birthday and year, per member and review date; campaign rows locked while a campaign decides;
   outbox and webhook rows claimed one by one — so a sale at the same moment, or a run by hand
   from the command line, never duplicates an expiry, a bonus, a tier change or a message. The
   lock is for the nightly analysis, which replaces the merchant's insights and must not run
   twice at once, and it saves doing the same work twice.
3. **Record** one :class:`JobRun` (append-only) and prune the job's oldest runs beyond
   :data:`KEEP_RUNS` per merchant.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation

from langganan.core.models import Merchant

from .models import JobLock, JobRun
from .registry import Job, JobResult, describe, job_get, jobs, nightly_hour

logger = logging.getLogger(__name__)

KEEP_RUNS = 100
MAX_ERROR_CHARS = 2000
#: a failed daily run is tried again after this long (not at every check)
DAILY_RETRY = timedelta(hours=1)
RUNNER = "langganan.core.jobs.services.scheduled"
RUN_TASK = "langganan.core.jobs.services.run_task"
SKIP_BUSY = "busy"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _scope(job: Job, merchant: Merchant | None) -> str:
    return f"{job.name}:{merchant.pk if merchant else '*'}"


def _lock_take(scope: str, holder: str, lease: timedelta) -> bool:
    now = timezone.now()
    with transaction.atomic():
        lock, _ = JobLock.objects.select_for_update().get_or_create(scope=scope)
        if lock.held_until is not None and lock.held_until > now and lock.holder != holder:
            return False
        lock.holder, lock.held_until = holder, now + lease
        lock.save(update_fields=["holder", "held_until"])
    return True


def _lock_release(scope: str, holder: str) -> None:
    JobLock.objects.filter(scope=scope, holder=holder).update(held_until=None)


def _summary(job: Job, result: dict, outcome: str) -> str:
    if outcome == JobRun.Outcome.FAILED:
        return ""
    with translation.override("id"):
        return describe(job, result)[:200]


def job_run(
    *,
    job: Job | str,
    merchant: Merchant | None = None,
    trigger: str = JobRun.Trigger.SCHEDULE,
    now: datetime | None = None,
    force: bool = False,
) -> JobRun:
    """Run ``job`` once (for ``merchant`` when it is a per-merchant job) and record the run.

    Never raises for the job's own failure: the run is recorded as failed with its error (and
    logged with the traceback); ``force`` is passed on (a run by hand does not skip the nightly
    analysis when nothing changed)."""
    if isinstance(job, str):
        job = job_get(job)
    if job.per_merchant and merchant is None:
        raise ValueError(f"job {job.name} runs per merchant: give the merchant")
    started = timezone.now()
    clock = time.monotonic()
    holder, scope = _holder(), _scope(job, merchant)
    result = JobResult()
    error = ""
    locked = False
    try:
        if job.lock and job.per_merchant:
            locked = _lock_take(scope, holder, job.lease)
            if not locked:
                result = JobResult(skipped=SKIP_BUSY)
        if not job.lock or not job.per_merchant or locked:
            kwargs = {"now": now or started, "force": force}
            if job.per_merchant:
                kwargs["merchant"] = merchant
            result = job.func(**kwargs)
    except Exception as exc:  # noqa: BLE001 (recorded as the run's error, logged in full)
        logger.exception("job %s for %s failed", job.name, merchant or "all merchants")
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    try:
        # recorded while the lock is still held: a run that takes the lock next sees this one
        # (a job that does its work once per day looks for it)
        run = _record(job, merchant, trigger, started, clock, result, error)
    finally:
        if locked:
            _lock_release(scope, holder)
    _prune(job.name, merchant)
    return run


def _record(job, merchant, trigger, started, clock, result: JobResult, error: str) -> JobRun:
    if error:
        outcome = JobRun.Outcome.FAILED
    elif result.skipped:
        outcome = JobRun.Outcome.SKIPPED
    else:
        outcome = JobRun.Outcome.OK
    counts = dict(result.counts)
    if result.skipped:
        counts["skipped"] = result.skipped
    return JobRun.objects.create(
        job=job.name,
        merchant=merchant,
        trigger=trigger,
        started_at=started,
        finished_at=timezone.now(),
        duration_ms=int((time.monotonic() - clock) * 1000),
        outcome=outcome,
        result=counts,
        summary=_summary(job, counts, outcome),
        seen=result.seen,
        error=error,
    )


def _prune(name: str, merchant: Merchant | None) -> None:
    runs = JobRun.objects.filter(job=name, merchant=merchant).order_by("-started_at", "-id")
    old = list(runs.values_list("pk", flat=True)[KEEP_RUNS : KEEP_RUNS + 1000])
    if old:
        JobRun.objects.filter(pk__in=old).delete()


# -- when ------------------------------------------------------------------------------------


def daily_slot(*, merchant: Merchant, now: datetime) -> datetime:
    """The latest nightly time (merchant-local :func:`nightly_hour`) at or before ``now``."""
    from langganan.web.access import merchant_zone

    local = now.astimezone(merchant_zone(merchant))
    slot = local.replace(hour=nightly_hour(), minute=0, second=0, microsecond=0)
    return slot - timedelta(days=1) if slot > local else slot


def daily_due(*, job: Job, merchant: Merchant, now: datetime) -> bool:
    """Whether a daily job has not yet run for ``merchant`` since the latest nightly time
    (a failed run is retried after :data:`DAILY_RETRY`)."""
    runs = JobRun.objects.filter(
        job=job.name, merchant=merchant, started_at__gte=daily_slot(merchant=merchant, now=now)
    )
    if runs.exclude(outcome=JobRun.Outcome.FAILED).exists():
        return False
    return not runs.filter(started_at__gt=now - DAILY_RETRY).exists()


def job_run_due(
    *, job: Job | str, trigger: str = JobRun.Trigger.SCHEDULE, now: datetime | None = None
) -> list[JobRun]:
    """One scheduled pass of ``job``: the global run, or one run per merchant (a daily job only
    for the merchants where it is due)."""
    if isinstance(job, str):
        job = job_get(job)
    now = now or timezone.now()
    if not job.per_merchant:
        return [job_run(job=job, trigger=trigger, now=now)]
    runs = []
    for merchant in Merchant.objects.order_by("pk"):
        if job.daily and not daily_due(job=job, merchant=merchant, now=now):
            continue
        runs.append(job_run(job=job, merchant=merchant, trigger=trigger, now=now))
    return runs


def scheduled(name: str) -> dict[str, object]:
    """The django-q2 schedules' task: one pass of the job called ``name``."""
    runs = job_run_due(job=name)
    return {
        "runs": len(runs),
        "failed": sum(r.outcome == JobRun.Outcome.FAILED for r in runs),
        "summary": "; ".join(r.summary for r in runs if r.summary)[:500],
    }


def run_task(name: str, merchant_id: int | None, trigger: str = JobRun.Trigger.MANUAL) -> str:
    """The task queued by "run now": one forced run of ``name`` for one merchant (or all)."""
    merchant = Merchant.objects.get(pk=merchant_id) if merchant_id else None
    return job_run(job=name, merchant=merchant, trigger=trigger, force=True).summary


def job_run_now(*, job: Job | str, merchant: Merchant, worker_running: bool) -> JobRun | None:
    """Run ``job`` for ``merchant`` (a global job: for everyone) at once: queued for the worker
    when one is running (returns ``None``), else run here, in this process (returns the run)."""
    if isinstance(job, str):
        job = job_get(job)
    merchant_id = merchant.pk if job.per_merchant else None
    if worker_running:
        from django_q.tasks import async_task

        async_task(RUN_TASK, job.name, merchant_id, task_name=f"{job.name} (run now)")
        return None
    return job_run(
        job=job,
        merchant=merchant if job.per_merchant else None,
        trigger=JobRun.Trigger.MANUAL,
        force=True,
    )


# -- schedules -------------------------------------------------------------------------------


def schedules_ensure() -> dict[str, str]:
    """Create or update one django-q2 schedule per registered job; returns what happened to
    each, by schedule name ("created", "updated", "unchanged", or "removed" for an old
    ``langganan.`` schedule no job has any more). Rows are found by name, so it is safe to run
    at every start and in several processes at once."""
    from django_q.models import Schedule

    outcome: dict[str, str] = {}
    wanted_names = set()
    with transaction.atomic():
        for job in jobs():
            wanted_names.add(job.schedule_name)
            found = list(
                Schedule.objects.select_for_update().filter(name=job.schedule_name).order_by("pk")
            )
            wanted = {
                "func": RUNNER,
                "args": repr(job.name),
                "kwargs": None,
                "schedule_type": Schedule.MINUTES,
                "minutes": job.check_minutes,
                "repeats": -1,
            }
            if not found:
                Schedule.objects.create(name=job.schedule_name, next_run=timezone.now(), **wanted)
                outcome[job.schedule_name] = "created"
                continue
            keep, *duplicates = found
            for duplicate in duplicates:
                duplicate.delete()
            changed = [k for k, v in wanted.items() if getattr(keep, k) != v]
            for key in changed:
                setattr(keep, key, wanted[key])
            if changed:
                keep.save(update_fields=changed)
            outcome[job.schedule_name] = "updated" if changed or duplicates else "unchanged"
        stale = Schedule.objects.filter(func__startswith="langganan.").exclude(
            name__in=wanted_names
        )
        for schedule in stale:
            outcome[schedule.name] = "removed"
            schedule.delete()
    return outcome
