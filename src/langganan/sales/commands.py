"""`langganan import` and `langganan export`."""

from __future__ import annotations

import json
import sys

import click


def _parse_maps(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        source, sep, target = value.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise click.BadParameter(f"{value!r}: use SOURCE_HEADER=FIELD", param_hint="--map")
        mapping[source.strip()] = target.strip()
    return mapping


@click.command("import")
@click.argument("what", type=click.Choice(["customers", "transactions"]))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="SOURCE=FIELD",
    help="Read column SOURCE (a header, or a 1-based column number) as FIELD. Repeatable.",
)
@click.option(
    "--skip-invalid", is_flag=True, help="Write the valid rows; put the bad ones in a reject file."
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Reject file (default: PATH with .rejects.csv).",
)
@click.option("--no-header", is_flag=True, help="The first row is data, not a header.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
def import_cmd(what, path, merchant_slug, maps, skip_invalid, rejects_path, no_header, as_json):
    """Import customers or transactions from a CSV or .xlsx file.

    With any bad row nothing is written (unless --skip-invalid). Importing the same file
    again creates nothing new.
    """
    from langganan.core.errors import LanggananError
    from langganan.core.selectors import merchant_get
    from langganan.sales.importing import customers_import, transactions_import

    run = customers_import if what == "customers" else transactions_import
    try:
        report = run(
            merchant=merchant_get(slug=merchant_slug),
            path=path,
            mapping=_parse_maps(maps),
            skip_invalid=skip_invalid,
            rejects_path=rejects_path,
            no_header=no_header,
        )
    except LanggananError as exc:
        if as_json:
            click.echo(json.dumps({"error": exc.message}))
            sys.exit(2)
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for error in report.errors:
            click.echo(str(error), err=True)
        if report.error_count > len(report.errors):
            click.echo(f"… and {report.error_count - len(report.errors)} more bad rows", err=True)
        if report.committed:
            click.echo(
                f"Imported {what}: {report.rows_read} rows read, "
                f"{report.customers_created} customers, {report.transactions_created} "
                f"transactions, {report.line_items_created} line items created, "
                f"{report.skipped_duplicates} duplicates skipped."
            )
            if report.rejects_path:
                click.echo(f"{report.error_count} bad rows written to {report.rejects_path}")
        else:
            click.echo(
                f"Nothing imported: {report.error_count} bad rows. Fix them, or use "
                "--skip-invalid to import the valid rows.",
                err=True,
            )
    if not report.committed:
        sys.exit(1)


@click.command("export")
@click.argument("what", type=click.Choice(["customers", "transactions"]))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
def export_cmd(what, path, merchant_slug):
    """Export customers or transactions to CSV or .xlsx (by the file's extension)."""
    from langganan.core.errors import LanggananError
    from langganan.core.selectors import merchant_get
    from langganan.privacy import audit
    from langganan.sales.exporting import export_table

    try:
        merchant = merchant_get(slug=merchant_slug)
        count = export_table(merchant=merchant, what=what, path=path)
        audit.record(None, merchant, "export.table", table=what, rows=count)
    except LanggananError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Exported {count} {what} rows to {path}")
