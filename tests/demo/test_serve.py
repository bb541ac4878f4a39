"""`langganan serve`: the web app and the worker together, supervised; `langganan demo`'s
logins; the Makefile's demo target.

The end-to-end tests start the real command in a subprocess on its own SQLite file in
``tmp_path`` (whatever database the suite itself runs on), so they pass on both of
``make test``'s runs. Processes are found by a /proc scan: the descendants of serve and every
member of their process groups.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate

from langganan.cli import cli
from langganan.demo.serving import Supervisor, group_members, stop_children

ROOT = Path(__file__).resolve().parents[2]
DEMO_ARGS = ["demo", "--customers", "60", "--seed", "4", "--end", "2025-06-30"]
PASSWORD = "serve-test-Pw-7311"
#: a merchant with an owner and three customers who accept WhatsApp, and a draft broadcast to
#: all of them with no holdout: activating it queues three messages
SETUP = f"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langganan.config.settings")
import django
django.setup()
from langganan.campaigns import services
from langganan.core.models import Role
from langganan.core.services import merchant_create, outlet_create, staff_user_create
from langganan.customers.services import customer_create

merchant = merchant_create(slug="warung", name="Warung Serve", business_type="warung")
outlet_create(merchant=merchant, code="PSR-01", name="Pasar")
staff_user_create(merchant=merchant, username="sri", password="{PASSWORD}", role=Role.OWNER)
for i, name in enumerate(["Rina Wati", "Budi Santoso", "Dewi Lestari"]):
    customer_create(
        merchant=merchant, full_name=name, phone=f"+62812555000{{i}}",
        consents={{"whatsapp": True}}, consent_source="test",
    )
template = services.template_create(
    merchant=merchant, name="Promo", body_id="Halo {{salutation}}, ada promo di {{merchant}}!"
)
campaign = services.campaign_create(
    merchant=merchant, name="Promo minggu ini", kind="broadcast", channel="whatsapp",
    template=template, holdout_percent="0",
)
print("CAMPAIGN", campaign.pk)
"""


# -- helpers -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        LANGGANAN_DATA_DIR=str(tmp_path / "data"),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _langganan(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "langganan.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if (stat := _stat(p)) is not None and stat[0] != "Z"}


class Serve:
    """`langganan serve` in a subprocess; its output collected line by line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "langganan.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--workers", "1", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            assert self.process.poll() is None, f"serve exited while waiting for {what}"
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {timeout} s; output:\n{self.output}")

    def line(self, pattern: str) -> re.Match | None:
        for text in list(self.lines):
            if match := re.search(pattern, text):
                return match
        return None

    def processes(self) -> set[int]:
        """Every live process of this run: serve's descendants and their groups' members."""
        pids = _descendants(self.process.pid)
        groups = {stat[2] for p in pids if (stat := _stat(p)) is not None}
        groups.discard(os.getpgid(0))
        for group in groups:
            pids.update(group_members(group))
        return _alive(pids)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._reader.join(timeout=5)

    def kill(self) -> None:
        """Clean-up after a failed test: serve and every process it started."""
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


class Browser:
    """A cookie-keeping HTTP client that posts forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, data: dict[str, str], page: str) -> tuple[int, str, str]:
        """Post ``data`` with the CSRF token of the form on ``page``; returns the status, the
        final URL (redirects followed) and the body."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:2000]
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **data}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, self.base + path, exc.read().decode()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/login/", timeout=5) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _messages(database: Path, campaign_id: int) -> int:
    with sqlite3.connect(database, timeout=20) as db:
        table = "campaigns_message"
        return db.execute(
            f"SELECT count(*) FROM {table} WHERE campaign_id = ?",  # noqa: S608
            (campaign_id,),
        ).fetchone()[0]


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_runs_the_worker_so_a_campaign_activated_in_the_dashboard_queues_its_messages(
    tmp_path,
):
    """Migrate a fresh SQLite file, add a tiny merchant, start `langganan serve`, sign in,
    activate the campaign with the dashboard's own form, and see its messages queued within
    60 s with no other command; then SIGTERM leaves no process of the run behind."""
    env = _env(tmp_path)
    _langganan(env, "migrate")
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, capture_output=True, text=True, check=False
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    campaign_id = int(re.search(r"CAMPAIGN (\d+)", setup.stdout).group(1))
    database = tmp_path / "serve.sqlite3"

    serve = Serve(env)
    try:
        serve.wait_for(lambda: _answers(serve.base), 60, "answer on /login/")
        serve.wait_for(lambda: serve.line(r"^Worker running \(pid \d+\)"), 60, "running worker")
        assert serve.line(rf"^Langganan at http://127\.0\.0\.1:{serve.port}\b")

        browser = Browser(serve.base)
        _status, page = browser.get("/login/")
        status, url, _body = browser.post(
            "/login/", {"username": "sri", "password": PASSWORD}, page
        )
        assert status == 200 and not url.endswith("/login/"), url
        detail = f"/m/warung/campaigns/{campaign_id}/"
        status, page = browser.get(detail)
        assert status == 200 and f"{detail}activate/" in page
        assert _messages(database, campaign_id) == 0
        activated = time.monotonic()
        status, url, page = browser.post(f"{detail}activate/", {}, page)
        assert status == 200 and url.endswith(detail), url

        queued = serve.wait_for(lambda: _messages(database, campaign_id), 60, "queued message")
        print(f"{queued} messages queued {time.monotonic() - activated:.1f} s after activation")
        assert queued == 3

        running = serve.processes()
        assert len(running) >= 4, running  # gunicorn master and worker, the worker's cluster
        assert serve.stop(signal.SIGTERM) == 0, serve.output
        assert _alive(running) == set(), serve.output
        assert serve.line(r"^Stopped\.$"), serve.output
    finally:
        serve.kill()


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_ctrl_c_stops_everything(tmp_path):
    env = _env(tmp_path)
    _langganan(env, "migrate")
    serve = Serve(env)
    try:
        first = serve.wait_for(
            lambda: serve.line(r"^Worker running \(pid (\d+)\)"), 60, "running worker"
        )
        old_pid = int(first.group(1))
        old_group = set(group_members(old_pid))
        assert old_pid in old_group and len(old_group) >= 2, old_group  # it has its cluster
        os.kill(old_pid, signal.SIGKILL)

        serve.wait_for(lambda: serve.line(r"The worker stopped \(status -9\)"), 20, "the death")
        again = serve.wait_for(
            lambda: serve.line(r"^Worker running again \(pid (\d+)\)"), 60, "restarted worker"
        )
        assert int(again.group(1)) != old_pid
        assert _alive(old_group) == set(), "the dead worker's cluster was left running"
        assert serve.line(r"restarting it in 1 s")
        serve.wait_for(lambda: _answers(serve.base), 30, "the web app, which never stopped")

        running = serve.processes()
        assert serve.stop(signal.SIGINT) == 0, serve.output
        assert _alive(running) == set(), serve.output
    finally:
        serve.kill()


@pytest.mark.slow
def test_serve_no_worker_serves_the_web_only(tmp_path):
    env = _env(tmp_path)
    _langganan(env, "migrate")
    serve = Serve(env, "--no-worker")
    try:
        serve.wait_for(lambda: _answers(serve.base), 60, "answer on /login/")
        assert serve.line(r"^Web only \(--no-worker\)")
        assert not any("worker |" in line for line in serve.lines)
        commands = [Path(f"/proc/{p}/cmdline").read_bytes() for p in serve.processes()]
        assert commands and all(b"gunicorn" in c for c in commands), commands
        assert serve.stop() == 0
    finally:
        serve.kill()


# -- the supervisor on plain commands --------------------------------------------------------

#: a leader with a child in its group, like the worker and its cluster
FAMILY = [
    sys.executable,
    "-c",
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
    "print('worker running', flush=True)\n"
    "time.sleep(300)\n",
]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(300)"]


def _until(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_supervisor_restarts_a_dead_worker_with_a_growing_back_off_and_kills_its_group():
    said: list[str] = []
    supervisor = Supervisor(
        web_argv=SLEEPER,
        worker_argv=FAMILY,
        say=said.append,
        backoff_first=0.2,
        backoff_max=0.4,
        grace=5,
    )
    supervisor.web.start()
    supervisor.worker.start()
    watcher = threading.Thread(target=supervisor._watch, daemon=True)
    watcher.start()
    try:
        for start in (1, 2, 3):
            _until(lambda s=start: supervisor._announced == s)
            group = set(group_members(supervisor.worker.pid))
            assert len(group) == 2, group
            os.kill(supervisor.worker.pid, signal.SIGKILL)
            _until(lambda g=group: not _alive(g))
        _until(lambda: supervisor._announced == 4)
    finally:
        supervisor.stop.set()
        watcher.join(timeout=5)
        stop_children([supervisor.web, supervisor.worker], grace=5)
    restarts = [line for line in said if line.startswith("The worker stopped")]
    assert [line.rsplit(" in ", 1)[1] for line in restarts] == ["0.2 s.", "0.4 s.", "0.4 s."]
    assert sum(line.startswith("Worker running again") for line in said) == 3
    assert not group_members(supervisor.web.pid) and not group_members(supervisor.worker.pid)


def test_the_supervisor_stops_when_the_web_server_exits_and_reports_its_status():
    said: list[str] = []
    supervisor = Supervisor(
        web_argv=[sys.executable, "-c", "import sys; sys.exit(3)"],
        worker_argv=FAMILY,
        say=said.append,
        grace=5,
    )
    assert supervisor.run() == 3
    assert "The web server exited (status 3); stopping." in said
    assert not group_members(supervisor.worker.pid)
    assert said[-1] == "Stopped."


def test_the_supervisor_kills_a_group_that_ignores_sigterm_after_the_grace(tmp_path):
    ready = tmp_path / "ready"
    stubborn = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "pathlib.Path(sys.argv[1]).touch()\n"
        "time.sleep(300)\n",
        str(ready),
    ]
    supervisor = Supervisor(web_argv=stubborn, worker_argv=None, say=lambda _t: None, grace=0.5)
    supervisor.web.start()
    _until(ready.exists)
    started = time.monotonic()
    stop_children([supervisor.web], grace=0.5)
    assert time.monotonic() - started < 5
    assert supervisor.web.poll() == -signal.SIGKILL
    assert not group_members(supervisor.web.pid)


# -- what make demo prints ---------------------------------------------------------------------


def _login(output: str, role: str) -> tuple[str, str]:
    match = re.search(rf"^\s*{role}\s+(\S+).*\n\s*Password\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, output
    return match.group(1), match.group(2)


@pytest.mark.django_db
def test_demo_prints_an_owner_and_a_cashier_login_that_authenticate():
    from langganan.core.models import Membership, Role

    result = CliRunner().invoke(cli, DEMO_ARGS)
    assert result.exit_code == 0, result.output
    owner, owner_password = _login(result.output, "Owner")
    cashier, cashier_password = _login(result.output, "Cashier")
    assert owner == "demo" and authenticate(username=owner, password=owner_password)
    user = authenticate(username=cashier, password=cashier_password)
    assert user is not None and not user.is_staff and not user.is_superuser
    membership = Membership.objects.get(user=user, merchant__slug="demo")
    assert membership.role == Role.CASHIER and membership.outlet.code == "JKT-01"
    assert "http://127.0.0.1:8000" in result.output  # run by hand: where to open it, once served


@pytest.mark.django_db
def test_demo_no_hint_prints_the_logins_without_an_address_or_how_to_start_the_server():
    runner = CliRunner()
    assert runner.invoke(cli, DEMO_ARGS).exit_code == 0
    again = runner.invoke(cli, [*DEMO_ARGS, "--no-hint"])  # a rerun: new passwords for both
    assert again.exit_code == 0, again.output
    assert "langganan serve" not in again.output and "http://" not in again.output
    for role in ("Owner", "Cashier"):
        assert authenticate(username=(login := _login(again.output, role))[0], password=login[1])


def test_make_demo_starts_serve_and_no_step_says_how_to_start_it():
    dry = subprocess.run(
        ["make", "-n", "demo", "HOST=127.0.0.2", "PORT=8123", "VENV=.venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    steps = [line for line in dry.splitlines() if "langganan " in line]
    demo = next(line for line in steps if "langganan demo" in line)
    assert "--no-hint" in demo
    assert steps[-1].endswith("langganan serve --host 127.0.0.2 --port 8123"), steps
