"""The complaints' job (see :mod:`langganan.core.jobs`): every 15 minutes, announce each
complaint that has just gone past its first-response or resolution target (the
``complaint.overdue`` webhook, once per complaint, see :mod:`langganan.care.events`)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy, ngettext

from langganan.core.jobs import Job, JobResult, register
from langganan.core.jobs.registry import n
from langganan.core.models import Merchant


def announce_overdue(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.care.events import complaints_overdue_announce

    return JobResult({"overdue": complaints_overdue_announce(merchant=merchant, now=now)})


def _text(result: dict) -> str:
    count = result.get("overdue", 0)
    return ngettext(
        "%(count)s complaint newly overdue", "%(count)s complaints newly overdue", count
    ) % {"count": n(count)}


register(
    Job(
        name="care.overdue",
        title=gettext_lazy("Overdue complaints"),
        description=gettext_lazy(
            "Tells your other systems (webhook) about each complaint that passed its "
            "response or resolution target."
        ),
        func=announce_overdue,
        summary=_text,
        every_minutes=15,
        order=60,
    )
)
