"""The campaign worker's tasks, run by a django-q2 cluster on its schedules (or once, from cron).

=====================  ===============  ==========================================================
schedule (by name)     every            task
=====================  ===============  ==========================================================
campaigns: outbox      minute           :func:`deliver_outbox` — send what is due
campaigns: triggers    15 minutes       :func:`run_due_campaigns` — queue what campaigns decide
campaigns: recover     10 minutes       :func:`recover_stale` — interrupted sends become unknown
=====================  ===============  ==========================================================

:func:`schedules_ensure` writes these rows (``django_q.Schedule``), idempotently by name, each
time ``langganan worker`` starts. Each task returns a small dict, which django-q2 keeps in its
task results (visible in the admin under Django Q).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .delivery import LEASE, DeliveryReport, outbox_deliver_due, outbox_recover_stale

logger = logging.getLogger(__name__)

#: A delivery task stops starting new passes after this many seconds, so scheduled runs do not
#: pile up behind each other (the schedule runs every minute).
DELIVERY_BUDGET_S = 50.0
DELIVERY_BATCH = 100


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int


SCHEDULES = (
    ScheduleSpec("campaigns: outbox", "langganan.campaigns.worker.deliver_outbox", 1),
    ScheduleSpec("campaigns: triggers", "langganan.campaigns.worker.run_due_campaigns", 15),
    ScheduleSpec("campaigns: recover", "langganan.campaigns.worker.recover_stale", 10),
)


def worker_name() -> str:
    """This process's name in the logs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_outbox(
    *, budget_s: float = DELIVERY_BUDGET_S, batch: int = DELIVERY_BATCH
) -> dict[str, int]:
    """Send due messages, pass after pass, until nothing is due or ``budget_s`` has passed."""
    total = DeliveryReport()
    started = time.monotonic()
    worker_id = worker_name()
    while True:
        report = outbox_deliver_due(limit=batch, worker_id=worker_id)
        total.add(report)
        if report.handled < batch or time.monotonic() - started >= budget_s:
            break
    if total.handled:
        logger.info("outbox: %s", total)
    return asdict(total)


def run_due_campaigns(*, now: datetime | None = None) -> dict[str, object]:
    """Let every active campaign queue the messages that are due (birthdays, reminders, …)."""
    from .services import campaigns_run_due

    result = campaigns_run_due(now=now or timezone.now())
    return {"result": result if isinstance(result, (int, str, dict, list)) else str(result)}


def recover_stale() -> dict[str, int]:
    """Interrupted sends (claimed longer than the lease ago) become ``unknown``."""
    return {"unknown": outbox_recover_stale(lease=LEASE)}


def schedules_ensure() -> dict[str, str]:
    """Create or update the worker's schedules; returns what happened to each, by name
    ("created", "updated" or "unchanged"). Rows are found by name, so it is safe to run at
    every start and in several processes."""
    from django_q.models import Schedule

    outcome: dict[str, str] = {}
    with transaction.atomic():
        for spec in SCHEDULES:
            found = list(Schedule.objects.select_for_update().filter(name=spec.name))
            wanted = {
                "func": spec.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "repeats": -1,
            }
            if not found:
                Schedule.objects.create(name=spec.name, next_run=timezone.now(), **wanted)
                outcome[spec.name] = "created"
                continue
            keep, *duplicates = found
            for duplicate in duplicates:
                duplicate.delete()
            changed = [k for k, v in wanted.items() if getattr(keep, k) != v]
            for key in changed:
                setattr(keep, key, wanted[key])
            if changed:
                keep.save(update_fields=changed)
            outcome[spec.name] = "updated" if changed or duplicates else "unchanged"
    return outcome
