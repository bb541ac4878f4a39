"""`langganan campaigns …`: list, preview and run campaigns from the command line or cron.

    langganan campaigns list --merchant warung-bu-sri [--json]
    langganan campaigns preview 3 --customer 42 [--language en]
    langganan campaigns run-due [--merchant warung-bu-sri] [--send]

``run-due`` runs every active campaign's trigger once (queueing messages in the outbox); with
``--send`` it then sends what is due, so a cron job can drive campaigns without the worker.
"""

from __future__ import annotations

import json

import click

from langganan.core.commandline import domain_errors


@click.group()
def campaigns() -> None:
    """Campaigns: greetings, reminders, win-back and broadcasts."""


@campaigns.command("list")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@domain_errors
def campaigns_list_cmd(merchant_slug: str, as_json: bool) -> None:
    """The merchant's campaigns with their recipients and messages."""
    from django.db.models import Count, Q

    from langganan.campaigns.models import Campaign
    from langganan.core.selectors import merchant_get

    merchant = merchant_get(slug=merchant_slug)
    rows = (
        Campaign.objects.filter(merchant=merchant)
        .annotate(
            treated=Count("recipients", filter=Q(recipients__group="treated"), distinct=True),
            holdout=Count("recipients", filter=Q(recipients__group="holdout"), distinct=True),
            queued=Count("messages", filter=Q(messages__status="queued"), distinct=True),
            sent=Count(
                "messages",
                filter=Q(messages__status__in=["sent", "delivered", "read"]),
                distinct=True,
            ),
        )
        .order_by("id")
    )
    data = [
        {
            "id": c.pk,
            "name": c.name,
            "kind": c.kind,
            "channel": "whatsapp (manual)" if c.manual_whatsapp else c.channel,
            "status": c.status,
            "treated": c.treated,
            "holdout": c.holdout,
            "queued": c.queued,
            "sent": c.sent,
        }
        for c in rows
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        click.echo(f"No campaigns for {merchant_slug}.")
        return
    for row in data:
        click.echo(
            f"{row['id']:>4}  {row['name'][:32]:<32}  {row['kind']:<13} {row['channel']:<18} "
            f"{row['status']:<9} treated {row['treated']:>6}  holdout {row['holdout']:>5}  "
            f"queued {row['queued']:>6}  sent {row['sent']:>6}"
        )


@campaigns.command("preview")
@click.argument("campaign_id", type=int)
@click.option("--customer", "customer_id", type=int, required=True, help="A customer's id.")
@click.option("--language", type=click.Choice(["id", "en"]), default="id")
@domain_errors
def campaigns_preview_cmd(campaign_id: int, customer_id: int, language: str) -> None:
    """The campaign's message as one customer would get it (nothing is sent)."""
    from langganan.campaigns.models import Campaign
    from langganan.campaigns.services import message_preview
    from langganan.core.errors import NotFound
    from langganan.customers.models import Customer

    campaign = (
        Campaign.objects.select_related("merchant", "template").filter(pk=campaign_id).first()
    )
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}.")
    customer = Customer.objects.filter(pk=customer_id, merchant=campaign.merchant).first()
    if customer is None:
        raise NotFound(f"No customer with id {customer_id} at {campaign.merchant.slug}.")
    rendered = message_preview(campaign=campaign, customer=customer, language=language)
    if rendered.subject:
        click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.body)


@campaigns.command("run-due")
@click.option("--merchant", "merchant_slug", default=None, help="Only this merchant.")
@click.option("--send", is_flag=True, help="Then send the messages that are due.")
@domain_errors
def campaigns_run_due_cmd(merchant_slug: str | None, send: bool) -> None:
    """Run every active campaign's trigger once (for cron)."""
    from langganan.campaigns.services import campaigns_run_due
    from langganan.core.selectors import merchant_get

    merchant = merchant_get(slug=merchant_slug) if merchant_slug else None
    reports = campaigns_run_due(merchant=merchant)
    for r in reports:
        click.echo(
            f"campaign {r.campaign_id}: due {r.due}, already {r.already}, "
            f"no consent {r.no_consent}, no address {r.no_address}, capped {r.capped}, "
            f"open complaint {r.open_complaint}, "
            f"treated {r.treated}, holdout {r.holdout}, queued {r.queued}"
        )
    if not reports:
        click.echo("No active campaigns.")
    if send:
        from langganan.campaigns.worker import deliver_outbox

        sent = deliver_outbox()
        click.echo("outbox: " + ", ".join(f"{k} {v}" for k, v in sent.items()))
