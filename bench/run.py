"""Benchmarks, run by `make bench`; results are written to BENCHMARKS.md.

Import: streams a synthetic transactions CSV (one row per sale, Indonesian headers, phones,
identical rows included) into a fresh SQLite database in a child process, and reports rows
per second and the child's peak resident memory. Memory must stay flat as the file grows
from 100k to 1M rows: that is what "streaming" means here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    customers = max(rows // 8, 10)
    methods = ["Tunai", "QRIS", "GoPay", "OVO", "Kartu Debit"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("Tanggal,Jam,No HP,Nama,Total,Metode Pembayaran\n")
        for _ in range(rows):
            c = rng.randrange(customers)
            day = rng.randrange(1, 29)
            month = rng.randrange(1, 13)
            handle.write(
                f"{day:02d}/{month:02d}/2025,{rng.randrange(7, 22):02d}:{rng.randrange(60):02d},"
                f"0812{c:08d},Pelanggan {c},{rng.randrange(5, 200) * 1000},"
                f"{rng.choice(methods)}\n"
            )


def run_import(path: Path) -> dict:
    data = Path(tempfile.mkdtemp(prefix="langganan-bench-"))
    env = {**os.environ, "LANGGANAN_DATA_DIR": str(data), "SECRET_KEY": "bench"}
    env.pop("DATABASE_URL", None)
    cli = str(BIN / "langganan")
    subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [cli, "merchant", "create", "bench", "--name", "Bench"],
        env=env,
        check=True,
        capture_output=True,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(
        [cli, "import", "transactions", str(path), "--merchant", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = json.loads(out.stdout)
    return {
        "seconds": seconds,
        "rows": report["rows_read"],
        "created": report["transactions_created"],
        "peak_mib": max(peak_kib, before) / 1024,
    }


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3, help="runs for sizes below 1M")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument(
        "--only",
        choices=["import", "pipeline", "api", "login_flood", "campaigns", "accuracy", "counter"],
        default=None,
        help="run one part only",
    )
    args = parser.parse_args()
    sections = {}
    path = Path(args.output)
    if args.only in (None, "import"):
        sections["import"] = import_section(args)
    if args.only in (None, "pipeline"):
        import pipeline

        sections["pipeline"] = "\n".join(pipeline.main())
    if args.only in (None, "api"):
        import api  # needs PostgreSQL at 127.0.0.1:5432 (see bench/api.py)

        sections["api"] = "\n".join(api.main([]))
    if args.only in (None, "login_flood"):
        import login_flood  # the tills while /login/ is flooded (bench/login_flood.py)

        sections["login_flood"] = "\n".join(login_flood.main([]))
    if args.only in (None, "campaigns"):
        import campaigns

        sections["campaigns"] = "\n".join(campaigns.main())
    if args.only in (None, "accuracy"):
        import accuracy

        sections["accuracy"] = "\n".join(accuracy.main())
    if args.only in (None, "counter"):
        import counter  # the kasir screen with 100,000 customers on PostgreSQL

        sections["counter"] = "\n".join(counter.main())
    previous = _sections(path.read_text()) if path.exists() else {}
    previous.update(sections)
    header = [
        "# Benchmarks",
        "",
        f"Machine: {machine()}.",
        "",
        "Command: `make bench` (`python bench/run.py`; "
        "`--only import|pipeline|api|login_flood|campaigns|accuracy|counter` runs one part). "
        "Numbers are medians of the runs shown; this machine is shared and noisy.",
        "",
    ]
    body = [previous[k] for k in SECTIONS if k in previous]
    path.write_text("\n".join(header) + "\n" + "\n\n".join(b.strip() for b in body) + "\n")
    print(f"wrote {path}")


MARK = "<!-- section: {} -->"
SECTIONS = ("import", "pipeline", "api", "login_flood", "campaigns", "accuracy", "counter")


def _sections(text: str) -> dict[str, str]:
    found = {}
    for name in SECTIONS:
        mark = MARK.format(name)
        if mark in text:
            rest = text.split(mark, 1)[1]
            end = min(
                (rest.find(MARK.format(o)) for o in SECTIONS if MARK.format(o) in rest),
                default=-1,
            )
            found[name] = mark + (rest if end == -1 else rest[:end])
    return found


def import_section(args) -> str:
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"tx-{size}.csv"
            make_file(path, size)
            repeat = args.repeat if size < 1_000_000 else 1
            runs = [run_import(path) for _ in range(repeat)]
            for run in runs:
                assert run["created"] == size, run
            # RUSAGE_CHILDREN keeps the largest child so far; runs go small to large
            median = statistics.median(r["seconds"] for r in runs)
            rows_out.append(
                (
                    size,
                    repeat,
                    median,
                    size / median,
                    runs[-1]["peak_mib"],
                    path.stat().st_size / 2**20,
                )
            )
            print(
                f"{size:>9} rows: median {median:.1f} s, {size / median:,.0f} rows/s, "
                f"peak RSS {runs[-1]['peak_mib']:.0f} MiB",
                flush=True,
            )
    lines = [
        MARK.format("import"),
        "## Import of a transactions CSV into SQLite (one row per sale)",
        "",
        "| rows | file MiB | runs | median seconds | rows/s | peak RSS of the import (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, repeat, median, rate, peak, mib in rows_out:
        lines.append(
            f"| {size:,} | {mib:.0f} | {repeat} | {median:.1f} | {rate:,.0f} | {peak:.0f} |"
        )
    lines += [
        "",
        "Peak memory is the resident set of the `langganan import` process (the largest of the "
        "runs so far). It grows far less than the file: the Python heap stays flat (a test "
        "checks it with tracemalloc at 2k and 20k rows); the rest is SQLite's page cache "
        "(64 MiB at most) and the write-ahead-log index of the one transaction the import runs "
        "in. Rows per second fall on the largest file because every row inserts into "
        "random-keyed unique indexes (the import identity) larger than the page cache.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
