"""Benchmarks, run by `make bench`; results are written to BENCHMARKS.md.

Import: bench/importing.py — 1,000,000 rows (one per sale, and one per line item) into
SQLite and PostgreSQL, the code before issue 18's speed work and after it in one run, the
re-import, and each import process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument(
        "--only",
        choices=[
            "import",
            "import_progress",
            "pipeline",
            "api",
            "live_insight",
            "login_flood",
            "campaigns",
            "accuracy",
            "counter",
            "overview",
        ],
        default=None,
        help="run one part only",
    )
    args = parser.parse_args()
    sections = {}
    path = Path(args.output)
    if args.only in (None, "import"):
        import importing  # 1M rows into SQLite and PostgreSQL, before and after

        # BENCH_IMPORT_ARGS: importing.py's options for this run (e.g. "--rows 100000")
        args_import = shlex.split(os.environ.get("BENCH_IMPORT_ARGS", ""))
        sections["import"] = "\n".join(importing.main(args_import))
    if args.only in (None, "pipeline"):
        import pipeline

        sections["pipeline"] = "\n".join(pipeline.main())
    if args.only in (None, "api"):
        import api  # needs PostgreSQL at 127.0.0.1:5432 (see bench/api.py)

        # BENCH_API_ARGS: api.py's options for this run (e.g. "--servers sync-5")
        sections["api"] = "\n".join(api.main(shlex.split(os.environ.get("BENCH_API_ARGS", ""))))
    if args.only in (None, "login_flood"):
        import login_flood  # the tills while /login/ is flooded (bench/login_flood.py)

        sections["login_flood"] = "\n".join(login_flood.main([]))
    if args.only in (None, "campaigns"):
        import campaigns

        sections["campaigns"] = "\n".join(campaigns.main())
    if args.only in (None, "accuracy"):
        import accuracy

        sections["accuracy"] = "\n".join(accuracy.main())
    if args.only in (None, "import_progress"):
        import import_progress  # the browser import's progress bar at 100,000 rows

        sections["import_progress"] = "\n".join(import_progress.main([]))
    if args.only in (None, "counter"):
        import counter  # the kasir screen with 100,000 customers on PostgreSQL

        sections["counter"] = "\n".join(counter.main())
    if args.only in (None, "live_insight"):
        import live_insight  # what a sale's insight update adds to a checkout (PostgreSQL)

        sections["live_insight"] = "\n".join(live_insight.section())
    if args.only in (None, "overview"):
        import overview  # the overview and the lists it opens, 100,000 customers on PostgreSQL

        sections["overview"] = "\n".join(overview.main())
    previous = _sections(path.read_text()) if path.exists() else {}
    previous.update(sections)
    header = [
        "# Benchmarks",
        "",
        f"Machine: {machine()}.",
        "",
        "Command: `make bench` (`python bench/run.py`; "
        "`--only import|import_progress|pipeline|api|live_insight|login_flood|campaigns|"
        "accuracy|counter|overview` "
        "runs one "
        "part). "
        "Numbers are medians of the runs shown; this machine is shared and noisy.",
        "",
    ]
    body = [previous[k] for k in SECTIONS if k in previous]
    path.write_text("\n".join(header) + "\n" + "\n\n".join(b.strip() for b in body) + "\n")
    print(f"wrote {path}")


MARK = "<!-- section: {} -->"
SECTIONS = (
    "import",
    "import_progress",
    "pipeline",
    "api",
    "live_insight",
    "login_flood",
    "campaigns",
    "accuracy",
    "counter",
    "overview",
)


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


if __name__ == "__main__":
    main()
