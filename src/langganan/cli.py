"""The ``langganan`` command line.

Commands parse arguments, call one service or selector, and print. Domain errors are
printed as ``Error: …`` with exit status 1, never as a traceback.
"""

from __future__ import annotations

import json
import os
import sys

import click

from langganan.core.commandline import domain_errors


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langganan.config.settings")
    import django

    django.setup()


@click.group()
@click.version_option(package_name="langganan")
def cli() -> None:
    """Langganan: CRM and loyalty for Indonesian merchants."""
    _setup_django()


@cli.command()
def migrate() -> None:
    """Create or update the database tables."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


# -- merchants, outlets, users ------------------------------------------------------------


@cli.group()
def merchant() -> None:
    """Create and list merchants."""


@merchant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The business name shown to staff and customers.")
@click.option(
    "--type",
    "business_type",
    type=click.Choice(["warung", "cafe", "restaurant", "salon", "shop", "other"]),
    default="other",
    show_default=True,
    help="Business type: merchants of one type lend each other a prior for the models.",
)
@domain_errors
def merchant_create_cmd(slug: str, name: str, business_type: str) -> None:
    from langganan.core.services import merchant_create

    created = merchant_create(slug=slug, name=name, business_type=business_type)
    click.echo(f"Merchant {created.slug} created: {created.name}")


@merchant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def merchant_list_cmd(as_json: bool) -> None:
    from django.db.models import Count

    from langganan.core.selectors import merchant_list

    merchants = merchant_list().annotate(
        outlet_count=Count("outlets", distinct=True),
        customer_count=Count("customers", distinct=True),
    )
    rows = [
        {
            "slug": m.slug,
            "name": m.name,
            "outlets": m.outlet_count,
            "customers": m.customer_count,
            "created_at": m.created_at.isoformat(),
        }
        for m in merchants
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No merchants yet. Create one: langganan merchant create SLUG --name NAME")
    for row in rows:
        click.echo(
            f"{row['slug']:<20} {row['name']:<30} outlets={row['outlets']} "
            f"customers={row['customers']}"
        )


@cli.group()
def outlet() -> None:
    """Create outlets (stores, branches)."""


@outlet.command("create")
@click.option("--merchant", "merchant_slug", required=True)
@click.argument("code")
@click.option("--name", required=True)
@click.option("--city", default="")
@click.option("--address", default="")
@domain_errors
def outlet_create_cmd(merchant_slug: str, code: str, name: str, city: str, address: str) -> None:
    from langganan.core.selectors import merchant_get
    from langganan.core.services import outlet_create

    created = outlet_create(
        merchant=merchant_get(slug=merchant_slug),
        code=code,
        name=name,
        city=city,
        address=address,
    )
    click.echo(f"Outlet {created.code} created for {merchant_slug}: {created.name}")


@cli.group()
def user() -> None:
    """Create staff logins and lift their locks."""


@user.command("create")
@click.option("--merchant", "merchant_slug", required=True)
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["owner", "manager", "cashier"]), required=True)
@click.option("--email", default="")
@click.option("--outlet", "outlet_code", default=None, help="Outlet code (for cashiers).")
@click.option(
    "--password",
    default=None,
    help="Password; when omitted one is generated and printed once. "
    "Prefer the LANGGANAN_PASSWORD environment variable over this option.",
)
@click.option("--superuser", is_flag=True, help="Also give access to the Django admin.")
@domain_errors
def user_create_cmd(merchant_slug, username, role, email, outlet_code, password, superuser):
    import secrets

    from langganan.core.selectors import merchant_get, outlet_get
    from langganan.core.services import staff_user_create

    found = merchant_get(slug=merchant_slug)
    outlet_obj = outlet_get(merchant=found, code=outlet_code) if outlet_code else None
    generated = False
    password = password or os.environ.get("LANGGANAN_PASSWORD")
    if not password:
        password, generated = secrets.token_urlsafe(12), True
    created = staff_user_create(
        merchant=found,
        username=username,
        password=password,
        role=role,
        email=email,
        outlet=outlet_obj,
    )
    if superuser:
        created.is_staff = created.is_superuser = True
        created.save(update_fields=["is_staff", "is_superuser"])
    click.echo(f"User {username} created as {role} of {merchant_slug}.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@cli.group()
def owner() -> None:
    """The installation's first owner, who sets up the business in the browser."""


@owner.command("create")
@click.option("--username", required=True)
@click.option("--email", default="")
@click.option(
    "--password",
    default=None,
    help="Password; when omitted one is generated and printed once. "
    "Prefer the LANGGANAN_PASSWORD environment variable over this option.",
)
@domain_errors
def owner_create_cmd(username: str, email: str, password: str | None) -> None:
    """Create a login that may create businesses: sign in with it and the browser's set-up
    asks for the business, its outlets, the loyalty program and the staff."""
    import secrets

    from langganan.core.services import owner_account_create

    generated = False
    password = password or os.environ.get("LANGGANAN_PASSWORD")
    if not password:
        password, generated = secrets.token_urlsafe(12), True
    owner_account_create(username=username, password=password, email=email)
    click.echo(f"Owner {username} created: sign in and the set-up starts.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@user.command("unlock")
@click.argument("username", required=False)
@click.option("--address", default=None, help="Also lift the locks of this IP address.")
def user_unlock_cmd(username: str | None, address: str | None) -> None:
    """Lift the login lock of USERNAME (too many wrong passwords) at once."""
    from langganan.staff.guard import lock_lift

    if not username and not address:
        raise click.UsageError("give a USERNAME, --address IP, or both")
    lifted = lock_lift(username=username, address=address)
    who = " and ".join(filter(None, [username, address and f"address {address}"]))
    if lifted:
        click.echo(f"Unlocked {who}: {lifted} lock(s) lifted.")
    else:
        click.echo(f"{who} was not locked; its failed attempts were cleared.")


def _register_commands() -> None:
    """Commands that live beside the app they drive; their modules import Django lazily."""
    from langganan.api.commands import apikey
    from langganan.campaigns.commands import campaigns
    from langganan.campaigns.worker_command import worker
    from langganan.demo.commands import demo, serve
    from langganan.insights.commands import analyze
    from langganan.loyalty.commands import loyalty
    from langganan.privacy.commands import customers
    from langganan.sales.commands import export_cmd, import_cmd
    from langganan.webhooks.commands import webhooks

    cli.add_command(demo)
    cli.add_command(serve)
    cli.add_command(import_cmd)
    cli.add_command(export_cmd)
    cli.add_command(analyze)
    cli.add_command(loyalty)
    cli.add_command(webhooks)
    cli.add_command(apikey)
    cli.add_command(campaigns)
    cli.add_command(worker)
    cli.add_command(customers)


_register_commands()


def main() -> None:
    cli(prog_name="langganan")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
