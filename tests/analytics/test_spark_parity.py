"""DuckDB and Spark run the same SQL and must agree (floats to 1e-9).

Needs pyspark and Java: skipped with a message locally when missing, a failure in CI (see
conftest.py). One local SparkSession is shared by the whole test session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.baskets import basket_counts
from langganan.analytics.cohorts import cohort_retention, revenue_by_customer_type
from langganan.analytics.habits import purchase_rhythm, usual_order
from langganan.analytics.summary import summarize

SEED = 20240611
pytestmark = [
    pytest.mark.usefixtures("spark"),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    """A few thousand transactions plus edge cases: same-day repeats, refunds, midnight,
    a pre-1970 purchase, a single-purchase customer and a walk-in without customer."""
    print(f"random seed {SEED}")
    rng = np.random.default_rng(SEED)
    n = 3000
    start = np.datetime64("2023-01-01T00:00:00", "s")
    seconds = rng.integers(0, 400 * 86400, n)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{c:03d}" for c in rng.integers(0, 300, n)],
            "occurred_at": pd.to_datetime(start + seconds.astype("timedelta64[s]")),
            "total": rng.integers(-2, 60, n) * 1_000,
        }
    )
    edge = pd.DataFrame(
        {
            "customer_id": ["E1", "E1", "E1", "E2", "E3", "E3", None],
            "occurred_at": pd.to_datetime(
                [
                    "2023-03-01 00:00",
                    "2023-03-01 23:59:59",
                    "2023-03-02 00:00",
                    "2023-05-05 12:00",
                    "1969-12-31 22:00",
                    "2023-01-02 06:00",
                    "2023-02-02 02:00",
                ],
                format="ISO8601",
            ),
            "total": [5_000, -5_000, 1_000, 7_000, 1_500, 2_500, 9_000],
        }
    )
    return pd.concat([frame, edge], ignore_index=True)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    n = 4000
    menu = np.array(["kopi", "teh", "roti", "nasi", "ayam", "es", "mie", "sate"])
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 80, n),
            "transaction_id": rng.integers(0, 900, n),
            "product": menu[rng.integers(0, len(menu), n)],
            "qty": rng.integers(1, 4, n),
        }
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"period": "W", "unit": "W"},
        {"period": "W", "unit": "D"},
        {"unit": "W", "observation_end": "2023-09-30"},
    ],
    ids=["daily", "weekly", "weekly-in-days", "calibration"],
)
def test_summarize(synthetic, options):
    assert_same(summarize(synthetic, **options), summarize(synthetic, engine="spark", **options))


def test_summarize_from_files_and_spark_dataframe(synthetic, tmp_path: Path, spark):
    aware = synthetic.assign(occurred_at=synthetic["occurred_at"].dt.tz_localize("Asia/Jakarta"))
    aware.to_parquet(tmp_path / "t.parquet")
    aware.to_csv(tmp_path / "t.csv", index=False)
    expected = summarize(synthetic)
    assert_same(expected, summarize(tmp_path / "t.parquet", engine="spark"))
    assert_same(expected, summarize(tmp_path / "t.csv", engine="spark"))
    frame = spark.createDataFrame(synthetic.dropna(subset=["customer_id"]))
    assert_same(expected, summarize(frame, engine="spark"))


def test_purchase_rhythm(synthetic):
    assert_same(purchase_rhythm(synthetic), purchase_rhythm(synthetic, engine="spark"))


def test_usual_order(lines):
    assert_same(
        usual_order(lines, quantity="qty", top=3),
        usual_order(lines, quantity="qty", top=3, engine="spark"),
    )


def test_basket_counts(lines):
    duck = basket_counts(lines, min_count=2)
    spark = basket_counts(lines, min_count=2, engine="spark")
    assert duck.n_baskets == spark.n_baskets
    for part in ("items", "pairs", "triples"):
        assert_same(getattr(duck, part), getattr(spark, part))
    assert len(duck.triples) > 0


def test_cohorts(synthetic):
    assert_same(cohort_retention(synthetic), cohort_retention(synthetic, engine="spark"))
    assert_same(
        revenue_by_customer_type(synthetic), revenue_by_customer_type(synthetic, engine="spark")
    )
