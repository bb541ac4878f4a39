"""`langganan webhooks …`: the merchant's webhook endpoints and the delivery worker.

    langganan webhooks add --merchant warung-bu-sri https://pos.example.id/hooks \
        --event customer.created --event transaction.recorded
    langganan webhooks list --merchant warung-bu-sri
    langganan webhooks remove 3
    langganan webhooks deliver                  # one pass, e.g. from cron every minute
    langganan webhooks deliver --loop           # keep running (a systemd service)
    langganan webhooks retry 42                 # a failed delivery back in the queue

Several ``deliver`` workers may run at once: a delivery is claimed by one of them only.
"""

from __future__ import annotations

import json
import time

import click

from langganan.core.commandline import domain_errors

EVENT_NAMES = [
    "customer.created",
    "transaction.recorded",
    "tier.changed",
    "points.expiring",
    "complaint.created",
    "complaint.overdue",
    "complaint.resolved",
]


@click.group()
def webhooks() -> None:
    """Webhooks out: signed POSTs to the merchant's systems when things happen."""


@webhooks.command("add")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENT_NAMES),
    help="An event to send (repeat for several); none: every event.",
)
@domain_errors
def webhooks_add_cmd(merchant_slug: str, url: str, events: tuple[str, ...]) -> None:
    """Add an endpoint and print its signing secret once."""
    from langganan.core.selectors import merchant_get
    from langganan.webhooks.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(
        merchant=merchant_get(slug=merchant_slug), url=url, events=list(events)
    )
    click.echo(f"Webhook endpoint {endpoint.pk} added for {merchant_slug}: {endpoint.url}")
    click.echo(f"Events: {', '.join(endpoint.events) or 'all'}")
    click.echo(f"Signing secret (shown once, keep it safe): {endpoint.secret}")


@webhooks.command("list")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@domain_errors
def webhooks_list_cmd(merchant_slug: str, as_json: bool) -> None:
    """The merchant's endpoints (secrets are not shown)."""
    from langganan.core.selectors import merchant_get
    from langganan.webhooks.selectors import webhook_endpoint_list

    rows = [
        {
            "id": e.pk,
            "url": e.url,
            "events": e.events,
            "active": e.is_active,
            "pending": e.pending_count,
            "failed": e.failed_count,
            "created_at": e.created_at.isoformat(),
        }
        for e in webhook_endpoint_list(merchant=merchant_get(slug=merchant_slug))
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(
            f"No webhook endpoints. Add one: langganan webhooks add --merchant {merchant_slug} URL"
        )
    for row in rows:
        click.echo(
            f"{row['id']:>5} {'active' if row['active'] else 'paused':<6} {row['url']}  "
            f"events={','.join(row['events']) or 'all'} pending={row['pending']} "
            f"failed={row['failed']}"
        )


@webhooks.command("remove")
@click.argument("endpoint_id", type=int)
@domain_errors
def webhooks_remove_cmd(endpoint_id: int) -> None:
    """Delete an endpoint and its deliveries."""
    from langganan.webhooks.services import webhook_endpoint_remove

    dropped = webhook_endpoint_remove(endpoint_id=endpoint_id)
    click.echo(f"Webhook endpoint {endpoint_id} removed ({dropped} pending deliveries dropped).")


@webhooks.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running, one pass every --interval seconds.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between passes with --loop.",
)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@domain_errors
def webhooks_deliver_cmd(loop: bool, interval: float, limit: int) -> None:
    """Send the due deliveries: one pass, or keep running with --loop."""
    from django.db import DatabaseError, close_old_connections

    from langganan.webhooks.delivery import webhooks_deliver_due

    if not loop:
        click.echo(f"Webhooks: {webhooks_deliver_due(limit=limit)}")
        return
    click.echo(f"Delivering webhooks every {interval:g} s; stop with Ctrl+C.")
    try:
        while True:
            close_old_connections()
            try:
                report = webhooks_deliver_due(limit=limit)
            except DatabaseError as exc:  # e.g. the database restarted: try again later
                click.echo(f"Database error, retrying in {interval:g} s: {exc}", err=True)
                time.sleep(interval)
                continue
            if report.attempted:
                click.echo(f"Webhooks: {report}")
            if report.attempted < limit:  # a full pass means more may be due right away
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("Stopped.")


@webhooks.command("retry")
@click.argument("delivery_id", type=int)
@domain_errors
def webhooks_retry_cmd(delivery_id: int) -> None:
    """Put a failed delivery back in the queue, due now."""
    from langganan.webhooks.services import webhook_delivery_retry

    delivery = webhook_delivery_retry(delivery_id=delivery_id)
    click.echo(f"Delivery {delivery.pk} ({delivery.event}) is pending again.")
