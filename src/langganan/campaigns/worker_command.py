"""`langganan worker`: send the campaign outbox and run campaign triggers on a schedule.

    langganan worker            # a django-q2 cluster on the database: runs until stopped
    langganan worker --once     # one pass of each task, then exit (cron, tests)

The cluster needs nothing but the database (django-q2's ORM broker). At start the worker writes
its schedules (:func:`~langganan.campaigns.worker.schedules_ensure`) and marks sends interrupted
by a previous worker as ``unknown`` (see :mod:`langganan.campaigns.delivery`).
"""

from __future__ import annotations

import time

import click

from langganan.core.commandline import domain_errors


@click.command("worker")
@click.option("--once", is_flag=True, help="Run each task once, print a summary and exit.")
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="With --once: stop starting new delivery passes after this many seconds.",
)
@domain_errors
def worker(once: bool, budget: float) -> None:
    """Send campaign messages and run campaign triggers (a django-q2 cluster)."""
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
    """Each task in turn; one failing does not stop the others, but makes the exit status 1."""
    failed = []
    steps = [
        ("Interrupted sends marked unknown", tasks.recover_stale, lambda r: str(r["unknown"])),
        ("Campaigns", tasks.run_due_campaigns, lambda r: str(r["result"])),
        (
            "Outbox",
            lambda: tasks.deliver_outbox(budget_s=budget),
            lambda r: " ".join(f"{k}={v}" for k, v in r.items()),
        ),
    ]
    for label, run, show in steps:
        try:
            click.echo(f"{label}: {show(run())}")
        except Exception as exc:  # noqa: BLE001 (reported, and the exit status says so)
            failed.append(label)
            click.echo(f"{label}: failed: {type(exc).__name__}: {exc}", err=True)
    if failed:
        raise click.exceptions.Exit(1)
