"""The nightly customer analysis (see :mod:`langganan.core.jobs`): per merchant, at the
nightly hour in the merchant's time zone, skipped when nothing changed.

"Nothing changed" means the merchant's sales are the ones the last analysis saw: the run keeps
the number of transactions, the latest id and the latest recorded time in its ``seen``; the
next run compares. When no run of this job saw them yet (e.g. after ``langganan analyze``), an
analysis that started after the latest sale was recorded counts as current. Time passing alone
moves customers towards "lapsed", so an analysis older than :data:`REFRESH_AFTER` is redone
even without a new sale. Two analyses of one merchant never overlap: the job takes the
merchant's lock (:mod:`langganan.core.jobs.services`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from langganan.core.jobs import Job, JobResult, register
from langganan.core.jobs.registry import n
from langganan.core.models import Merchant

NAME = "insights.nightly"
UNCHANGED = "unchanged"
REFRESH_AFTER = timedelta(days=7)


def sales_seen(merchant: Merchant) -> dict:
    """What identifies the merchant's sales as they are now (count, latest id and time)."""
    from langganan.sales.models import Transaction

    found = Transaction.objects.filter(merchant=merchant).aggregate(
        count=Count("pk"), last_id=Max("pk"), last_recorded=Max("created_at")
    )
    last = found["last_recorded"]
    return {
        "count": found["count"],
        "last_id": found["last_id"],
        "last_recorded": last.isoformat() if last else None,
    }


def _unchanged(merchant: Merchant, seen: dict, now: datetime) -> bool:
    from langganan.core.jobs.models import JobRun
    from langganan.insights.models import InsightRun

    latest = InsightRun.objects.filter(merchant=merchant).order_by("-started_at", "-id").first()
    if latest is None or latest.status != InsightRun.Status.DONE:
        return False
    if latest.started_at < now - REFRESH_AFTER:
        return False
    before = (
        JobRun.objects.filter(job=NAME, merchant=merchant)
        .exclude(outcome=JobRun.Outcome.FAILED)
        .exclude(seen={})
        .order_by("-started_at", "-id")
        .values_list("seen", flat=True)
        .first()
    )
    if before is not None:
        return before == seen
    last = seen["last_recorded"]
    return last is None or latest.started_at >= datetime.fromisoformat(last)


def analyse(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.insights.services import insights_refresh

    seen = sales_seen(merchant)
    if not force and _unchanged(merchant, seen, now):
        return JobResult(skipped=UNCHANGED, seen=seen)
    run = insights_refresh(merchant=merchant, observation_end=now)
    return JobResult({"customers": run.customers, "transactions": run.transactions}, seen=seen)


def _text(result: dict) -> str:
    if result.get("skipped") == UNCHANGED:
        return _("Skipped: no new sale since the last analysis")
    customers = result.get("customers", 0)
    return ngettext(
        "%(count)s customer analysed from %(sales)s sales",
        "%(count)s customers analysed from %(sales)s sales",
        customers,
    ) % {"count": n(customers), "sales": n(result.get("transactions", 0))}


register(
    Job(
        name=NAME,
        title=gettext_lazy("Nightly customer analysis"),
        description=gettext_lazy(
            "Works out each customer's stage, chance of coming back, usual order and next "
            "visit from the sales. Skipped when there is no new sale."
        ),
        func=analyse,
        summary=_text,
        daily=True,
        order=10,
        lease=timedelta(hours=1),
    )
)
