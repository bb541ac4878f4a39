"""The transactions import (issue 18, point 4): a synthetic CSV of 1,000,000 rows imported
by `langganan import` into a fresh SQLite file and a fresh PostgreSQL database, with the code
of an earlier commit ("before") and of the working tree ("after") in the same run.

Files (seed 7): one row per sale (Indonesian headers, phones, day/month/year dates, identical
rows included) and one row per line item (the rows of one visit are consecutive and share the
customer, date, time and payment; 1-4 items each, no receipt number, so every sale gets its
import identity from its content). Each import runs in its own process; its peak memory is
that process's resident set (``wait4``). The re-import runs the same file again into the same
database and must create nothing.

    python bench/importing.py [--rows 1000000] [--before <commit>] [--output BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "langganan_bench_import"

TARGET_POSTGRES = 40.0
TARGET_SQLITE = 60.0
TARGET_REIMPORT = 20.0
TARGET_MIB = 500.0

MENU = [
    ("Kopi Susu", "Minuman", 18000),
    ("Es Teh Manis", "Minuman", 6000),
    ("Americano", "Minuman", 22000),
    ("Teh Tarik", "Minuman", 15000),
    ("Nasi Goreng", "Makanan", 25000),
    ("Mie Ayam", "Makanan", 20000),
    ("Roti Bakar", "Makanan", 16000),
    ("Pisang Goreng", "Camilan", 12000),
    ("Kentang Goreng", "Camilan", 15000),
    ("Croissant", "Camilan", 21000),
]
METHODS = ["Tunai", "QRIS", "GoPay", "OVO", "Kartu Debit"]


def make_sales_file(path: Path, rows: int, seed: int = 7) -> None:
    """One row per sale (the file the benchmarks before issue 18 used)."""
    rng = random.Random(seed)
    customers = max(rows // 8, 10)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("Tanggal,Jam,No HP,Nama,Total,Metode Pembayaran\n")
        for _ in range(rows):
            c = rng.randrange(customers)
            day = rng.randrange(1, 29)
            month = rng.randrange(1, 13)
            handle.write(
                f"{day:02d}/{month:02d}/2025,{rng.randrange(7, 22):02d}:{rng.randrange(60):02d},"
                f"0812{c:08d},Pelanggan {c},{rng.randrange(5, 200) * 1000},"
                f"{rng.choice(METHODS)}\n"
            )


def make_items_file(path: Path, rows: int, seed: int = 7) -> None:
    """One row per line item: a visit's rows are consecutive and share customer and time."""
    rng = random.Random(seed)
    customers = max(rows // 20, 10)
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("Tanggal,Jam,No HP,Nama,Produk,Kategori,Qty,Harga,Metode Pembayaran\n")
        while written < rows:
            c = rng.randrange(customers)
            when = (
                f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/2025,"
                f"{rng.randrange(7, 22):02d}:{rng.randrange(60):02d}"
            )
            method = rng.choice(METHODS)
            count = min(rng.randrange(1, 5), rows - written)
            for product, category, price in rng.sample(MENU, count):
                price_text = f"Rp {price:,}".replace(",", ".")  # "Rp 18.000"
                handle.write(
                    f"{when},0812{c:08d},Pelanggan {c},{product},{category},"
                    f"{rng.randrange(1, 3)},{price_text},{method}\n"
                )
                written += 1


# -- databases ----------------------------------------------------------------------------------


def postgres_url() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgres://postgres@127.0.0.1:5432/{PG_DB}"


def code_of(ref: str, tmp: Path) -> Path:
    """The ``src/`` folder of commit ``ref``, unpacked under ``tmp``."""
    target = tmp / f"code-{ref[:12]}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    code = "import sys; from langganan.cli import main; sys.argv[0] = 'langganan'; main()"
    return subprocess.run(
        [PYTHON, "-c", code, *args], env=env, check=True, capture_output=True, text=True
    )


def fresh_database(backend: str, src: Path, tmp: Path) -> dict:
    """An environment whose database is new, migrated by the code in ``src``, with the
    merchant ``bench``."""
    env = {**os.environ, "SECRET_KEY": "bench", "PYTHONPATH": str(src)}
    if backend == "postgres":
        env["DATABASE_URL"] = postgres_url()
    else:
        env.pop("DATABASE_URL", None)
        env["LANGGANAN_DATA_DIR"] = tempfile.mkdtemp(prefix="import-", dir=tmp)
    _cli(env, "migrate")
    _cli(env, "merchant", "create", "bench", "--name", "Bench")
    return env


def timed_import(env: dict, path: Path) -> dict:
    """One `langganan import transactions` in its own process: wall seconds, peak RSS."""
    code = "import sys; from langganan.cli import main; sys.argv[0] = 'langganan'; main()"
    args = [PYTHON, "-c", code, "import", "transactions", str(path), "--merchant", "bench"]
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    child = subprocess.Popen([*args, "--json"], env=env, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode() if child.stderr else ""
    out.seek(0)
    if child.returncode != 0:
        raise RuntimeError(f"import failed ({child.returncode}): {err[-2000:]}")
    report = json.loads(out.read().decode())
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "report": report}


# -- the run ------------------------------------------------------------------------------------


def measure(label: str, backend: str, src: Path, files: dict, tmp: Path, plan: list) -> dict:
    """Import each of ``plan``'s files into a fresh database; ``reimport`` names the file
    imported a second time into the same database."""
    results = {}
    for kind, again in plan:
        env = fresh_database(backend, src, tmp)
        first = timed_import(env, files[kind])
        results[(label, backend, kind, "first")] = first
        print(_line(label, backend, kind, "first", first), flush=True)
        if again:
            second = timed_import(env, files[kind])
            results[(label, backend, kind, "again")] = second
            print(_line(label, backend, kind, "again", second), flush=True)
    return results


def _line(label, backend, kind, which, r) -> str:
    rep = r["report"]
    return (
        f"{label:>6} {backend:<8} {kind:<6} {which:<5} {r['seconds']:7.1f} s  "
        f"peak {r['peak_mib']:5.0f} MiB  rows {rep['rows_read']:,} "
        f"sales {rep['transactions_created']:,} customers {rep['customers_created']:,} "
        f"skipped {rep['skipped_duplicates']:,}"
    )


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    # the commit before the fast import (fa0a493): the row-by-row import of the ORM
    parser.add_argument("--before", default=os.environ.get("BENCH_IMPORT_BEFORE", "fa0a493^"))
    parser.add_argument("--no-before", action="store_true", help="time the working tree only")
    parser.add_argument("--partial", help="write the section so far to this file after each step")
    args = parser.parse_args(argv)
    args.before = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.before],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    args.after = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        files = {"sales": tmp / "sales.csv", "items": tmp / "items.csv"}
        make_sales_file(files["sales"], args.rows)
        make_items_file(files["items"], args.rows)
        mib = {k: p.stat().st_size / 2**20 for k, p in files.items()}
        results: dict = {}
        after = ROOT / "src"
        plan_after = [("sales", True), ("items", True)]
        for backend in ("sqlite", "postgres"):
            results |= measure("after", backend, after, files, tmp, plan_after)
            if args.partial:  # the figures so far, in case the run is stopped
                Path(args.partial).write_text("\n".join(section(args, results, mib)) + "\n")
        if not args.no_before:
            before = code_of(args.before, tmp)
            for backend in ("sqlite", "postgres"):
                results |= measure("before", backend, before, files, tmp, [("sales", False)])
                if args.partial:
                    Path(args.partial).write_text("\n".join(section(args, results, mib)) + "\n")
    return section(args, results, mib)


def section(args, results: dict, mib: dict) -> list[str]:
    def get(label, backend, kind, which="first"):
        return results.get((label, backend, kind, which))

    lines = [
        "<!-- section: import -->",
        "## Import of a transactions CSV (issue 18, point 4)",
        "",
        f"`python bench/importing.py --rows {args.rows}` (also `bench/run.py --only import`), "
        "under `flock /tmp/heavy.lock`; each import is one `langganan import transactions "
        "--json` process into a fresh database (SQLite file, or a new PostgreSQL database), "
        "one run each; peak memory is that process's resident set. Before = commit "
        f"{args.before} (its `src/` from `git archive` on PYTHONPATH, its own migrations), "
        f"after = {args.after} (the working tree), in the same run. Files: "
        f"{args.rows:,} rows one per sale ({mib['sales']:.0f} MiB) and {args.rows:,} rows one "
        f"per line item ({mib['items']:.0f} MiB, visits of 1-4 items without receipt numbers).",
        "",
        "| file | database | code | seconds | rows/s | sales created | peak RSS (MiB) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    names = {"sales": "one row per sale", "items": "one row per line item"}
    for (label, backend, kind, which), r in results.items():
        rep = r["report"]
        what = names[kind] + (" — re-import" if which == "again" else "")
        lines.append(
            f"| {what} | {backend} | {label} | {r['seconds']:.1f} | "
            f"{rep['rows_read'] / r['seconds']:,.0f} | {rep['transactions_created']:,} | "
            f"{r['peak_mib']:.0f} |"
        )
    lines.append("")
    verdicts = []
    for backend, target in (("postgres", TARGET_POSTGRES), ("sqlite", TARGET_SQLITE)):
        a, b = get("after", backend, "sales"), get("before", backend, "sales")
        if a is None:
            continue
        ratio = f", {b['seconds'] / a['seconds']:.1f}× faster than before" if b else ""
        met = "met" if a["seconds"] <= target else "NOT met"
        verdicts.append(
            f"- {backend}, one row per sale: {a['seconds']:.1f} s (target ≤ {target:.0f} s at "
            f"1,000,000 rows){ratio} — {met if args.rows == 1_000_000 else 'trial size'}"
        )
        items = get("after", backend, "items")
        if items:
            ok = items["seconds"] <= 2 * a["seconds"]
            verdicts.append(
                f"- {backend}, one row per line item: {items['seconds']:.1f} s, "
                f"{items['seconds'] / a['seconds']:.2f}× the sales file (target ≤ 2×) — "
                f"{'met' if ok else 'NOT met'}"
            )
        for kind in ("sales", "items"):
            again = get("after", backend, kind, "again")
            if again:
                created = again["report"]["transactions_created"]
                ok = again["seconds"] <= TARGET_REIMPORT and created == 0
                verdicts.append(
                    f"- {backend}, re-import of the {names[kind]} file: {again['seconds']:.1f} s, "
                    f"{created} created (target ≤ {TARGET_REIMPORT:.0f} s, nothing created) — "
                    f"{'met' if ok else 'NOT met'}"
                )
    peak = max((r["peak_mib"] for (label, *_), r in results.items() if label == "after"), default=0)
    verdicts.append(
        f"- peak memory of any import after: {peak:.0f} MiB (target ≤ {TARGET_MIB:.0f} MiB) — "
        f"{'met' if peak <= TARGET_MIB else 'NOT met'}"
    )
    lines += verdicts
    lines.append("")
    return lines


if __name__ == "__main__":
    text = "\n".join(main(sys.argv[1:]))
    print(text)
