"""Test set-up shared by the whole suite.

The suite runs once per database: SQLite by default, PostgreSQL when DATABASE_URL points at
it (``make test`` does both). When PostgreSQL is asked for but cannot be reached, the run stops
with a clear message: as a failure when LANGGANAN_REQUIRE_POSTGRES=1 (CI), as a skip otherwise.
"""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("LANGGANAN_DATA_DIR", tempfile.mkdtemp(prefix="langganan-test-"))
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")


def _postgres_problem(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):  # the test database is created on the server anyway
            return None
        return str(exc).strip()


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        problem = _postgres_problem(url)
        if problem:
            if os.environ.get("LANGGANAN_REQUIRE_POSTGRES") == "1":
                pytest.exit(f"PostgreSQL is required but unreachable: {problem}", returncode=1)
            pytest.exit(
                f"SKIPPED the PostgreSQL run: cannot reach {url} ({problem}). "
                "Start PostgreSQL or set LANGGANAN_REQUIRE_POSTGRES=1 to make this an error.",
                returncode=0,
            )


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    return f"langganan database: {settings.DATABASES['default']['ENGINE']}"


@pytest.fixture
def merchant(db):
    from tests.factories import MerchantFactory

    return MerchantFactory()


@pytest.fixture
def outlet(merchant):
    from tests.factories import OutletFactory

    return OutletFactory(merchant=merchant)


@pytest.fixture(autouse=True)
def _forget_remembered_sign_in_locks(settings):
    """Each worker remembers locked addresses in memory (langganan.staff.guard); a test's
    database is rolled back after it, so its memory must go too. The machine's one
    password-check slot is a file in the data folder, which test runs of the same checkout
    share: a login in a test waits for it instead of being told "coba lagi"."""
    settings.LOGIN_PASSWORD_CHECK_WAIT = 30
    yield
    from langganan.staff.guard import forget_all

    forget_all()
