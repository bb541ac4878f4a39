"""The audit log's retention (see :mod:`langganan.core.jobs`): each night, every merchant's
audit events older than ``LANGGANAN_AUDIT_RETENTION_DAYS`` (default 730) are removed."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy, ngettext

from langganan.core.jobs import Job, JobResult, register
from langganan.core.jobs.registry import n
from langganan.core.models import Merchant


def prune(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.privacy.audit import audit_prune

    return JobResult({"deleted": audit_prune(merchant=merchant, now=now)})


def _prune_text(result: dict) -> str:
    count = result.get("deleted", 0)
    return ngettext(
        "%(count)s old audit event removed", "%(count)s old audit events removed", count
    ) % {"count": n(count)}


register(
    Job(
        name="privacy.audit_prune",
        title=gettext_lazy("Audit log retention"),
        description=gettext_lazy(
            "Removes audit log events older than the retention period (2 years unless set)."
        ),
        func=prune,
        summary=_prune_text,
        daily=True,
        order=90,
    )
)
