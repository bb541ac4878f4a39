"""Fixtures for the analytics engine tests (framework-free: no database).

The Spark tests need pyspark and a Java runtime. When either is missing they are skipped with a
clear message on a developer machine, and FAIL in CI (``CI=true``) or when
``LANGGANAN_REQUIRE_SPARK=1``, so the Spark path is never silently untested there.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest


def _spark_required() -> bool:
    return os.environ.get("LANGGANAN_REQUIRE_SPARK") == "1" or os.environ.get("CI", "").lower() in (
        "1",
        "true",
        "yes",
    )


@pytest.fixture(scope="session")
def spark():
    """The process-wide SparkSession used by ``engine="spark"`` (local[2], UTC, no UI)."""
    from langganan.analytics.engines import EngineUnavailableError, spark_session

    try:
        return spark_session()
    except EngineUnavailableError as exc:
        if _spark_required():
            pytest.fail(f"Spark is required here (CI / LANGGANAN_REQUIRE_SPARK=1): {exc}")
        pytest.skip(f"Spark tests skipped: {exc} Set LANGGANAN_REQUIRE_SPARK=1 to fail instead.")


@pytest.fixture
def tiny_transactions() -> pd.DataFrame:
    """Hand-made transactions with known summaries (see test_summary.py)."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c", "c"],
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-01 08:00",  # Monday
                    "2024-01-01 19:30",  # same day: one period
                    "2024-01-04 12:00",
                    "2024-01-15 09:00",  # a refund
                    "2024-01-10 10:00",
                    "2024-01-02 07:00",
                    "2024-01-09 07:00",
                    "2024-02-01 07:00",  # after observation ends in some tests
                ]
            ),
            "total": [10_000, 5_000, 20_000, -4_000, 7_000, 3_000, 6_000, 9_000],
        }
    )
