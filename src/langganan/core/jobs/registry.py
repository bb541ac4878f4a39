"""The registry of recurring jobs: what each app asks the worker to run, and when.

Apps contribute their jobs in a ``jobs.py`` module (like ``admin.py``), found by
:func:`autodiscover`::

    register(Job(name="loyalty.expire", title=_("Points expiry"), ..., func=expire, daily=True))

A job is either **per merchant** (``func(*, merchant, now, force) -> JobResult``, run once for
each merchant, with a per-merchant lock) or **global** (``func(*, now, force) -> JobResult``,
one pass for every merchant's rows, e.g. the outbox). It runs **every N minutes**
(``every_minutes``) or **once a day** (``daily``) at the nightly hour in each merchant's own
time zone (:func:`nightly_hour`, default 02:00; ``LANGGANAN_NIGHTLY_HOUR`` changes it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils.formats import number_format

DEFAULT_NIGHTLY_HOUR = 2
#: how often the worker checks whether a daily job is due somewhere
DAILY_CHECK_MINUTES = 15


@dataclass
class JobResult:
    """What one run did: counts for its summary, a reason when it did nothing on purpose
    (``skipped``: a code the job's ``summary`` explains), and what it saw (``seen``, kept with
    the run so the next one can tell whether anything changed)."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: str = ""
    seen: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    name: str
    title: str  # lazy translations: the page shows them in the reader's language
    description: str
    func: Callable[..., JobResult]
    #: counts (and the skip reason under "skipped") -> a short plain sentence, active language
    summary: Callable[[dict], str]
    per_merchant: bool = True
    every_minutes: int = 0
    daily: bool = False
    order: int = 100
    #: per-merchant jobs take a lease-lock so two runs for one merchant never overlap
    lock: bool = True
    lease: timedelta = timedelta(minutes=15)

    @property
    def schedule_name(self) -> str:
        """The django-q2 schedule's name: ``loyalty.expire`` -> ``loyalty: expire``."""
        app, _, rest = self.name.partition(".")
        return f"{app}: {rest}"

    @property
    def check_minutes(self) -> int:
        return self.every_minutes or DAILY_CHECK_MINUTES


_JOBS: dict[str, Job] = {}
_discovered = False


def register(job: Job) -> Job:
    if bool(job.every_minutes) == job.daily:
        raise ValueError(f"job {job.name}: give every_minutes or daily=True, not both")
    _JOBS[job.name] = job
    return job


def autodiscover() -> None:
    """Import every installed app's ``jobs`` module (each registers its jobs)."""
    global _discovered
    if _discovered:
        return
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("jobs")
    _discovered = True


def jobs() -> list[Job]:
    autodiscover()
    return sorted(_JOBS.values(), key=lambda j: (j.order, j.name))


def job_get(name: str) -> Job:
    autodiscover()
    return _JOBS[name]


def nightly_hour() -> int:
    """The merchant-local hour the daily jobs run at (0–23)."""
    value = getattr(settings, "LANGGANAN_NIGHTLY_HOUR", None)
    if value is None:
        value = os.environ.get("LANGGANAN_NIGHTLY_HOUR", DEFAULT_NIGHTLY_HOUR)
    hour = int(value)
    return hour if 0 <= hour <= 23 else DEFAULT_NIGHTLY_HOUR


def n(value: int) -> str:
    """A count with the active language's thousands separator (1.234 / 1,234)."""
    return number_format(value, force_grouping=True)


def describe(job: Job, result: dict) -> str:
    """A run's result as a short plain sentence in the active language."""
    from django.utils.translation import gettext

    if result.get("skipped") == "busy":
        return gettext("Skipped: already running in another process")
    return str(job.summary(result))
