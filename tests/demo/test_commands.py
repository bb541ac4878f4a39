"""`langganan demo` and `langganan serve` from the command line."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate

from langganan.cli import cli
from langganan.core.models import Merchant
from langganan.demo.commands import default_workers, gunicorn_argv

DEMO_ARGS = ["demo", "--customers", "60", "--seed", "4", "--end", "2025-06-30"]


def _password(output: str) -> str:
    match = re.search(r"^\s*Password\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.mark.django_db
def test_demo_builds_and_prints_credentials_that_authenticate():
    result = CliRunner().invoke(cli, DEMO_ARGS)
    assert result.exit_code == 0, result.output
    assert "Built Kopi Langganan (demo): 60 customers" in result.output
    assert "http://127.0.0.1:8000" in result.output
    assert re.search(r"^\s*Owner\s+demo\b", result.output, re.MULTILINE)
    user = authenticate(username="demo", password=_password(result.output))
    assert user is not None and not user.is_superuser and not user.is_staff


@pytest.mark.django_db
def test_demo_on_an_existing_merchant_says_so_and_still_gives_a_working_login():
    runner = CliRunner()
    assert runner.invoke(cli, DEMO_ARGS).exit_code == 0
    result = runner.invoke(cli, DEMO_ARGS)
    assert result.exit_code == 0, result.output
    assert "already exists" in result.output and "--replace" in result.output
    assert authenticate(username="demo", password=_password(result.output)) is not None


@pytest.mark.django_db
def test_demo_replace_rebuilds_under_another_slug_and_writes_the_truth(tmp_path):
    runner = CliRunner()
    args = [*DEMO_ARGS, "--slug", "kopi-test", "--truth", str(tmp_path / "t.csv")]
    assert runner.invoke(cli, args).exit_code == 0
    first_pk = Merchant.objects.get(slug="kopi-test").pk
    result = runner.invoke(cli, [*args, "--replace"])
    assert result.exit_code == 0, result.output
    assert Merchant.objects.get(slug="kopi-test").pk != first_pk
    assert "Truth for 60 customers written" in result.output
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 2 + 1 + 60


def _api_key(output: str) -> str:
    match = re.search(r"^\s*API key\s+(lg_\S+)\s", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.mark.django_db
def test_demo_prints_an_api_key_of_the_demo_outlet_and_a_rerun_replaces_it():
    from langganan.api.models import ApiKey
    from langganan.api.selectors import api_key_authenticate

    runner = CliRunner()
    first = runner.invoke(cli, DEMO_ARGS)
    assert first.exit_code == 0, first.output
    key = api_key_authenticate(raw_key=_api_key(first.output))
    assert key is not None and key.merchant.slug == "demo" and key.outlet.code == "JKT-01"
    assert "/api/v1/docs" in first.output
    second = runner.invoke(cli, DEMO_ARGS)  # the merchant exists: a new key, the old one revoked
    assert second.exit_code == 0, second.output
    assert api_key_authenticate(raw_key=_api_key(first.output)) is None
    assert api_key_authenticate(raw_key=_api_key(second.output)) is not None
    assert ApiKey.objects.filter(merchant__slug="demo", revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_the_demo_api_key_records_a_sale_and_replace_still_works():
    from django.test import Client

    from langganan.sales.models import Product

    runner = CliRunner()
    result = runner.invoke(cli, DEMO_ARGS)
    product = Product.objects.filter(merchant__slug="demo").order_by("pk").first()
    response = Client().post(
        "/api/v1/transactions",
        {"lines": [{"product_id": product.pk, "quantity": 1}], "payment_method": "qris"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {_api_key(result.output)}", "Idempotency-Key": "d1"},
    )
    assert response.status_code == 201, response.content
    replaced = runner.invoke(cli, [*DEMO_ARGS, "--replace"])  # keys do not block the rebuild
    assert replaced.exit_code == 0, replaced.output
    assert "Built Kopi Langganan (demo)" in replaced.output


def test_demo_rejects_a_malformed_end_date():
    result = CliRunner().invoke(cli, ["demo", "--end", "30/06/2025"])
    assert result.exit_code == 2
    assert "--end" in result.output


def test_serve_runs_this_pythons_gunicorn_on_the_wsgi_app():
    argv = gunicorn_argv(host="127.0.0.1", port=8000, workers=2)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert "langganan.config.wsgi:application" in argv
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"


def test_serve_uses_threaded_workers_only_when_asked_for_threads():
    sync = gunicorn_argv(host="127.0.0.1", port=8000, workers=5)
    assert sync[sync.index("--worker-class") + 1] == "sync"
    assert sync[sync.index("--workers") + 1] == "5"
    threaded = gunicorn_argv(host="127.0.0.1", port=8000, workers=2, threads=8, access_log=False)
    assert threaded[threaded.index("--worker-class") + 1] == "gthread"
    assert threaded[threaded.index("--threads") + 1] == "8"
    assert "--access-logfile" not in threaded


def test_serve_defaults_to_two_workers_per_core_and_one():
    assert default_workers() == 2 * (os.cpu_count() or 1) + 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


@pytest.mark.slow
def test_serve_answers_and_serves_static_files_with_debug_off(tmp_path):
    """Starts gunicorn on a free port, polls it for at most 30 s, then stops it."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(LANGGANAN_DATA_DIR=str(tmp_path / "data"), DEBUG="0")
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "langganan.cli", "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", "1"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _body = _get(base + "/admin/login/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert status == 200, (tmp_path / "serve.log").read_text()
        status, body = _get(base + "/static/admin/css/base.css")
        assert status == 200 and b"{" in body
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert f"Langganan at http://127.0.0.1:{port}" in output
