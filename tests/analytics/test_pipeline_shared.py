"""The pipeline's shared passes give exactly what the public functions give.

``run_pipeline`` computes the summary and the rhythm in one pass, both cohort tables from one
per-(customer, month) table, and (on DuckDB) the usual order and the basket counts from one
grouping of the lines by transaction. These tests compare each shared pass with the public
functions on data with the awkward cases: same-day repeats, refunds, a pre-1970 purchase,
transactions after the observation end, walk-in lines without a customer, one transaction whose
lines name two customers, an item repeated within a basket.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from langganan.analytics import pipeline
from langganan.analytics.baskets import basket_counts
from langganan.analytics.cohorts import cohort_retention, cohort_tables, revenue_by_customer_type
from langganan.analytics.engines import get_engine
from langganan.analytics.habits import purchase_rhythm, usual_order
from langganan.analytics.summary import summarize

SEED = 20260523
END = "2023-11-30"


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    n = 2500
    start = np.datetime64("2023-01-01T00:00:00", "s")
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 200, n),
            "occurred_at": pd.to_datetime(
                start + rng.integers(0, 400 * 86400, n).astype("timedelta64[s]")
            ),
            "total": rng.integers(-2, 60, n) * 1_000,
        }
    )
    edge = pd.DataFrame(
        {
            "customer_id": [900, 900, 900, 901, 901, 902],
            "occurred_at": pd.to_datetime(
                [
                    "2023-03-01 00:00",
                    "2023-03-01 23:59:59",
                    "2023-03-02 00:00",
                    "1969-12-31 22:00",
                    "2023-01-02 06:00",
                    "2024-01-05 10:00",  # only after the observation end
                ],
                format="ISO8601",
            ),
            "total": [5_000, -5_000, 1_000, 1_500, 2_500, 9_000],
        }
    )
    return pd.concat([frame, edge], ignore_index=True)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    n = 5000
    menu = np.array(["kopi", "teh", "roti", "nasi", "ayam", "es", "mie", "sate", "Zebra"])
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 120, n).astype(float),
            "transaction_id": rng.integers(0, 1500, n),
            "product": menu[rng.integers(0, len(menu), n)],
        }
    )
    frame.loc[frame["transaction_id"] % 17 == 0, "customer_id"] = np.nan  # walk-ins
    extra = pd.DataFrame(
        {
            "customer_id": [7.0, 8.0, np.nan, 7.0, 7.0],
            "transaction_id": [5000, 5000, 5000, 5001, 5001],  # 5000: two customers + walk-in
            "product": ["kopi", "teh", "roti", "kopi", "kopi"],  # 5001: kopi twice
        }
    )
    return pd.concat([frame, extra], ignore_index=True).astype({"customer_id": "Int64"})


@pytest.mark.parametrize("end", [None, END])
def test_summary_and_rhythm_in_one_pass(transactions, end):
    engine = get_engine("duckdb")
    summary, rhythm, extra = pipeline._summary_and_rhythm(
        engine,
        transactions,
        customer="customer_id",
        timestamp="occurred_at",
        amount="total",
        end=end,
    )
    expected = summarize(transactions, observation_end=end)
    assert_same(summary, expected)
    assert summary.attrs == expected.attrs
    full = purchase_rhythm(transactions).drop(columns="last_purchase")
    assert_same(rhythm, full.loc[expected.index])
    _check_model_columns(transactions, extra, end)


def _check_model_columns(transactions, extra, end) -> None:
    """litt and the calibration/holdout columns, recomputed from the purchase days."""
    frame = (
        pd.DataFrame(transactions) if not isinstance(transactions, pd.DataFrame) else transactions
    )
    days = pd.to_datetime(frame["occurred_at"]).dt.normalize()
    stop = pd.Timestamp(end).normalize() if end is not None else days.max()
    holdout = extra.attrs["holdout_days"]
    span = (stop - days.min()).days
    assert holdout == min(90, span // 3)
    cal_end = stop - pd.Timedelta(days=holdout)
    kept = frame.assign(day=days)[days <= stop]
    for customer, group in kept.groupby("customer_id"):
        unique = np.sort(group["day"].unique())
        gaps = np.diff(unique) / np.timedelta64(1, "D")
        row = extra.loc[customer]
        assert row["litt"] == pytest.approx(np.log(gaps).sum())
        in_cal = unique[unique <= cal_end.to_datetime64()]
        assert row["cal_periods"] == len(in_cal)
        assert row["holdout_periods"] == len(unique) - len(in_cal)
        if len(in_cal):
            cal_gaps = np.diff(in_cal) / np.timedelta64(1, "D")
            assert row["cal_litt"] == pytest.approx(np.log(cal_gaps).sum())
            assert row["cal_T"] == (cal_end - pd.Timestamp(in_cal[0])).days
            assert row["cal_recency"] == (pd.Timestamp(in_cal[-1]) - pd.Timestamp(in_cal[0])).days


@pytest.mark.parametrize("end", [None, END])
def test_cohort_tables_in_one_pass(transactions, end):
    retention, mix = cohort_tables(transactions, observation_end=end)
    assert_same(retention, cohort_retention(transactions, observation_end=end))
    assert_same(mix, revenue_by_customer_type(transactions, observation_end=end))


@pytest.mark.parametrize("top", [1, 3, 20])
def test_usual_order_and_baskets_from_transaction_masks(lines, top):
    shared = pipeline._lines_shared(
        get_engine("duckdb"),
        lines,
        customer="customer_id",
        transaction="transaction_id",
        item="product",
        top=top,
    )
    assert shared is not None
    usual, counts = shared
    assert_same(usual, usual_order(lines, top=top))
    expected = basket_counts(lines, max_size=3)
    assert counts.n_baskets == expected.n_baskets
    for part in ("items", "pairs", "triples"):
        assert_same(getattr(counts, part), getattr(expected, part))


def test_many_items_fall_back_to_the_public_queries():
    many = pd.DataFrame(
        {"customer_id": 1, "transaction_id": np.arange(70), "product": [f"p{i}" for i in range(70)]}
    )
    shared = pipeline._lines_shared(
        get_engine("duckdb"),
        many,
        customer="customer_id",
        transaction="transaction_id",
        item="product",
        top=3,
    )
    assert shared is None


@pytest.mark.usefixtures("spark")
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
def test_shared_passes_on_spark(transactions):
    engine = get_engine("spark")
    summary, rhythm, extra = pipeline._summary_and_rhythm(
        engine,
        transactions,
        customer="customer_id",
        timestamp="occurred_at",
        amount="total",
        end=END,
    )
    duck_summary, duck_rhythm, duck_extra = pipeline._summary_and_rhythm(
        get_engine("duckdb"),
        transactions,
        customer="customer_id",
        timestamp="occurred_at",
        amount="total",
        end=END,
    )
    pd.testing.assert_frame_equal(summary, duck_summary, check_exact=False, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(rhythm, duck_rhythm, check_exact=False, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(extra, duck_extra, check_exact=False, rtol=1e-9, atol=1e-9)
    assert extra.attrs["holdout_days"] == duck_extra.attrs["holdout_days"]
    for spark_part, duck_part in zip(
        cohort_tables(transactions, observation_end=END, engine="spark"),
        cohort_tables(transactions, observation_end=END),
        strict=True,
    ):
        pd.testing.assert_frame_equal(spark_part, duck_part, check_exact=False, rtol=1e-9)
    assert (
        pipeline._lines_shared(
            engine, pd.DataFrame(), customer="c", transaction="t", item="i", top=3
        )
        is None
    )


def test_the_pipelines_model_columns_equal_the_public_functions(transactions):
    from langganan.analytics import purchase_models
    from langganan.analytics.btyd import GammaGamma, customer_lifetime_value
    from langganan.analytics.btyd.priors import default_prior

    positive = transactions[transactions["total"] > 0]
    result = pipeline.run_pipeline(
        positive, settings=pipeline.PipelineSettings(observation_end=END, fit_pareto=False)
    )
    frame = result.customers
    assert frame["clv"].notna().any()
    f, r, t_end, mv = (
        frame[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value")
    )
    t_end = np.maximum(t_end, 0.5)
    observed = frame["T"].to_numpy() > 0
    chosen = result.models["choice"]["model"]
    assert chosen in ("mbg_cnbd", "pareto_nbd")
    model = purchase_models._make(chosen, default_prior(chosen))
    fit_args = [f[observed], r[observed], frame["T"].to_numpy(float)[observed]]
    if chosen == "mbg_cnbd":
        fit_args.append(result.customers["litt"].to_numpy(float)[observed])
    model.fit(*fit_args)
    gg = GammaGamma().fit(f[f > 0], mv[f > 0])
    np.testing.assert_allclose(
        frame["clv"], customer_lifetime_value(model, gg, f, r, t_end, mv), rtol=1e-9
    )
    np.testing.assert_allclose(
        frame["expected_purchases_90"], model.expected_purchases(90, f, r, t_end), rtol=1e-9
    )
    np.testing.assert_allclose(frame["p_alive"], model.probability_alive(f, r, t_end), rtol=1e-9)
    assert (frame["clv_low"] <= frame["clv"]).all() and (frame["clv"] <= frame["clv_high"]).all()
