"""Benchmark: the counter screen (kasir) with 100,000 customers on PostgreSQL (issue 16).

Targets: finding a customer by phone and showing the card p95 ≤ 150 ms server time; recording
a member's sale from the screen p95 ≤ 250 ms; the screen's own JavaScript and CSS ≤ 100 KB
compressed.

``python bench/counter.py`` (or ``bench/run.py --only counter``) builds, in a fresh PostgreSQL
database ``lg_bench_counter`` (skipped when PostgreSQL cannot be reached), a café with 100,000
customers (half of them members of the loyalty program, each with stored insights: the usual
order, the segment) and 300,000 sales with their line items, then times, in the Django app
itself (the test client: server time, no network):

- **lookup and card**: ``GET /m/<merchant>/kasir/?q=<phone as typed, 0812…>`` (the lookup,
  answered with a redirect) then ``GET /m/<merchant>/kasir/`` (the card, the basket, the menu),
  for ``SAMPLES`` random customers; the two requests' sum per customer;
- **a member's sale**: ``POST /m/<merchant>/kasir/bayar/`` with a basket of two products for a
  random member, paid in cash (the checkout: the sale, points, tier, the live insight update),
  answered with the redirect to the receipt;
- the size of the screen's CSS and JavaScript (its own and the dashboard's stylesheet),
  gzip -9.

Children: ``python bench/counter.py child DATABASE_URL`` prints one JSON line.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = int(os.environ.get("BENCH_COUNTER_CUSTOMERS", 100_000))  # smaller for a trial
SALES_PER_CUSTOMER = 3
SAMPLES = 200
WARM_UP = 20
SEED = 16
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "lg_bench_counter"
ASSETS = [
    "src/langganan/counter/static/counter/screen.css",
    "src/langganan/counter/static/counter/screen.js",
    "src/langganan/web/static/web/app.css",
]


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
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


def _build(rng: random.Random):
    from datetime import datetime, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model

    from langganan.core.models import Membership
    from langganan.core.services import merchant_create, outlet_create
    from langganan.customers.models import Customer
    from langganan.insights.models import CustomerInsight, InsightRun
    from langganan.loyalty.models import Member, Program
    from langganan.sales.models import LineItem, Product, Transaction

    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic import MENU

    now = datetime.now(ZoneInfo("Asia/Jakarta"))
    merchant = merchant_create(slug="bench", name="Kopi Bench")
    outlet = outlet_create(merchant=merchant, code="JKT-01", name="Jakarta")
    Program.objects.create(merchant=merchant, name="Sahabat", earn_step=Decimal("10000"))
    products = Product.objects.bulk_create(
        [
            Product(merchant=merchant, name=name, price=Decimal(price))
            for name, price in [(n, p) for n, _c, p in MENU]
        ]
    )
    names = ["Rina", "Budi", "Sari", "Agus", "Dewi", "Eko", "Putri", "Joko"]
    Customer.objects.bulk_create(
        [
            Customer(
                merchant=merchant,
                full_name=f"{names[i % len(names)]} {i}",
                gender="F" if i % 2 == 0 else "M",
                phone=f"+62812{i:08d}",
                member_code=f"B{i:07d}",
            )
            for i in range(CUSTOMERS)
        ],
        batch_size=5000,
    )
    ids = list(
        Customer.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)
    )
    Member.objects.bulk_create(
        [
            Member(merchant=merchant, customer_id=cid, referral_code=f"R{n:07d}")
            for n, cid in enumerate(ids[::2])
        ],
        batch_size=5000,
    )
    run = InsightRun.objects.create(merchant=merchant, status="done")
    last = now - timedelta(days=12)
    CustomerInsight.objects.bulk_create(
        [
            CustomerInsight(
                merchant=merchant,
                customer_id=cid,
                run=run,
                orders=SALES_PER_CUSTOMER,
                frequency=SALES_PER_CUSTOMER - 1,
                recency_days=60,
                age_days=90,
                days_since_last=12,
                total_spend=Decimal("150000"),
                monetary_value=Decimal("50000"),
                first_purchase=last - timedelta(days=60),
                last_purchase=last,
                r_score=3,
                f_score=3,
                m_score=3,
                segment="loyal",
                lifecycle="active",
                usual_order=[{"item": MENU[0][0], "times": 3}, {"item": MENU[12][0], "times": 2}],
            )
            for cid in ids
        ],
        batch_size=5000,
    )
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        sales = Transaction.objects.bulk_create(
            [
                Transaction(
                    merchant=merchant,
                    outlet=outlet,
                    customer_id=cid,
                    occurred_at=now - timedelta(days=rng.randrange(1, 300), minutes=k),
                    total=products[k % len(products)].price,
                    payment_method="cash",
                )
                for cid in chunk
                for k in range(SALES_PER_CUSTOMER)
            ],
            batch_size=5000,
        )
        LineItem.objects.bulk_create(
            [
                LineItem(
                    transaction=sale,
                    product=products[n % len(products)],
                    product_name=products[n % len(products)].name,
                    quantity=Decimal("1"),
                    unit_price=products[n % len(products)].price,
                )
                for n, sale in enumerate(sales)
            ],
            batch_size=5000,
        )
    owner = get_user_model().objects.create_user("bench-owner", password="x")
    Membership.objects.create(merchant=merchant, user=owner, role="owner")
    return merchant, owner, ids, products


def child(database_url: str) -> None:
    _django(database_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client, and ALLOWED_HOSTS for it
    rng = random.Random(SEED)
    build = time.perf_counter()
    merchant, owner, ids, products = _build(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    build_s = time.perf_counter() - build
    client = Client()
    client.force_login(owner)
    screen = f"/m/{merchant.slug}/kasir/"
    lookups, cards, both = [], [], []
    for n in range(WARM_UP + SAMPLES):
        index = rng.randrange(len(ids))
        phone = f"0812{index:08d}"
        start = time.perf_counter()
        found = client.get(screen, {"q": phone})
        middle = time.perf_counter()
        card = client.get(screen)
        end = time.perf_counter()
        assert found.status_code == 302, found.status_code
        assert card.status_code == 200 and f"{index}" in card.content.decode(), index
        if n >= WARM_UP:
            lookups.append((middle - start) * 1000)
            cards.append((end - middle) * 1000)
            both.append((end - start) * 1000)
    members = ids[::2]
    sales = []
    for n in range(WARM_UP + SAMPLES):
        customer_id = rng.choice(members)
        first, second = rng.sample(products, 2)
        body = {
            "key": f"kasir-{uuid.uuid4().hex}",
            "customer": str(customer_id),
            f"q{first.pk}": "1",
            f"q{second.pk}": "2",
            "method": "cash",
        }
        start = time.perf_counter()
        response = client.post(f"{screen}bayar/", body)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 302, (response.status_code, response.content[:500])
        if n >= WARM_UP:
            sales.append(elapsed)
    print(
        json.dumps(
            {
                "customers": CUSTOMERS,
                "sales_in_db": CUSTOMERS * SALES_PER_CUSTOMER,
                "build_s": round(build_s, 1),
                "lookup": _quantiles(lookups),
                "card": _quantiles(cards),
                "lookup_and_card": _quantiles(both),
                "member_sale": _quantiles(sales),
            }
        )
    )


def assets() -> dict[str, int]:
    sizes = {}
    for name in ASSETS:
        data = (ROOT / name).read_bytes()
        sizes[name] = len(gzip.compress(data, compresslevel=9))
    return sizes


def _fresh_postgres() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            PG_ADMIN.replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            c.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {PG_DB}")
    except Exception as exc:  # noqa: BLE001 (no PostgreSQL here: the run is skipped)
        print(f"PostgreSQL unavailable, skipped: {exc}", file=sys.stderr)
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB


def main() -> list[str]:
    sizes = assets()
    total = sum(sizes.values())
    lines = [
        "<!-- section: counter -->",
        f"## The counter screen (kasir, {CUSTOMERS:,} customers)",
        "",
        "Command: `python bench/run.py --only counter` (`bench/counter.py`). A fresh PostgreSQL "
        f"database with {CUSTOMERS:,} customers (half of them members, each with stored "
        f"insights) and {CUSTOMERS * SALES_PER_CUSTOMER:,} sales with line items; the Django app "
        f"called in-process (server time, no network), {SAMPLES} random customers after "
        f"{WARM_UP} warm-up requests, one at a time.",
        "",
    ]
    url = _fresh_postgres()
    if url is not None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        out = subprocess.run(
            [sys.executable, __file__, "child", url],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        lines += [
            "| step | median ms | p95 ms | max ms | target p95 |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, label, target in (
            ("lookup", "phone lookup (redirect)", ""),
            ("card", "the card, basket and menu", ""),
            ("lookup_and_card", "**lookup + card**", "≤ 150"),
            ("member_sale", "**a member's sale** (checkout)", "≤ 250"),
        ):
            q = result[key]
            lines.append(
                f"| {label} | {q['median_ms']} | {q['p95_ms']} | {q['max_ms']} | {target} |"
            )
        lines += ["", f"Building the data took {result['build_s']} s.", ""]
    else:
        lines += ["PostgreSQL was not reachable: the timings were skipped.", ""]
    lines += ["| asset (gzip -9) | bytes |", "|---|---:|"]
    lines += [f"| `{name.rsplit('/', 1)[-1]}` | {size:,} |" for name, size in sizes.items()]
    lines += [f"| **total** (target ≤ 100 KB) | **{total:,}** |", ""]
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2])
    else:
        print("\n".join(main()))
