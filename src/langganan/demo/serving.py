"""What `langganan serve` runs: the web app (gunicorn) and the background worker
(`langganan worker`, a django-q2 cluster), side by side and supervised.

- Each child starts in its own session, so it is its own process group: gunicorn's master
  with its workers in one, the worker with the cluster's sentinel, pusher, monitor and task
  processes in the other. Stopping signals whole groups, so nothing is left behind.
- A worker that dies is restarted after a back-off (1 s, doubling up to 30 s; back to 1 s once
  it has run for a minute), and each restart is logged. What is left of its group is killed
  first, so an old cluster never runs beside the new one.
- When gunicorn exits (a port in use, a bad setting), serve stops the worker and exits with
  gunicorn's status: a server that does not serve should not look alive.
- SIGTERM, SIGINT (Ctrl+C) and SIGHUP stop both: SIGTERM to each group, :data:`STOP_GRACE`
  seconds to finish, then SIGKILL to whatever remains of either group.
- On Linux each child's leader also gets SIGTERM when serve itself dies (even from SIGKILL).

This module imports no Django: it only starts and watches processes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
#: a worker that ran this long before dying is restarted after the first back-off again
STABLE_AFTER = 60.0
#: seconds each group gets to stop after SIGTERM before SIGKILL
STOP_GRACE = 15.0
POLL = 0.2
#: the worker's output line that says it has started: ``langganan worker`` prints "Worker
#: running; …" once its cluster has started, and django-q2 logs "Q Cluster … running."
RUNNING_LINE = re.compile(r"^\s*worker running\b|\bq cluster\b.*\brunning\b", re.IGNORECASE)

_PR_SET_PDEATHSIG = 1


def _prctl():
    """libc's ``prctl`` on Linux, looked up before any fork (the child only calls it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc; [] when there are none.

    Without /proc, a group that still accepts signals counts as one member."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Child:
    """One supervised command, started in its own process group."""

    name: str
    argv: list[str]
    capture: bool = False  # read its output line by line (to see it start), else inherit
    on_line: Callable[[Child, str], None] | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    starts: int = 0
    _reader: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            self.argv,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no locks taken in the child
            stdout=subprocess.PIPE if self.capture else None,
            stderr=subprocess.STDOUT if self.capture else None,
            text=True,
            bufsize=1,
            errors="replace",
        )
        self.started_at = time.monotonic()
        self.starts += 1
        if self.capture:
            self._reader = threading.Thread(
                target=self._read, args=(self.process,), name=f"{self.name} output", daemon=True
            )
            self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if self.on_line is not None:
                self.on_line(self, line.rstrip("\n"))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def kill_group(self) -> None:
        """SIGKILL what is left of the group (the leader may already be gone)."""
        if self.process is not None:
            _signal_group(self.pid, signal.SIGKILL)
            self.process.wait()
            self._join_reader()

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None


def stop_children(children: list[Child], *, grace: float = STOP_GRACE) -> None:
    """SIGTERM each child's whole group, wait up to ``grace`` seconds for the groups to
    empty, then SIGKILL what remains; the leaders are reaped."""
    running = [c for c in children if c.process is not None]
    for child in running:
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for child in running:
            child.poll()  # reap the leader as soon as it exits
        if not any(group_members(c.pid) for c in running):
            break
        time.sleep(POLL)
    for child in running:
        child.kill_group()


class Supervisor:
    """Runs the web server and (unless ``worker_argv`` is None) the worker until a stop signal
    or until the web server exits; see the module docstring."""

    def __init__(
        self,
        *,
        web_argv: list[str],
        worker_argv: list[str] | None,
        say: Callable[[str], None],
        worker_say: Callable[[str], None] | None = None,
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
        stable_after: float = STABLE_AFTER,
        grace: float = STOP_GRACE,
    ) -> None:
        self.say = say
        self.worker_say = worker_say or say
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.grace = grace
        self.stop = threading.Event()
        self.web = Child("web", web_argv)
        self.worker = (
            Child("worker", worker_argv, capture=True, on_line=self._worker_line)
            if worker_argv
            else None
        )
        self._announced = 0  # the worker start whose "running" line was announced

    def _worker_line(self, child: Child, line: str) -> None:
        self.worker_say(f"worker | {line}")
        if RUNNING_LINE.search(line) and self._announced < child.starts:
            self._announced = child.starts
            again = " again" if child.starts > 1 else ""
            self.say(
                f"Worker running{again} (pid {child.pid}): campaign messages and scheduled "
                "jobs are handled in the background."
            )

    def _on_signal(self, signum, _frame) -> None:
        self.stop.set()

    def run(self) -> int:
        """Start, supervise, stop; returns the exit status for the command."""
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        status = 0
        try:
            self.web.start()
            if self.worker is not None:
                self.worker.start()
            status = self._watch()
        finally:
            self.say("Stopping the web server and the worker…" if self.worker else "Stopping…")
            stop_children([c for c in (self.web, self.worker) if c is not None], grace=self.grace)
            self.say("Stopped.")
        return status

    def _watch(self) -> int:
        backoff = self.backoff_first
        restart_at: float | None = None
        while not self.stop.wait(POLL):
            code = self.web.poll()
            if code is not None:
                self.say(f"The web server exited (status {code}); stopping.")
                return code or 1
            worker = self.worker
            if worker is None:
                continue
            now = time.monotonic()
            if restart_at is None:
                code = worker.poll()
                if code is None:
                    continue
                ran = now - worker.started_at
                if ran >= self.stable_after:
                    backoff = self.backoff_first
                worker.kill_group()  # its cluster's processes go with it
                self.say(
                    f"The worker stopped (status {code}) after {ran:.0f} s; "
                    f"restarting it in {backoff:g} s."
                )
                restart_at = now + backoff
                backoff = min(backoff * 2, self.backoff_max)
            elif now >= restart_at:
                restart_at = None
                worker.start()
                self.say(f"Worker restarted (pid {worker.pid}).")
        return 0
