"""``langganan customers export-data`` and ``langganan customers erase``: the access export and
erasure from the command line, each logged in the request log and the audit log."""

from __future__ import annotations

from pathlib import Path

import click

from langganan.core.commandline import domain_errors


def _customer(merchant_slug: str, reference: str):
    """The merchant's customer by phone (any form), member code, reference or id."""
    from langganan.core.selectors import merchant_get
    from langganan.privacy.selectors import customer_by_reference

    return customer_by_reference(merchant=merchant_get(slug=merchant_slug), reference=reference)


@click.group("customers")
def customers() -> None:
    """Customers' personal-data rights (UU PDP 27/2022): access and erasure."""


@customers.command("export-data")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.argument("customer")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json")
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write (default: standard output for JSON, <member code>.xlsx).",
)
@click.option("--reference", default="", help="The access request's reference, if it has one.")
@domain_errors
def export_data_cmd(merchant_slug, customer, fmt, output, reference):
    """Write everything held about one CUSTOMER (phone, member code or id) as JSON or .xlsx."""
    from langganan.privacy.export import personal_data_json, personal_data_xlsx
    from langganan.privacy.services import personal_data_export

    found = _customer(merchant_slug, customer)
    data = personal_data_export(customer=found, fmt=fmt, reference=reference)
    content = personal_data_json(data) if fmt == "json" else personal_data_xlsx(data)
    if output is None and fmt == "json":
        click.echo(content.decode())
        return
    path = Path(output or f"{found.member_code}.xlsx")
    path.write_bytes(content)
    path.chmod(0o600)
    click.echo(f"Personal data of customer {found.pk} written to {path}", err=True)


@customers.command("erase")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.argument("customer")
@click.option("--reference", required=True, help="The erasure request's reference.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@domain_errors
def erase_cmd(merchant_slug, customer, reference, yes):
    """Erase (anonymise) one CUSTOMER's personal data, irreversibly; sales and ledger stay."""
    from langganan.privacy.services import customer_erase

    found = _customer(merchant_slug, customer)
    if not yes:
        click.confirm(
            f"Erase the personal data of customer {found.pk} ({found.member_code})? "
            "This cannot be undone",
            abort=True,
        )
    erasure = customer_erase(customer=found, reference=reference)
    click.echo(
        f"Personal data of customer {found.pk} erased (reference {erasure.reference}); "
        f"now {found.member_code}."
    )
