import json
import os

from click.testing import CliRunner
from django.contrib.auth import authenticate

from langganan.cli import cli
from langganan.core.models import Membership, Merchant, Outlet


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_merchant_create_and_list_as_json(db):
    assert run("merchant", "create", "warung-bu-sri", "--name", "Warung Bu Sri").exit_code == 0
    result = run("merchant", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["slug"], r["name"], r["outlets"], r["customers"]) for r in rows] == [
        ("warung-bu-sri", "Warung Bu Sri", 0, 0)
    ]


def test_creating_a_merchant_twice_is_a_clear_error(db):
    run("merchant", "create", "kopi", "--name", "Kopi")
    result = run("merchant", "create", "kopi", "--name", "Kopi")
    assert result.exit_code == 1
    assert "Error: a merchant with this slug already exists" in result.output


def test_an_invalid_slug_is_refused(db):
    result = run("merchant", "create", "Bad Slug!", "--name", "x")
    assert result.exit_code == 1
    assert "slug" in result.output
    assert not Merchant.objects.exists()


def test_outlet_create_for_a_merchant(db):
    run("merchant", "create", "kopi", "--name", "Kopi")
    result = run("outlet", "create", "--merchant", "kopi", "JKT-01", "--name", "Kemang")
    assert result.exit_code == 0, result.output
    assert Outlet.objects.get().code == "JKT-01"
    again = run("outlet", "create", "--merchant", "kopi", "JKT-01", "--name", "Kemang")
    assert "already has an outlet with this code" in again.output


def test_user_create_with_role_prints_a_generated_password_that_works(db):
    run("merchant", "create", "kopi", "--name", "Kopi")
    result = run("user", "create", "--merchant", "kopi", "--username", "sari", "--role", "cashier")
    assert result.exit_code == 0, result.output
    password = result.output.split("Password (shown once): ")[1].strip()
    user = authenticate(username="sari", password=password)
    assert user is not None
    assert Membership.objects.get(user=user).role == "cashier"


def test_user_create_for_an_unknown_merchant_is_a_clear_error(db):
    result = run("user", "create", "--merchant", "nope", "--username", "x", "--role", "owner")
    assert result.exit_code == 1
    assert "no merchant with this slug: nope" in result.output


def test_a_command_on_a_database_never_migrated_says_to_migrate(tmp_path):
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "LANGGANAN_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "langganan.cli", "loyalty", "check", "--merchant", "demo"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert "langganan migrate" in done.stderr and "Traceback" not in done.stderr
