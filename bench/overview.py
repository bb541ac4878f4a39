"""Benchmark: the overview (Ringkasan) and the pages it links to, on PostgreSQL (issue 17).

Target: for a merchant with 100,000 customers and about 1,000,000 transactions, the overview
(each period), an analysis page and a filtered customer list answer in p95 ≤ 300 ms warm,
server time; no page computes over transactions when it is shown (they read what the analysis
stored, or an indexed query).

``python bench/overview.py [--customers N]`` (or ``bench/run.py --only overview``) builds, in a
fresh PostgreSQL database ``lg_bench_overview`` (skipped when PostgreSQL cannot be reached), the
demo café (``langganan.demo``) with N customers (default 100,000) whose customers stay a little
longer than ``make demo``'s (:data:`PURCHASE`: about 1,000,000 sales at 100,000 customers, with
line items and payments), runs the analysis once (which stores the overview of every period), then
times, in the Django app itself (the test client: server time, no network), after ``WARM_UP``
requests, ``SAMPLES`` requests each of:

- the overview ``/m/<merchant>/?period=7|30|90|365``;
- the analysis pages: accuracy, the market against the target market (each period), is the
  CRM worth it (each period) and the target market settings (a target is set on every
  dimension, and the analysis stores the worth results);
- the customer list unfiltered, filtered as the overview and the market page link to it
  (:data:`LIST_QUERIES`), sorted by CLV and by last purchase, and on a deep page.

A trial at a small size: ``BENCH_OVERVIEW_CUSTOMERS=10000 python bench/overview.py`` (its own
database, ``lg_bench_overview_10000``). ``BENCH_OVERVIEW_REUSE=1`` times again on the database a
run built (no rebuild); ``BENCH_OVERVIEW_PAGES=market,payment`` times the pages whose names hold
one of those parts; ``BENCH_OVERVIEW_BEFORE=sales:0005_importjob`` first times the pages with
those apps migrated back (without the indexes added since), then migrates forward and times
them again: before and after in the same run. With ``BENCH_OVERVIEW_BEFORE_CODE=<git revision>``
as well, the "before" pages are timed by that revision's code (its files from ``git archive``,
its own ``bench/overview.py child``) on the same database migrated back, for changes that are
more than an index; after migrating forward, the analysis' market step
(:func:`langganan.insights.market.market_snapshots_store`) stores what the new code reads.

Children: ``python bench/overview.py child DATABASE_URL`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = int(os.environ.get("BENCH_OVERVIEW_CUSTOMERS", 100_000))  # smaller for a trial
SAMPLES = 50
WARM_UP = 5
SEED = 17
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "lg_bench_overview"
TARGET_MS = 300
#: ``app:migration`` pairs to time the pages at first (``BENCH_OVERVIEW_BEFORE``, comma-separated):
#: "before" figures of the same run, without the indexes added after those migrations
BEFORE = [t for t in os.environ.get("BENCH_OVERVIEW_BEFORE", "").split(",") if t]
#: the git revision whose code times the "before" pages (``BENCH_OVERVIEW_BEFORE_CODE``)
BEFORE_CODE = os.environ.get("BENCH_OVERVIEW_BEFORE_CODE", "")
#: the customers' purchase and dropout rates: the demo's (one visit a month on average), with
#: customers who stay longer (Beta b 12 instead of 7), so that 100,000 customers make about
#: 1,000,000 sales as issue 17's target says (the demo's own: about 810,000)
PURCHASE = {"b": 12.0}


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langganan.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def _pages(slug: str) -> dict[str, str]:
    from django.urls import reverse

    from langganan.insights import market, worth

    home = reverse("web:merchant_home", kwargs={"slug": slug})
    customers = reverse("customers:customer_list", kwargs={"slug": slug})
    insights = {
        name: reverse(f"insights:{name}", kwargs={"slug": slug})
        for name in ("accuracy", "market", "worth", "target")
    }
    pages = {f"overview, {days} days": f"{home}?period={days}" for days in (7, 30, 90, 365)}
    pages["accuracy"] = insights["accuracy"]
    for days in market.PERIODS:
        pages[f"market vs target, {days} days"] = f"{insights['market']}?days={days}"
    for days in worth.PERIODS:
        pages[f"is it worth it, {days} days"] = f"{insights['worth']}?days={days}"
    pages["target market settings"] = insights["target"]
    for label, query in LIST_QUERIES:
        pages[f"customer list, {label}"] = f"{customers}{query}"
    return pages


#: the customer list as the overview and the analysis pages link to it (label, query)
LIST_QUERIES = (
    ("unfiltered", ""),
    ("`?stage=loyal`", "?stage=loyal"),
    ("`?stage=lost`", "?stage=lost"),
    ("`?moved_from=loyal&stage=at_risk&period=30`", "?moved_from=loyal&stage=at_risk&period=30"),
    ("`?r_scores=5&f_scores=5`", "?r_scores=5&f_scores=5"),
    ("`?segments=champions`", "?segments=champions"),
    ("`?member=1&payment_methods=qris`", "?member=1&payment_methods=qris"),
    ("`?stage=loyal&sort=-clv`", "?stage=loyal&sort=-clv"),
    ("`?sort=-last_purchase`", "?sort=-last_purchase"),
    ("`?stage=loyal&sort=-clv&page=20`", "?stage=loyal&sort=-clv&page=20"),
)


def _target_set(merchant, owner) -> None:
    """A target market on every dimension, so the market page compares each one."""
    from decimal import Decimal

    from langganan.insights.models import TargetMarket

    TargetMarket.objects.update_or_create(
        merchant=merchant,
        defaults={
            "areas": ["Jakarta Selatan", "Jakarta Pusat"],
            "genders": ["F"],
            "age_bands": ["18_24", "25_34"],
            "spend_basis": "visit",
            "spend_min": Decimal("25000"),
            "spend_max": Decimal("100000"),
            "payment_methods": ["qris", "e_wallet"],
            "updated_by": owner,
        },
    )


def _time(client, url: str, name: str) -> dict[str, float]:
    times = []
    for n in range(WARM_UP + SAMPLES):
        begin = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - begin) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if n >= WARM_UP:
            times.append(elapsed)
    print(name, _quantiles(times), file=sys.stderr, flush=True)
    return _quantiles(times)


def _ledger_in_bulk() -> None:
    """Write the demo's points history with the balance trigger off, then add each account's
    entries to its balance in one statement. With the trigger on, every entry updates its
    account's row again inside the build's one transaction, and each update walks the row's
    growing chain of versions: the 100,000-customer build did not finish the ledger in 17
    minutes. The balances come out the same; the rest of the build (tier review, tabs) runs as
    usual, with the trigger on."""
    from django.db import connection

    from langganan.demo import loyalty

    write = loyalty.ledger_history_write

    def write_in_bulk(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM loyalty_entry")
            (last,) = cursor.fetchone()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: ALTER may run
            cursor.execute("ALTER TABLE loyalty_entry DISABLE TRIGGER loyalty_entry_balance")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        try:
            return write(*args, **kwargs)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE loyalty_entry ENABLE TRIGGER loyalty_entry_balance")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute(
                    "UPDATE loyalty_account a SET balance = a.balance + s.total FROM "
                    "(SELECT account_id, SUM(amount) AS total FROM loyalty_entry WHERE id > %s "
                    "GROUP BY account_id) s WHERE a.id = s.account_id",
                    [last],
                )

    loyalty.ledger_history_write = write_in_bulk


def child(database_url: str) -> None:
    _django(database_url)
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from tests.factories import MembershipFactory

    from langganan.core.models import Membership, Merchant, Role
    from langganan.customers.models import Customer
    from langganan.demo.btyd import PurchaseParams
    from langganan.demo.generator import demo_merchant_build
    from langganan.insights.models import WorthResult
    from langganan.insights.services import insights_refresh
    from langganan.sales.models import Transaction

    end = date(2026, 11, 1)
    start = time.perf_counter()
    merchant = Merchant.objects.filter(slug="bench").first()  # BENCH_OVERVIEW_REUSE: kept
    if merchant is None:
        _ledger_in_bulk()
        merchant = demo_merchant_build(
            slug="bench",
            n_customers=CUSTOMERS,
            seed=SEED,
            end=end,
            params=PurchaseParams(**PURCHASE),
        ).merchant
    built = time.perf_counter()
    if not WorthResult.objects.filter(merchant=merchant).exists():
        insights_refresh(
            merchant=merchant,
            observation_end=datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Jakarta")),
        )
    analysed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    kept = Membership.objects.filter(merchant=merchant, role=Role.OWNER, user__is_active=True)
    owner = (kept.first() or MembershipFactory(merchant=merchant, role=Role.OWNER)).user
    _target_set(merchant, owner)
    client = Client()
    client.force_login(owner)
    result: dict = {
        "customers": Customer.objects.filter(merchant=merchant).count(),
        "transactions": Transaction.objects.filter(merchant=merchant).count(),
        "worth_results": WorthResult.objects.filter(merchant=merchant).count(),
        "build_s": round(built - start, 1),
        "analysis_s": round(analysed - built, 1),
        "pages": {},
    }
    only = os.environ.get("BENCH_OVERVIEW_PAGES")  # a comma-separated part of the names
    pages = {
        name: url
        for name, url in _pages(merchant.slug).items()
        if not only or any(part in name for part in only.split(","))
    }
    if BEFORE:  # the pages without the latest migrations (their indexes), then with them
        for target in BEFORE:
            call_command("migrate", *target.split(":"), interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if BEFORE_CODE:
            connection.close()  # the other process times; nothing of ours holds the tables
            result["before"] = _before_by_code(BEFORE_CODE, database_url, set(pages))
            result["before_code"] = BEFORE_CODE
        else:
            result["before"] = {name: _time(client, url, name) for name, url in pages.items()}
        result["before_migrations"] = BEFORE
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        result["migrate_s"] = round(time.perf_counter() - started, 1)
        if BEFORE_CODE:
            from langganan.insights.market import market_snapshots_store

            started = time.perf_counter()
            market_snapshots_store(merchant=merchant)
            result["market_store_s"] = round(time.perf_counter() - started, 1)
        with connection.cursor() as cursor:
            # what autovacuum does soon after a migration that wrote every row (its dead
            # versions made the insight's table scans of the filtered lists up to 1.7× slower)
            cursor.execute("VACUUM ANALYZE")
    for name, url in pages.items():
        result["pages"][name] = {"url": url, **_time(client, url, name)}
    print(json.dumps(result))


def _before_by_code(revision: str, database_url: str, names: set[str]) -> dict:
    """The pages timed by ``revision``'s own code (``git archive`` into a temporary folder,
    its ``bench/overview.py child`` on this database, which it finds built and analysed)."""
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-before-") as folder:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision],
            cwd=ROOT,
            check=True,
            stdout=subprocess.PIPE,
        ).stdout
        tree = Path(folder)
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        env = {
            **os.environ,
            "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}",
            "BENCH_OVERVIEW_BEFORE": "",
        }
        out = subprocess.run(
            [sys.executable, str(tree / "bench" / "overview.py"), "child", database_url],
            env=env,
            cwd=tree,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
    pages = json.loads(out.stdout.strip().splitlines()[-1])["pages"]
    return {name: q for name, q in pages.items() if name in names}


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN.replace("postgres://", "postgresql://")) as c:
            return str(c.execute("SHOW server_version").fetchone()[0]).split()[0]
    except Exception:  # noqa: BLE001 (unreachable: said so below)
        return "unreachable"


def _fresh_postgres() -> str | None:
    name = PG_DB if CUSTOMERS == 100_000 else f"{PG_DB}_{CUSTOMERS}"
    try:
        import psycopg

        with psycopg.connect(
            PG_ADMIN.replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (exists and os.environ.get("BENCH_OVERVIEW_REUSE")):
                c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                c.execute(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001 (no PostgreSQL here: the run is skipped)
        print(f"PostgreSQL unavailable, skipped: {exc}", file=sys.stderr)
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def main() -> list[str]:
    lines = [
        "<!-- section: overview -->",
        f"## The overview, the analysis pages and the customer list ({CUSTOMERS:,} customers)",
        "",
        "Command: `python bench/run.py --only overview` (`bench/overview.py`). A fresh "
        f"PostgreSQL database with the demo café at {CUSTOMERS:,} customers, analysed once (the "
        "analysis stores the overview of each period and the market page's groups of "
        "buyers); the Django app called in-process "
        f"(server time, no network, warm), {SAMPLES} requests per page after {WARM_UP} "
        "warm-up requests, one at a time.",
        "",
    ]
    settings = [
        f"{name}={os.environ[name]}"
        for name in (
            "BENCH_OVERVIEW_CUSTOMERS",
            "BENCH_OVERVIEW_REUSE",
            "BENCH_OVERVIEW_PAGES",
            "BENCH_OVERVIEW_BEFORE",
            "BENCH_OVERVIEW_BEFORE_CODE",
        )
        if os.environ.get(name)
    ]
    from run import machine  # bench/run.py

    lines += [
        f"Machine: {machine()}, PostgreSQL {_postgres_version()}."
        + (f" Settings: `{' '.join(settings)}`." if settings else ""),
        "",
    ]
    url = _fresh_postgres()
    if url is None:
        return [*lines, "PostgreSQL was not reachable: the timings were skipped.", ""]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    out = subprocess.run(
        [sys.executable, __file__, "child", url],
        env=env,
        check=True,
        stdout=subprocess.PIPE,  # progress goes to stderr
        text=True,
        cwd=ROOT,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr)
    return [*lines, *render(result)]


def render(result: dict) -> list[str]:
    """The section's figures: one row per page, with the "before" run's when there is one."""
    before = result.get("before") or {}
    built = (
        f"building them took {result['build_s']} s, the analysis {result['analysis_s']} s"
        if result["build_s"] > 1
        else "built and analysed by an earlier run of the same database"
    )
    lines = [
        f"{result['customers']:,} customers, {result['transactions']:,} transactions, "
        f"{result['worth_results']} stored worth results; {built}.",
        "",
    ]
    if before:
        code = result.get("before_code")
        lines += [
            f"Before: migrated back to {', '.join(result['before_migrations'])} (without the "
            "tables, columns and indexes added after them)"
            + (f" and timed by the code of `{code}`" if code else "")
            + " in the same run, then migrated forward again"
            + (f" ({result['migrate_s']} s)" if "migrate_s" in result else "")
            + (
                f" and the market groups stored by the analysis' own step "
                f"({result['market_store_s']} s)"
                if "market_store_s" in result
                else ""
            )
            + (", VACUUM ANALYZE" if "migrate_s" in result else "")
            + " for after. Ratio: before median / after median.",
            "",
            "| page | before median ms | before p95 ms | median ms | p95 ms | max ms | "
            "ratio | target p95 | met |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
    else:
        lines += [
            "| page | median ms | p95 ms | max ms | target p95 | met |",
            "|---|---:|---:|---:|---:|---|",
        ]
    for name, q in result["pages"].items():
        was = before.get(name)
        cells = [name]
        if before:
            cells += [str(was["median_ms"]), str(was["p95_ms"])] if was else ["", ""]
        met = "yes" if q["p95_ms"] <= TARGET_MS else "**no**"
        cells += [str(q["median_ms"]), str(q["p95_ms"]), str(q["max_ms"])]
        if before:
            ratio = was["median_ms"] / q["median_ms"] if was and q["median_ms"] else None
            cells.append(f"{ratio:.1f}×" if ratio is not None else "")
        cells += [f"≤ {TARGET_MS}", met]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2])
    else:
        if "--customers" in sys.argv:
            CUSTOMERS = int(sys.argv[sys.argv.index("--customers") + 1])
            os.environ["BENCH_OVERVIEW_CUSTOMERS"] = str(CUSTOMERS)
        print("\n".join(main()))
