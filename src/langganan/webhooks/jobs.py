"""The webhooks' job (see :mod:`langganan.core.jobs`): send due deliveries and retry failed
ones, every minute, for every merchant. Safe to run in several processes at once (each
delivery is claimed by one of them, see :mod:`langganan.webhooks.delivery`)."""

from __future__ import annotations

import time
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from langganan.core.jobs import Job, JobResult, register
from langganan.core.jobs.registry import n

BATCH = 100
BUDGET_S = 50.0


def deliver(*, now: datetime, force: bool = False) -> JobResult:
    from langganan.webhooks.delivery import webhooks_deliver_due

    counts = {"attempted": 0, "delivered": 0, "retrying": 0, "failed": 0}
    started = time.monotonic()
    while True:
        report = webhooks_deliver_due(limit=BATCH)
        for key in counts:
            counts[key] += getattr(report, key)
        if report.attempted < BATCH or time.monotonic() - started >= BUDGET_S:
            return JobResult(counts)


def _text(result: dict) -> str:
    if not result.get("attempted"):
        return _("Nothing to send")
    return _("%(delivered)s delivered, %(retrying)s to retry, %(failed)s failed") % {
        key: n(result.get(key, 0)) for key in ("delivered", "retrying", "failed")
    }


register(
    Job(
        name="webhooks.deliver",
        title=gettext_lazy("Webhook retries"),
        description=gettext_lazy(
            "Sends events to your other systems (webhooks) and retries the ones that failed."
        ),
        func=deliver,
        summary=_text,
        per_merchant=False,
        every_minutes=1,
        order=90,
    )
)
