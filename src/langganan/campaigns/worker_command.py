"""`langganan worker`: every recurring job on its schedule (see :mod:`langganan.core.jobs`):
the nightly analysis, points expiry, tier review, birthdays, campaign triggers, the outbox,
stale-send recovery and webhook retries.

    langganan worker            # a django-q2 cluster on the database: runs until stopped
    langganan worker --once     # one pass of each job (nightly ones where due), then exit

The cluster needs nothing but the database (django-q2's ORM broker). At start the worker writes
the schedules of every registered job (:func:`~langganan.core.jobs.services.schedules_ensure`)
and marks sends interrupted by a previous worker as ``unknown`` (see
:mod:`langganan.campaigns.delivery`). Every run is recorded (the jobs page shows them).
"""

from __future__ import annotations

import time

import click

from langganan.core.commandline import domain_errors


@click.command("worker")
@click.option(
    "--once",
    is_flag=True,
    help="Run each job once (the nightly ones where due), print a summary and exit.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="With --once: stop starting new delivery passes after this many seconds.",
)
@domain_errors
def worker(once: bool, budget: float) -> None:
    """Run the scheduled jobs: analysis, loyalty, campaigns, messages, webhooks (django-q2)."""
    from langganan.campaigns import worker as tasks

    if once:
        _run_once(tasks, budget)
        return

    from django_q.cluster import Cluster

    created = tasks.schedules_ensure()
    click.echo("Schedules: " + ", ".join(f"{name} {what}" for name, what in created.items()))
    click.echo(f"Interrupted sends marked unknown: {tasks.recover_stale()['unknown']}")
    cluster = Cluster()  # stops on SIGTERM / SIGINT (Ctrl+C)
    cluster.start()
    click.echo("Worker running; stop with Ctrl+C.")
    while cluster.sentinel is not None and cluster.sentinel.is_alive():
        time.sleep(1)
    click.echo("Stopped.")


def _run_once(tasks, budget: float) -> None:
    """Each job in turn; one failing does not stop the others, but makes the exit status 1."""
    from langganan.core.jobs import jobs
    from langganan.core.jobs.models import JobRun
    from langganan.core.jobs.services import job_run_due

    failed = []
    saved, tasks.DELIVERY_BUDGET_S = tasks.DELIVERY_BUDGET_S, budget
    try:
        for job in jobs():
            for run in job_run_due(job=job, trigger=JobRun.Trigger.COMMAND):
                label = job.schedule_name + (f" ({run.merchant.slug})" if run.merchant else "")
                if run.outcome == JobRun.Outcome.FAILED:
                    failed.append(label)
                    click.echo(f"{label}: failed: {run.error}", err=True)
                else:
                    click.echo(f"{label}: {run.summary}")
    finally:
        tasks.DELIVERY_BUDGET_S = saved
    if failed:
        raise click.exceptions.Exit(1)
