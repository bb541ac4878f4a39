"""`langganan apikey …`: create, list and revoke the API keys of the tills; purge old
idempotency records.

    langganan apikey create --merchant warung-bu-sri --outlet PUSAT --name "Kasir 1"
    langganan apikey list --merchant warung-bu-sri
    langganan apikey revoke lg_AbCd1234
    langganan apikey purge-idempotency --older-than-hours 168
"""

from __future__ import annotations

import json

import click

from langganan.core.commandline import domain_errors


@click.group()
def apikey() -> None:
    """API keys of the point-of-sale systems (one per outlet or till)."""


@apikey.command("create")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--outlet", "outlet_code", required=True, help="The outlet's code.")
@click.option("--name", default="", help="A name to recognise the key by, e.g. the till.")
@domain_errors
def apikey_create_cmd(merchant_slug: str, outlet_code: str, name: str) -> None:
    """Create a key and print it once: only its hash is stored."""
    from langganan.api.services import api_key_create
    from langganan.core.selectors import merchant_get, outlet_get

    merchant = merchant_get(slug=merchant_slug)
    outlet = outlet_get(merchant=merchant, code=outlet_code)
    key, raw = api_key_create(merchant=merchant, outlet=outlet, name=name)
    click.echo(f"API key {key.prefix} for {merchant.slug}/{outlet.code} created.")
    click.echo("Copy it now, it is not shown again:")
    click.echo(raw)


@apikey.command("list")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@domain_errors
def apikey_list_cmd(merchant_slug: str, as_json: bool) -> None:
    """List the merchant's keys (prefixes only, never the keys)."""
    from langganan.api.selectors import api_key_list
    from langganan.core.selectors import merchant_get

    keys = api_key_list(merchant=merchant_get(slug=merchant_slug))
    rows = [
        {
            "prefix": k.prefix,
            "outlet": k.outlet.code,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No API keys.")
        return
    for row in rows:
        state = f"revoked {row['revoked_at'][:16]}" if row["revoked_at"] else "active"
        used = (row["last_used_at"] or "never")[:16]
        click.echo(f"{row['prefix']}  {row['outlet']:<10} {state:<22} used {used}  {row['name']}")


@apikey.command("revoke")
@click.argument("prefix")
@domain_errors
def apikey_revoke_cmd(prefix: str) -> None:
    """Revoke the key with this prefix: it stops working at once."""
    from langganan.api.services import api_key_revoke

    key = api_key_revoke(prefix=prefix)
    click.echo(f"API key {key.prefix} revoked.")


@apikey.command("purge-idempotency")
@click.option(
    "--older-than-hours",
    type=click.IntRange(min=72),
    default=168,
    show_default=True,
    help="Delete idempotency records older than this (at least 72 hours).",
)
@domain_errors
def apikey_purge_cmd(older_than_hours: int) -> None:
    """Delete old idempotency records of sales and refunds (kept at least 72 hours)."""
    from datetime import timedelta

    from langganan.api.idempotency import idempotency_records_purge

    deleted = idempotency_records_purge(older_than=timedelta(hours=older_than_hours))
    click.echo(f"{deleted} idempotency records deleted.")
