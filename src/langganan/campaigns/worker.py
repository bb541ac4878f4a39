"""The campaigns' tasks, run by the worker on their schedules (or once, from cron).

=====================  ===============  ==========================================================
schedule (by name)     every            task
=====================  ===============  ==========================================================
campaigns: outbox      minute           :func:`deliver_outbox` — send what is due
campaigns: triggers    15 minutes       :func:`run_due_campaigns` — queue what campaigns decide
campaigns: recover     10 minutes       :func:`recover_stale` — interrupted sends become unknown
=====================  ===============  ==========================================================

They are jobs of the project-wide registry (:mod:`langganan.core.jobs`, registered in
:mod:`langganan.campaigns.jobs`), which records every run and writes the django-q2 schedules
of every app's jobs (:func:`schedules_ensure`) each time ``langganan worker`` starts. The
campaign triggers run per merchant; sending and recovery are one pass for every merchant.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import asdict
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from langganan.core.jobs import JobResult
from langganan.core.jobs.registry import n
from langganan.core.models import Merchant

from .delivery import LEASE, DeliveryReport, outbox_deliver_due, outbox_recover_stale

logger = logging.getLogger(__name__)

#: A delivery task stops starting new passes after this many seconds, so scheduled runs do not
#: pile up behind each other (the schedule runs every minute).
DELIVERY_BUDGET_S = 50.0
DELIVERY_BATCH = 100


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
    """Create or update the schedules of every registered job (the campaigns' and the other
    apps'); see :func:`langganan.core.jobs.services.schedules_ensure`."""
    from langganan.core.jobs.services import schedules_ensure as ensure

    return ensure()


# -- as jobs of the registry ------------------------------------------------------------------

NO_CAMPAIGNS = "no_campaigns"


def triggers_job(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    """The merchant's active campaigns queue what is due (each campaign decides under its own
    row lock, so a repeated or overlapping run queues nothing twice)."""
    from .models import Campaign, CampaignStatus
    from .services import campaigns_run_due

    if not Campaign.objects.filter(merchant=merchant, status=CampaignStatus.ACTIVE).exists():
        return JobResult(skipped=NO_CAMPAIGNS)
    reports = campaigns_run_due(merchant=merchant, now=now)
    return JobResult(
        {
            "campaigns": len(reports),
            "queued": sum(r.queued for r in reports),
            "holdout": sum(r.holdout for r in reports),
        }
    )


def outbox_job(*, now: datetime, force: bool = False) -> JobResult:
    return JobResult(deliver_outbox(budget_s=DELIVERY_BUDGET_S))


def recover_job(*, now: datetime, force: bool = False) -> JobResult:
    return JobResult(recover_stale())


def triggers_text(result: dict) -> str:
    if result.get("skipped") == NO_CAMPAIGNS:
        return _("Skipped: no active campaign")
    queued = result.get("queued", 0)
    return ngettext(
        "%(count)s message queued by %(campaigns)s campaigns",
        "%(count)s messages queued by %(campaigns)s campaigns",
        queued,
    ) % {"count": n(queued), "campaigns": n(result.get("campaigns", 0))}


def outbox_text(result: dict) -> str:
    if not any(result.values()):
        return _("Nothing due")
    text = _("%(sent)s sent, %(failed)s failed") % {
        "sent": n(result.get("sent", 0)),
        "failed": n(result.get("failed", 0)),
    }
    if result.get("deferred"):
        text += ", " + _("%(count)s waiting for quiet hours to end") % {
            "count": n(result["deferred"])
        }
    return text


def recover_text(result: dict) -> str:
    count = result.get("unknown", 0)
    return ngettext(
        "%(count)s interrupted send marked uncertain",
        "%(count)s interrupted sends marked uncertain",
        count,
    ) % {"count": n(count)}
