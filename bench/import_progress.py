"""The browser import's progress bar on a large file (issue 18): 100,000 rows, one per sale,
uploaded as the browser does and imported by the background task in its own process (as the
worker runs it), into a fresh SQLite file (the zero-set-up database, and the one whose writer
holds the file) — while this process polls the page's status URL (``status.json``, what the
bar asks every second) through the Django app every 0.1 s.

Measured: the import's duration, how often the bar's figure (rows done) changed, the longest
wait between two changes while the import ran (target: ≤ 1 s, "moving at least once a
second"), and every poll's answer time (the status must answer while the import writes).

    python bench/import_progress.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_GAP_S = 1.0
POLL_S = 0.1


def _django(database_url: str, data_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["LANGGANAN_DATA_DIR"] = data_dir
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langganan.config.settings")
    import django

    django.setup()


def child_task(database_url: str, data_dir: str, job_id: str) -> None:
    """The worker's side: run the import task of the job."""
    _django(database_url, data_dir)
    from langganan.sales.import_jobs import import_job_task

    print(import_job_task(int(job_id)), flush=True)


def run(rows: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="langganan-bench-progress-"))
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    data_dir = str(tmp / "data")
    _django(database_url, data_dir)
    from django.core.files import File
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    sys.path.insert(0, str(ROOT / "bench"))
    from importing import make_sales_file

    from langganan.core.models import Membership, Merchant, Role
    from langganan.sales.import_jobs import import_job_create
    from langganan.sales.models import ImportJob, ImportStatus

    call_command("migrate", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    merchant = Merchant.objects.create(name="Kafe Bench", slug="bench")
    user = get_user_model().objects.create_user("pemilik", password="bench-progress-1")
    Membership.objects.create(merchant=merchant, user=user, role=Role.OWNER)
    source = tmp / "penjualan.csv"
    make_sales_file(source, rows)
    with open(source, "rb") as handle:
        job = import_job_create(
            merchant=merchant, user=user, kind="transaksi", uploaded=File(handle, "penjualan.csv")
        )
    job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = reverse("data:import_status", kwargs={"slug": merchant.slug, "job_id": job.pk})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, __file__, "child", database_url, data_dir, str(job.pk)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    from langganan.sales.import_jobs import _progress_path

    progress_file = _progress_path(job)
    started_task: float | None = None
    worker_ended = time.perf_counter()
    polls: list[tuple[float, int, str]] = []
    answer_ms: list[float] = []
    failures = 0
    while True:
        asked = time.perf_counter()
        response = client.get(url)
        answer_ms.append((time.perf_counter() - asked) * 1000)
        if response.status_code != 200:
            failures += 1
        else:
            status = response.json()
            polls.append((asked - started, status["done"], status["status"]))
            if started_task is None and progress_file.exists():
                started_task = asked - started
            if status["ended"]:
                break
        if worker.poll() is not None and (
            (polls and polls[-1][2] != "berjalan") or time.perf_counter() - worker_ended > 5
        ):
            break
        if worker.poll() is None:
            worker_ended = time.perf_counter()
        time.sleep(POLL_S)
    worker.wait()
    duration = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job.pk)
    # from the task's start (its first progress write), as a running worker would pick it up;
    # the child process's own start-up (Django, ~1 s) is not the import's
    running = [
        (t, done)
        for t, done, status in polls
        if status == "berjalan" and started_task is not None and t >= started_task
    ]
    changes = [running[0][0]] if running else []  # the bar appears
    for (_t0, d0), (t1, d1) in zip(running, running[1:], strict=False):
        if d1 != d0:
            changes.append(t1)
    end = polls[-1][0] if polls else duration
    gaps = [b - a for a, b in zip(changes, [*changes[1:], end], strict=True)]
    return {
        "rows": rows,
        "status": job.status,
        "created": job.transactions_created,
        "duration_s": round(duration, 1),
        "polls": len(polls),
        "changes": len(changes),
        "longest_gap_s": round(max(gaps), 2) if gaps else None,
        "median_gap_s": round(statistics.median(gaps), 2) if gaps else None,
        "poll_median_ms": round(statistics.median(answer_ms), 1),
        "poll_max_ms": round(max(answer_ms), 1),
        "poll_failures": failures,
        "first_gap_s": round(gaps[0], 2) if gaps else None,
        "last_gap_s": round(gaps[-1], 2) if gaps else None,
        "end_s": round(end, 2),
    }


def section(result: dict) -> list[str]:
    met = (
        result["longest_gap_s"] is not None
        and result["longest_gap_s"] <= TARGET_GAP_S
        and result["poll_failures"] == 0
        and result["status"] == "selesai"
    )
    return [
        "<!-- section: import_progress -->",
        "## The browser import's progress bar (100,000 rows, SQLite)",
        "",
        "Command: `python bench/run.py --only import_progress` (`bench/import_progress.py`). "
        f"A CSV of {result['rows']:,} rows, one per sale (the import benchmark's file), uploaded "
        "as the browser does (`import_job_create`: the size and content checks, the preview) "
        "into a fresh SQLite database, imported by the background task in its own process (as "
        "the worker runs it) while the benchmark polls the page's `status.json` through the "
        f"Django app every {POLL_S} s (the page asks every second).",
        "",
        "| rows | result | sales created | duration s | polls | times the bar moved | "
        "longest wait between moves s | median wait s | status answer median / max ms | "
        "failed polls |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
        f"| {result['rows']:,} | {result['status']} | {result['created']:,} | "
        f"{result['duration_s']} | {result['polls']} | {result['changes']} | "
        f"{result['longest_gap_s']} | {result['median_gap_s']} | "
        f"{result['poll_median_ms']} / {result['poll_max_ms']} | {result['poll_failures']} |",
        "",
        "Target (issue 18): the bar moves at least once a second — "
        f"**{'met' if met else 'not met'}** "
        f"(longest wait {result['longest_gap_s']} s). The task writes its progress at most every "
        "0.25 s, at the end of each chunk of 5,000 sales, and the bar moved every "
        f"{result['median_gap_s']} s in the median; the waits over a second are at the ends: "
        f"{result['first_gap_s']} s from the task's start to its first chunk (opening the file, "
        "loading the outlets and the customers), and "
        f"{result['last_gap_s']} s with the bar at the end of the file while the import "
        "finishes (the sales tables' indexes, the customers' join dates, the commit and the "
        "buyers' insights), which report no progress of their own yet. Timed from the task's "
        "first progress write (a running worker picks the task up; the benchmark's child "
        "process starts Django first).",
    ]


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "measure", str(args.rows)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return section(result)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_task(*sys.argv[2:5])
    elif len(sys.argv) > 1 and sys.argv[1] == "measure":
        print(json.dumps(run(int(sys.argv[2]))), flush=True)
    else:
        print("\n".join(main(sys.argv[1:])))
