"""`langganan loyalty …`: opening balances, the daily jobs (expiry, tier reviews, birthdays),
the ledger check, and the tab (ageing report, credit limits).

The daily jobs are meant for cron, e.g. every night after midnight Asia/Jakarta::

    langganan loyalty expire --merchant SLUG
    langganan loyalty birthdays --merchant SLUG
    langganan loyalty review-tiers --merchant SLUG
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal

import click

from langganan.core.commandline import domain_errors

ERR_CUSTOMER_REFERENCE = "no customer with this phone, member code or reference: {reference}"
ERR_NOW = "--now must be an ISO date-time, e.g. 2025-01-31T23:00"


def _merchant(slug: str):
    from langganan.core.selectors import merchant_get

    return merchant_get(slug=slug)


def _zone(merchant):
    from langganan.web.access import merchant_zone

    return merchant_zone(merchant)


def _now(merchant, text: str | None) -> datetime:
    from django.utils import timezone

    if not text:
        return timezone.now()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(ERR_NOW, param_hint="--now") from exc
    if timezone.is_naive(value):
        value = value.replace(tzinfo=_zone(merchant))
    return value


def _customer(merchant, reference: str):
    """The merchant's customer with this phone (any common form), member code or reference."""
    from django.db.models import Q

    from langganan.core.errors import NotFound
    from langganan.core.phones import normalize_phone
    from langganan.customers.models import Customer

    text = reference.strip()
    condition = Q(member_code__iexact=text) | Q(external_ref=text)
    try:
        phone = normalize_phone(text)
    except ValueError:
        phone = None
    if phone:
        condition |= Q(phone=phone)
    found = list(Customer.objects.filter(merchant=merchant).filter(condition)[:2])
    if len(found) != 1:
        raise NotFound(ERR_CUSTOMER_REFERENCE.format(reference=reference))
    return found[0]


def _rp(amount) -> str:
    from langganan.core.money import format_rupiah

    return format_rupiah(amount)


@click.group()
def loyalty() -> None:
    """Loyalty jobs and tools: opening balances, expiry, tiers, birthdays, tab."""


@loyalty.command("import-balances")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--set-limit",
    is_flag=True,
    help="Raise a customer's tab limit to the imported debt when the debt is above it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
def import_balances_cmd(merchant_slug: str, path: str, set_limit: bool, as_json: bool) -> None:
    """Import opening points and tab debts from a previous system (CSV or .xlsx).

    Columns: phone, member_code or external_ref; points; tab_owed; points_expire_on
    (optional). With any bad row nothing is written; importing the same file again posts
    nothing new.
    """
    from langganan.core.errors import LanggananError
    from langganan.loyalty.opening import opening_balances_import

    try:
        result = opening_balances_import(
            merchant=_merchant(merchant_slug), path=path, set_limit=set_limit
        )
    except LanggananError as exc:
        if as_json:
            click.echo(json.dumps({"error": exc.message}))
            sys.exit(1)
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for error in result.errors:
            click.echo(str(error), err=True)
        if result.error_count > len(result.errors):
            click.echo(f"… and {result.error_count - len(result.errors)} more bad rows", err=True)
        for warning in result.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if result.committed:
            click.echo(
                f"Opening balances: {result.rows_read} rows read; points for "
                f"{result.points_posted} customers ({result.points_total:,} points), tab debts "
                f"for {result.tab_posted} customers ({_rp(result.tab_total)}); "
                f"{result.limits_set} limits raised; {result.already_imported} already imported."
            )
        else:
            click.echo(
                f"Nothing imported: {result.error_count} bad rows. Fix them and import again.",
                err=True,
            )
    if not result.committed:
        sys.exit(1)


@loyalty.command("expire")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--now", "now_text", default=None, help="Expire as of this ISO date-time.")
@domain_errors
def expire_cmd(merchant_slug: str, now_text: str | None) -> None:
    """Expire the points whose expiry date has passed."""
    from langganan.loyalty.points import points_expire_due

    merchant = _merchant(merchant_slug)
    expired = points_expire_due(merchant=merchant, now=_now(merchant, now_text))
    click.echo(f"Expired {expired:,} points of {merchant_slug}.")


@loyalty.command("remind-expiring")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--days", default=7, show_default=True, help="Announce expiry this many days ahead.")
@click.option("--now", "now_text", default=None, help="Run as of this ISO date-time.")
@domain_errors
def remind_expiring_cmd(merchant_slug: str, days: int, now_text: str | None) -> None:
    """Send the points.expiring webhook for points expiring in --days days (run daily)."""
    from langganan.loyalty.reminders import points_expiring_announce

    merchant = _merchant(merchant_slug)
    count = points_expiring_announce(merchant=merchant, days=days, now=_now(merchant, now_text))
    click.echo(f"Announced expiring points of {count:,} customers of {merchant_slug}.")


@loyalty.command("review-tiers")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@domain_errors
def review_tiers_cmd(merchant_slug: str) -> None:
    """Review every member's tier (upgrades and downgrades by the program's window)."""
    from django.utils import timezone

    from langganan.loyalty.tiers import tier_review_run

    changes = tier_review_run(merchant=_merchant(merchant_slug), at=timezone.now())
    for change in changes:
        click.echo(str(change))
    click.echo(f"Tier review of {merchant_slug}: {len(changes)} members changed tier.")


@loyalty.command("birthdays")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to run for (YYYY-MM-DD; default: today in the merchant's time zone).",
)
@domain_errors
def birthdays_cmd(merchant_slug: str, day: datetime | None) -> None:
    """Give the birthday bonus to the members whose birthday it is."""
    from django.utils import timezone

    from langganan.loyalty.members import birthday_bonus_run

    merchant = _merchant(merchant_slug)
    today: date = day.date() if day else timezone.localdate(timezone=_zone(merchant))
    given = birthday_bonus_run(merchant=merchant, today=today)
    click.echo(f"Birthday bonus for {today.isoformat()}: {given} members.")


@loyalty.command("check")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@domain_errors
def check_cmd(merchant_slug: str) -> None:
    """Check that every balance equals the sum of its entries and every journal balances."""
    from langganan.loyalty.ledger import ledger_discrepancies

    wrong = ledger_discrepancies(_merchant(merchant_slug))
    if not wrong:
        click.echo(f"Ledger of {merchant_slug} is consistent.")
        return
    for pk, cached, total in wrong:
        if pk < 0:
            click.echo(f"journal {-pk}: entries sum to {total}, not 0")
        else:
            click.echo(f"account {pk}: balance {cached}, entries sum to {total}")
    raise click.ClickException(f"{len(wrong)} ledger discrepancies")


@loyalty.command("tab-ageing")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@domain_errors
def tab_ageing_cmd(merchant_slug: str, as_json: bool) -> None:
    """Who owes on their tab, split by the age of the unpaid charges (oldest paid first)."""
    from django.utils import timezone

    from langganan.loyalty.tab import tab_ageing

    rows = tab_ageing(merchant=_merchant(merchant_slug), at=timezone.now())
    if as_json:
        data = [
            {
                "customer_id": r.customer.pk,
                "customer": str(r.customer),
                "member_code": r.customer.member_code,
                "owed": str(r.owed),
                "limit": str(r.limit),
                **{k: str(v) for k, v in r.buckets.items()},
                "oldest_unpaid_on": r.oldest_unpaid_on.isoformat() if r.oldest_unpaid_on else None,
            }
            for r in rows
        ]
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if not rows:
        click.echo("Nobody owes anything on their tab.")
        return
    click.echo(
        f"{'customer':<28} {'owed':>14} {'0-30':>13} {'31-60':>13} {'61-90':>13} {'90+':>13}"
    )
    for r in rows:
        click.echo(
            f"{str(r.customer)[:28]:<28} {_rp(r.owed):>14} {_rp(r.days_0_30):>13} "
            f"{_rp(r.days_31_60):>13} {_rp(r.days_61_90):>13} {_rp(r.days_over_90):>13}"
        )
    total = sum((r.owed for r in rows), Decimal(0))
    click.echo(f"{len(rows)} customers owe {_rp(total)} in total.")


@loyalty.command("set-limit")
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option(
    "--customer", "reference", required=True, help="Phone, member code or customer reference."
)
@click.argument("amount")
@domain_errors
def set_limit_cmd(merchant_slug: str, reference: str, amount: str) -> None:
    """Set how much a customer may owe on their tab (Rupiah; 0 closes the tab to new debt)."""
    from django.utils import timezone

    from langganan.core.errors import InvalidInput
    from langganan.core.money import parse_money
    from langganan.loyalty.tab import tab_balance, tab_set_limit

    try:
        limit = parse_money(amount)
    except ValueError as exc:
        raise InvalidInput(f"{amount!r}: {exc}") from exc
    customer = _customer(_merchant(merchant_slug), reference)
    tab_set_limit(customer=customer, limit=limit, at=timezone.now(), actor="CLI")  # audited
    owed, new_limit = tab_balance(customer=customer)
    click.echo(f"Tab limit of {customer} set to {_rp(new_limit)} (owes {_rp(owed)}).")
