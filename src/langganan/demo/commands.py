"""`langganan demo` and `langganan serve`.

``cli.py`` imports this module before ``django.setup()``, so Django models are imported
inside the command functions only.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from langganan.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED, HISTORY_MONTHS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WSGI_APP = "langganan.config.wsgi:application"
ERR_NOT_MIGRATED = "the database is not up to date: run `langganan migrate` first"


def _today_in_jakarta() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@dataclass(frozen=True)
class Login:
    role: str  # as printed: "Owner", "Cashier"
    username: str
    password: str
    note: str = ""


def echo_logins(
    *,
    logins: list[Login],
    address: str | None,
    api_key: str | None = None,
    outlet: str = "",
) -> None:
    """Print the logins (and, when ``address`` is given, where to open the app once it is
    served) so they stand out in a terminal. ``make demo`` passes no address: ``langganan
    serve``, which it starts next, prints the address it really serves on."""
    click.echo("")
    if address:
        click.echo(f"  Open      {address}   (start it with: langganan serve)")
    for login in logins:
        note = f"   ({login.note})" if login.note else ""
        click.echo(f"  {login.role:<9} {login.username}{note}")
        click.echo(f"  Password  {login.password}")
    if api_key:
        docs = f"{address}/api/v1/docs" if address else "/api/v1/docs"
        click.echo(f"  API key   {api_key}   (outlet {outlet}; docs at {docs})")
    click.echo("")


@click.command()
@click.option("--slug", default="demo", show_default=True, help="Slug of the demo merchant.")
@click.option(
    "--customers",
    "n_customers",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_CUSTOMERS,
    show_default=True,
    help="Number of customers to simulate.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option(
    "--end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of history is the day before this date [default: today, Asia/Jakarta].",
)
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help=(
        "Write the simulated per-customer truth (rate λ, dropout p, regularity k, "
        "alive at the end) to this CSV file."
    ),
)
@click.option(
    "--replace", is_flag=True, help="Delete an existing demo merchant with this slug first."
)
@click.option(
    "--allow-existing-data",
    is_flag=True,
    help="Build the demo café even though the database holds merchants the demo did not build "
    "(refused without it).",
)
@click.option(
    "--no-hint",
    is_flag=True,
    help="Print the logins only, not the address nor how to start the server "
    "(`make demo` starts `langganan serve` next, which prints its address).",
)
def demo(
    slug: str,
    n_customers: int,
    seed: int,
    end: datetime | None,
    truth_path: Path | None,
    replace: bool,
    allow_existing_data: bool,
    no_hint: bool,
) -> None:
    """Build a realistic demo café (18 months of sales) and print an owner's and a cashier's
    login for it.

    Meant for an empty database: refused when the database holds merchants the demo did not
    build, unless --allow-existing-data. The owner login (`demo`, or `demo-SLUG` for another
    --slug) is the owner of this café only: not staff, not a superuser, no Django admin."""
    from langganan.core.errors import LanggananError
    from langganan.demo.generator import (
        DEMO_ADDRESS,
        DEMO_OUTLET,
        demo_api_key_ensure,
        demo_cashier_ensure,
        demo_database_check,
        demo_login_ensure,
        demo_merchant_build,
    )
    from langganan.demo.simulation import months_before

    if _pending_migrations():
        raise click.ClickException(ERR_NOT_MIGRATED)
    try:
        demo_database_check(allow_existing_data=allow_existing_data)
    except LanggananError as exc:
        raise click.ClickException(exc.message) from exc
    end_day = end.date() if end else _today_in_jakarta()
    first_day = months_before(end_day, HISTORY_MONTHS)
    last_day = end_day - timedelta(days=1)
    click.echo(
        f"Seed {seed}: {n_customers:,} customers, sales from {first_day:%Y-%m-%d} "
        f"to {last_day:%Y-%m-%d}."
    )
    try:
        result = demo_merchant_build(
            slug=slug,
            n_customers=n_customers,
            seed=seed,
            end=end_day,
            replace=replace,
            truth_path=truth_path,
        )
        owner, password = demo_login_ensure(merchant=result.merchant)
        cashier, cashier_password = demo_cashier_ensure(merchant=result.merchant)
        api_key = demo_api_key_ensure(merchant=result.merchant, outlet_code=DEMO_OUTLET)
    except LanggananError as exc:
        raise click.ClickException(exc.message) from exc
    merchant = result.merchant
    if result.built:
        click.echo(
            f"Built {merchant.name} ({merchant.slug}): {result.customers:,} customers, "
            f"{result.transactions:,} transactions, {result.line_items:,} line items, "
            f"{result.consent_events:,} consent events in {result.seconds:.1f} s."
        )
        click.echo(
            f"Loyalty program with {result.members:,} members (points, tiers, vouchers, tabs); "
            f"check it with: langganan loyalty check --merchant {merchant.slug}"
        )
        if truth_path:
            click.echo(f"Truth for {result.truth_rows:,} customers written to {truth_path}")
    else:
        click.echo(
            f"Merchant {merchant.slug} ({merchant.name}) already exists; left as it is. "
            "Use --replace to delete it and build it again."
        )
        if truth_path:
            click.echo("Nothing was simulated, so no truth file was written.")
    echo_logins(
        logins=[
            Login("Owner", owner.get_username(), password, "every page of this café"),
            Login("Cashier", cashier.get_username(), cashier_password, f"kasir at {DEMO_OUTLET}"),
        ],
        address=None if no_hint else DEMO_ADDRESS,
        api_key=api_key,
        outlet=DEMO_OUTLET,
    )


def default_workers() -> int:
    """Gunicorn's rule of thumb, 2 × cores + 1 (5 on a 2-core machine): requests spend part of
    their time waiting for the database, and a process per request in flight keeps the cores
    busy. BENCHMARKS.md (section api) compares this with threaded workers on this machine."""
    return 2 * (os.cpu_count() or 1) + 1


def gunicorn_argv(
    *, host: str, port: int, workers: int, threads: int = 1, access_log: bool = True
) -> list[str]:
    """The command that serves the WSGI app with this Python's gunicorn: ``workers``
    processes, each with ``threads`` threads (gunicorn's ``gthread`` worker when more than
    one, its plain ``sync`` worker otherwise)."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        WSGI_APP,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
    ]
    if access_log:
        argv += ["--access-logfile", "-"]
    return argv


def worker_argv() -> list[str]:
    """``langganan worker`` with this Python (the same environment and settings)."""
    return [sys.executable, "-m", "langganan.cli", "worker"]


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Web worker processes [default: 2 × cores + 1].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Threads per web worker (more than 1: gunicorn's gthread worker).",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Serve the web app only; run `langganan worker` separately (another service).",
)
def serve(host: str, port: int, workers: int | None, threads: int, no_worker: bool) -> None:
    """Serve the web app with gunicorn and run the background worker (`langganan worker`:
    campaign messages, scheduled jobs) beside it; a worker that dies is restarted, and Ctrl+C
    or SIGTERM stops both. Static files by whitenoise; DEBUG may stay off."""
    from django.conf import settings

    from langganan.demo.serving import Supervisor

    if _pending_migrations():
        click.echo(f"Warning: {ERR_NOT_MIGRATED}.", err=True)
    if settings.STATIC_ROOT:  # whitenoise warns when it is missing; files come from finders
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    address = f"http://{shown}:{port}"
    click.echo(f"Langganan at {address}  (Ctrl+C stops)")
    click.echo(f"  Admin at {address}/admin/, POS API docs at {address}/api/v1/docs")
    if host not in ("127.0.0.1", "localhost"):
        click.echo(
            "Other machines reach it only when ALLOWED_HOSTS names this host's address.",
            err=True,
        )
    if no_worker:
        click.echo(
            "Web only (--no-worker): campaign messages and scheduled jobs run only where "
            "`langganan worker` runs."
        )
    else:
        click.echo("Starting the worker…")
    sys.stdout.flush()
    sys.stderr.flush()
    supervisor = Supervisor(
        web_argv=gunicorn_argv(
            host=host, port=port, workers=workers or default_workers(), threads=threads
        ),
        worker_argv=None if no_worker else worker_argv(),
        say=lambda text: click.echo(text),
    )
    status = supervisor.run()
    if status:
        raise click.exceptions.Exit(status)
