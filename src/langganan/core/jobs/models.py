"""What the recurring jobs did (:class:`JobRun`, append-only, pruned to the last runs of each
job and merchant) and the per-merchant lease-locks that keep two runs from overlapping
(:class:`JobLock`). Imported by ``langganan.core.models``, so the rows belong to ``core``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant


class JobRun(models.Model):
    """One run of one job, for one merchant (or for all: ``merchant`` empty)."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Run now")
        COMMAND = "command", _("Command")

    job = models.CharField(_("job"), max_length=64)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, null=True, blank=True, related_name="job_runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    # the job's counts, e.g. {"points": 12}, and the skip reason under "skipped"
    result = models.JSONField(default=dict, blank=True)
    # a short plain result in Indonesian, e.g. "12 poin kedaluwarsa" (the page re-words it
    # from ``result`` in the reader's language)
    summary = models.CharField(_("result"), max_length=200, blank=True)
    # what the run saw, e.g. the latest sale, so that the next run can skip when nothing changed
    seen = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["job", "merchant", "started_at"], name="jobrun_job_merchant"),
            models.Index(fields=["finished_at"], name="jobrun_finished"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.job} {self.merchant_id or '*'} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"
        )


class JobLock(models.Model):
    """Held by the run in progress for one (job, merchant) ``scope`` until ``held_until``: a
    lease, so a run killed half-way frees the scope when its lease runs out."""

    scope = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=100, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job lock")
        verbose_name_plural = _("job locks")

    def __str__(self) -> str:
        return self.scope
