"""Recurring jobs: a registry the apps contribute to, their django-q2 schedules, a record of
every run, and the jobs page (``/m/<merchant>/jobs/``).

==========================  =====================  =============================================
job (schedule name)         when                   what
==========================  =====================  =============================================
insights: nightly           nightly, per merchant  customer analysis; skipped when no sale changed
loyalty: expire             nightly, per merchant  points past their expiry date expire
loyalty: tiers              nightly, per merchant  tier review on the program's review dates
loyalty: birthdays          nightly, per merchant  birthday bonus points, once a year each
loyalty: expiring           nightly, per merchant  ``points.expiring`` webhooks, once a day
campaigns: triggers         15 min, per merchant   active campaigns queue what is due
campaigns: outbox           every minute, global   send the due messages
campaigns: recover          10 min, global         interrupted sends become ``unknown``
webhooks: deliver           every minute, global   send due webhooks, retry failed ones
==========================  =====================  =============================================

"Nightly" is :func:`~langganan.core.jobs.registry.nightly_hour` (default 02:00) in each
merchant's own time zone; the worker checks every 15 minutes which merchants are due, so a
worker that was down at night catches up when it starts. :mod:`.services` explains how a run
is locked and recorded; ``langganan worker`` writes the schedules at every start.
"""

from .registry import Job, JobResult, describe, job_get, jobs, register

__all__ = ["Job", "JobResult", "describe", "job_get", "jobs", "register"]
