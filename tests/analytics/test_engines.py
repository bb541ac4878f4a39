"""The engine registry, the input adapter and the DuckDB → Spark SQL translation."""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow as pa
import pytest

from langganan.analytics import engines, sql
from langganan.analytics.engines import (
    DuckDBEngine,
    Engine,
    EngineUnavailableError,
    get_engine,
    quote_identifier,
    to_spark_sql,
)


def test_get_engine_by_name_and_instance():
    engine = get_engine("duckdb")
    assert isinstance(engine, DuckDBEngine) and isinstance(engine, Engine)
    assert get_engine(engine) is engine
    assert get_engine("DuckDB").name == "duckdb"
    with pytest.raises(ValueError, match="Unknown engine"):
        get_engine("sqlite")


def test_register_and_query_return_pandas():
    engine = get_engine("duckdb")
    engine.register("t", pd.DataFrame({"x": [1, 2, 3]}))
    assert engine.columns("t") == {"x": "bigint"}
    result = engine.query("SELECT SUM(x) AS s, CAST(SUM(x) AS INTEGER) AS i FROM t")
    assert result["s"].iloc[0] == 6 and str(result["i"].dtype) == "int64"


def test_arrow_timezone_aware_columns_become_local_wall_clock():
    stamps = pa.array([pd.Timestamp("2024-01-01 23:30", tz="Asia/Jakarta")])
    engine = get_engine("duckdb")
    engine.register("t", pa.table({"ts": stamps}))
    value = engine.query("SELECT ts FROM t")["ts"].iloc[0]
    assert value == pd.Timestamp("2024-01-01 23:30")


def test_unsupported_input_is_a_clear_error():
    with pytest.raises(TypeError, match="Unsupported input"):
        get_engine("duckdb").register("t", [1, 2, 3])
    with pytest.raises(ValueError, match="format"):
        get_engine("duckdb").register("t", "data.xlsx")


def test_identifiers_are_quoted_and_escaped():
    assert quote_identifier("total") == '"total"'
    assert quote_identifier('we"ird') == '"we""ird"'
    with pytest.raises(ValueError):
        quote_identifier("")
    engine = get_engine("duckdb")
    engine.register("t", pd.DataFrame({'we"ird name': [1]}))
    column = quote_identifier('we"ird name')
    assert engine.query(f"SELECT {column} AS v FROM t")["v"][0] == 1


@pytest.mark.parametrize(
    "name",
    [
        "SUMMARY",
        "PURCHASE_RHYTHM",
        "USUAL_ORDER",
        "BASKETS",
        "BASKET_ITEMS",
        "FREQUENT_BASKET_ITEMS",
        "BASKET_PAIRS",
        "BASKET_TRIPLES",
        "COHORT_RETENTION",
        "REVENUE_BY_CUSTOMER_TYPE",
    ],
)
def test_every_query_translates_to_spark_sql(name):
    spark_sql = to_spark_sql(getattr(sql, name))
    assert "ISODOW" not in spark_sql.upper()  # weekday numbering differs: never used
    assert '"' not in spark_sql  # identifiers became backticks
    if "ARG_MIN" in getattr(sql, name):
        assert "MIN_BY(" in spark_sql


def test_spark_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(engines, "_spark_shared", None)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineUnavailableError, match=r"langganan\[spark\]"):
        engines.spark_session()


def test_java_missing_is_a_clear_error(monkeypatch):
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    monkeypatch.setattr(engines, "_spark_shared", None)
    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setattr(engines.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineUnavailableError, match="Java"):
        engines.spark_session()
