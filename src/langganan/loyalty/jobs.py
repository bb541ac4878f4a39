"""The loyalty program's nightly jobs (see :mod:`langganan.core.jobs`): points expiry, tier
review, birthday bonuses and the expiring-points webhook. Each service is idempotent by itself
(journal keys, member rows locked, see their docstrings); the expiring-points announcement is
not, so its job announces once per merchant-local day (what it announced is in the run's
``seen``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from langganan.core.jobs import Job, JobResult, register
from langganan.core.jobs.registry import n
from langganan.core.models import Merchant

NO_PROGRAM = "no_program"
DONE_TODAY = "done_today"
EXPIRING_DAYS = 7


def _no_program(merchant: Merchant) -> bool:
    from langganan.loyalty.models import Program

    return not Program.objects.filter(merchant=merchant, is_active=True).exists()


def _skip_text(result: dict) -> str | None:
    if result.get("skipped") == NO_PROGRAM:
        return _("Skipped: no active loyalty program")
    if result.get("skipped") == DONE_TODAY:
        return _("Skipped: already done today")
    return None


def expire(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.loyalty.points import points_expire_due

    if _no_program(merchant):
        return JobResult(skipped=NO_PROGRAM)
    return JobResult({"points": points_expire_due(merchant=merchant, now=now)})


def review_tiers(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.loyalty.tiers import tier_review_run

    if _no_program(merchant):
        return JobResult(skipped=NO_PROGRAM)
    return JobResult({"changed": len(tier_review_run(merchant=merchant, at=now))})


def birthdays(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    from langganan.loyalty.members import birthday_bonus_run, merchant_zone

    if _no_program(merchant):
        return JobResult(skipped=NO_PROGRAM)
    today = timezone.localtime(now, merchant_zone(merchant)).date()
    return JobResult({"given": birthday_bonus_run(merchant=merchant, today=today)})


def announce_expiring(*, merchant: Merchant, now: datetime, force: bool = False) -> JobResult:
    """Once per local day, even when run by hand again (``force`` does not repeat it)."""
    from langganan.core.jobs.models import JobRun
    from langganan.loyalty.members import merchant_zone
    from langganan.loyalty.reminders import points_expiring_announce

    if _no_program(merchant):
        return JobResult(skipped=NO_PROGRAM)
    day = timezone.localtime(now, merchant_zone(merchant)).date().isoformat()
    seen = {"day": day}
    done = JobRun.objects.filter(
        job="loyalty.expiring", merchant=merchant, outcome=JobRun.Outcome.OK, seen__day=day
    )
    if done.exists():
        return JobResult(skipped=DONE_TODAY, seen=seen)
    count = points_expiring_announce(merchant=merchant, days=EXPIRING_DAYS, now=now)
    return JobResult({"customers": count}, seen=seen)


def _expire_text(result: dict) -> str:
    count = result.get("points", 0)
    return _skip_text(result) or ngettext(
        "%(count)s point expired", "%(count)s points expired", count
    ) % {"count": n(count)}


def _tiers_text(result: dict) -> str:
    count = result.get("changed", 0)
    return _skip_text(result) or ngettext(
        "%(count)s member changed tier", "%(count)s members changed tier", count
    ) % {"count": n(count)}


def _birthdays_text(result: dict) -> str:
    count = result.get("given", 0)
    return _skip_text(result) or ngettext(
        "%(count)s birthday bonus given", "%(count)s birthday bonuses given", count
    ) % {"count": n(count)}


def _expiring_text(result: dict) -> str:
    count = result.get("customers", 0)
    return _skip_text(result) or ngettext(
        "%(count)s customer announced", "%(count)s customers announced", count
    ) % {"count": n(count)}


register(
    Job(
        name="loyalty.expire",
        title=gettext_lazy("Points expiry"),
        description=gettext_lazy("Removes the points whose expiry date has passed."),
        func=expire,
        summary=_expire_text,
        daily=True,
        order=20,
    )
)
register(
    Job(
        name="loyalty.tiers",
        title=gettext_lazy("Tier review"),
        description=gettext_lazy(
            "On each review date, moves members up or down to the tier their spending "
            "qualifies them for."
        ),
        func=review_tiers,
        summary=_tiers_text,
        daily=True,
        order=30,
    )
)
register(
    Job(
        name="loyalty.birthdays",
        title=gettext_lazy("Birthday bonus"),
        description=gettext_lazy("Gives members their birthday points, once a year."),
        func=birthdays,
        summary=_birthdays_text,
        daily=True,
        order=40,
    )
)
register(
    Job(
        name="loyalty.expiring",
        title=gettext_lazy("Expiring points notice"),
        description=gettext_lazy(
            "Tells your other systems (webhook) whose points expire in 7 days."
        ),
        func=announce_expiring,
        summary=_expiring_text,
        daily=True,
        order=50,
    )
)
