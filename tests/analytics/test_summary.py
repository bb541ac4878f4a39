"""summarize(): BTYD summaries on hand-made data and on the published CDNOW sample."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from langganan.analytics.summary import SUMMARY_COLUMNS, summarize

BTYD = ["frequency", "recency", "T", "monetary_value", "orders", "total_spend"]


def rows(result: pd.DataFrame, columns=BTYD) -> dict:
    return {k: tuple(float(x) for x in v) for k, v in result[columns].iterrows()}


def test_daily_summary_counts_same_day_purchases_once_and_includes_refunds(tiny_transactions):
    result = summarize(tiny_transactions)
    assert list(result.columns) == list(SUMMARY_COLUMNS)
    assert result.index.name == "customer_id"
    # a: days 1 Jan (10k + 5k), 4 Jan (20k), 15 Jan (refund -4k); observation ends 1 Feb.
    # c: 2 Jan, 9 Jan, 1 Feb.
    assert rows(result) == {
        "a": (2, 14, 31, (20_000 - 4_000) / 2, 4, 31_000),
        "b": (0, 0, 22, 0, 1, 7_000),
        "c": (2, 30, 30, (6_000 + 9_000) / 2, 3, 18_000),
    }
    assert result.loc["a", "first_purchase"] == pd.Timestamp("2024-01-01 08:00")
    assert result.loc["a", "last_purchase"] == pd.Timestamp("2024-01-15 09:00")
    assert result.loc["a", "periods"] == 3
    assert result["frequency"].dtype == np.int64


def test_transactions_after_observation_end_are_left_out(tiny_transactions):
    result = summarize(tiny_transactions, observation_end="2024-01-20")
    assert rows(result) == {
        "a": (2, 14, 19, 8_000, 4, 31_000),
        "b": (0, 0, 10, 0, 1, 7_000),
        "c": (1, 7, 18, 6_000, 2, 9_000),
    }


def test_observation_end_keeps_its_whole_day(tiny_transactions):
    at_midnight = summarize(tiny_transactions, observation_end=dt.datetime(2024, 2, 1, 0, 0))
    assert at_midnight.loc["c", "frequency"] == 2
    assert at_midnight.loc["c", "T"] == 30


def test_customers_first_seen_after_observation_end_are_absent(tiny_transactions):
    result = summarize(tiny_transactions, observation_end="2024-01-05")
    assert sorted(result.index) == ["a", "c"]
    assert summarize(tiny_transactions, observation_end="2023-12-31").empty


@pytest.mark.parametrize(
    ("period", "end", "start"),
    [("D", None, "2024-02-01"), ("W", None, "2024-01-29"), ("D", "2023-12-31", None)],
)
def test_summary_is_written_and_read_back_with_parquet(
    tiny_transactions, tmp_path: Path, period, end, start
):
    """The attrs are JSON values (pandas refuses others when writing Parquet): the observation
    period is its start as an ISO string, which ``pd.Timestamp`` reads back."""
    result = summarize(tiny_transactions, period=period, observation_end=end)
    expected_start = None if start is None else pd.Timestamp(start).isoformat()
    assert result.attrs == {"observation_period": expected_start, "period": period, "unit_days": 1}
    path = tmp_path / "s.parquet"
    result.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, result)
    assert back.attrs == result.attrs
    if start is not None:
        assert pd.Timestamp(back.attrs["observation_period"]) == pd.Timestamp(start)


def test_weekly_periods_in_weeks(tiny_transactions):
    # Weeks start on Monday: 1 Jan, 8 Jan, 15 Jan … ; 1 Feb is in the week of 29 Jan.
    result = summarize(tiny_transactions, period="W", unit="W")
    assert rows(result) == {
        "a": (1, 2, 4, -4_000, 4, 31_000),
        "b": (0, 0, 3, 0, 1, 7_000),
        "c": (2, 4, 4, 7_500, 3, 18_000),
    }
    assert result.loc["c", "first_period"] == pd.Timestamp("2024-01-01")


def test_weekly_periods_in_days_are_multiples_of_seven(tiny_transactions):
    result = summarize(tiny_transactions, period="W", unit="D")
    assert result["recency"].tolist() == [14, 0, 28]
    assert result["T"].tolist() == [28, 21, 28]


def test_daily_periods_in_weeks_are_fractional(tiny_transactions):
    result = summarize(tiny_transactions, unit="W")
    assert result.loc["a", "recency"] == pytest.approx(2.0)
    assert result.loc["a", "T"] == pytest.approx(31 / 7)
    assert result.loc["c", "T"] == pytest.approx(30 / 7)


def test_timezone_aware_timestamps_are_cut_on_their_local_date(tiny_transactions):
    aware = tiny_transactions.assign(
        occurred_at=tiny_transactions["occurred_at"].dt.tz_localize("Asia/Jakarta")
    )
    pd.testing.assert_frame_equal(summarize(aware), summarize(tiny_transactions))
    # 23:30 in Jakarta on 1 Jan is 16:30 UTC: still 1 January, whatever the machine's zone.
    late = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "occurred_at": pd.to_datetime(["2024-01-01 23:30", "2024-01-02 00:30"]).tz_localize(
                "Asia/Jakarta"
            ),
            "total": [1, 1],
        }
    )
    assert summarize(late).loc[1, "frequency"] == 1


def test_decimal_amounts_are_summed_exactly():
    data = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "total": [Decimal("0.10"), Decimal("0.20"), Decimal("1234567890123.45")],
        }
    )
    result = summarize(data)
    assert result.loc[1, "total_spend"] == 1234567890123.75
    assert result.loc[1, "monetary_value"] == pytest.approx((0.20 + 1234567890123.45) / 2)


def test_custom_column_names_and_index_name():
    data = pd.DataFrame(
        {"member": [7, 7], "waktu": pd.to_datetime(["2024-03-01", "2024-03-04"]), "nilai": [1, 2]}
    )
    result = summarize(data, customer="member", timestamp="waktu", amount="nilai")
    assert result.index.name == "member"
    assert result.loc[7, "recency"] == 3


def test_missing_column_is_a_clear_error(tiny_transactions):
    with pytest.raises(KeyError, match="timestamp='when'"):
        summarize(tiny_transactions, timestamp="when")


def test_bad_period_and_unit_are_refused(tiny_transactions):
    with pytest.raises(ValueError, match="period"):
        summarize(tiny_transactions, period="M")
    with pytest.raises(ValueError, match="unit"):
        summarize(tiny_transactions, unit="H")


def _aware(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(occurred_at=frame["occurred_at"].dt.tz_localize("Asia/Jakarta"))


@pytest.mark.parametrize("aware", [False, True], ids=["naive", "tz-aware"])
def test_every_input_kind_gives_the_same_summary(tiny_transactions, tmp_path: Path, aware):
    frame = _aware(tiny_transactions) if aware else tiny_transactions
    expected = summarize(tiny_transactions)
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    con = duckdb.connect()
    inputs = {
        "arrow": pa.Table.from_pandas(frame, preserve_index=False),
        "duckdb": con.from_arrow(pa.Table.from_pandas(frame, preserve_index=False)),
        "parquet": tmp_path / "t.parquet",
        "parquet-str": str(tmp_path / "t.parquet"),
        "csv": tmp_path / "t.csv",
    }
    for kind, data in inputs.items():
        result = summarize(data)
        pd.testing.assert_frame_equal(result, expected, obj=kind)


# ---------------------------------------------------------------------------------- CDNOW


def _lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("lifetimes (a dev dependency) ships the CDNOW files; install the dev extra")
    return Path(spec.submodule_search_locations[0]) / "datasets"


@pytest.fixture(scope="module")
def cdnow_sample_summary() -> pd.DataFrame:
    sample = pd.read_csv(
        _lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    sample["occurred_at"] = pd.to_datetime(sample["date"], format="%Y%m%d")
    # The classic 39-week calibration period: first purchases in Q1 1997, ends 30 Sep 1997.
    return summarize(sample, amount="dollars", observation_end="1997-09-30", unit="W")


def test_cdnow_sample_reproduces_the_published_calibration_summary(cdnow_sample_summary):
    """``cdnow_customers_summary.csv`` (Fader, Hardie & Lee's 2,357-customer sample, as shipped
    with lifetimes): x, t_x and T in weeks = days / 7, rounded to 2 decimals. Same-day purchases
    count once, T runs to 30 Sep 1997: all three columns match exactly after rounding."""
    published = pd.read_csv(_lifetimes_datasets() / "cdnow_customers_summary.csv", index_col="ID")
    ours = cdnow_sample_summary.reindex(published.index)
    assert len(cdnow_sample_summary) == len(published) == 2357
    assert (ours["frequency"] == published["frequency"]).all()
    assert (ours["recency"].round(2) == published["recency"]).all()
    assert (ours["T"].round(2) == published["T"]).all()


def test_cdnow_sample_monetary_value_matches_published_zbar(cdnow_sample_summary):
    """zbar in ``cdnow_customers_summary_with_transactions.csv`` is rounded to cents (half up,
    while float rounding of e.g. 22.345 goes down), so the match is within half a cent."""
    published = pd.read_csv(
        _lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv", index_col="ID"
    )
    ours = cdnow_sample_summary.reindex(published.index)
    assert (ours["monetary_value"] - published["zbar"]).abs().max() <= 0.005 + 1e-9
