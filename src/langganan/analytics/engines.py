"""SQL engines the analytics run on: DuckDB (default, embedded) and Apache Spark (scale-out).

Every aggregation in this package is written once, in DuckDB's SQL dialect, against a few
normalised views (see :mod:`langganan.analytics._inputs`). :class:`DuckDBEngine` runs that SQL as
is; :class:`SparkEngine` translates it with sqlglot (``read="duckdb", write="spark"``) and runs it
on a local or cluster SparkSession. Both hand results back through Arrow, so the pandas dtypes of
the two engines agree.

An engine is cheap to create and owns its own namespace of views (a fresh in-memory DuckDB
connection; a new Spark session sharing the process-wide SparkContext), so two analyses running at
the same time never see each other's ``transactions`` view.

Input adapter (``register``): a pandas DataFrame, a pyarrow Table, a DuckDB relation, a Spark
DataFrame, or a path (``str`` / :class:`~pathlib.Path`) to a Parquet or CSV file (or a directory /
glob of Parquet files). Timestamps are reduced to *naive local wall-clock time*:

- timezone-aware pandas / Arrow / DuckDB values keep the wall-clock time of their own zone
  (``2024-01-01 23:30+07:00`` is 23:30 on 1 January, whatever the machine's zone is);
- Parquet columns stored with a time zone are read as wall-clock time in that zone (UTC when the
  file records no zone name);
- CSV timestamp columns are read as text and any trailing UTC offset (``+07:00``, ``Z``) is
  dropped, keeping the time as written (ISO 8601 text is expected);
- Spark ``TIMESTAMP`` values are read in the session time zone, which this module fixes to UTC.

So callers should pass local times (the insights layer passes Asia/Jakarta local naive times).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DuckDBEngine",
    "Engine",
    "EngineUnavailableError",
    "SparkEngine",
    "arrow_to_pandas",
    "available_engines",
    "get_engine",
    "quote_identifier",
    "spark_session",
    "to_spark_sql",
]

#: SQL (DuckDB dialect, also translated for Spark) turning a text timestamp into a naive local
#: timestamp: a trailing UTC offset or ``Z`` is dropped (only when the text is longer than a date,
#: so ``2024-01-05`` is left alone), then the text is cast.
TEXT_TO_LOCAL_TIMESTAMP = (
    "CAST(CASE WHEN LENGTH(TRIM({col})) > 10 "
    "THEN TRIM(REGEXP_REPLACE(TRIM({col}), '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$', '')) "
    "ELSE TRIM({col}) END AS TIMESTAMP)"
)

_SPARK_INSTALL_HINT = (
    "The Spark engine needs pyspark and a Java runtime (17 or newer): "
    "pip install 'langganan[spark]' and put `java` on PATH or set JAVA_HOME."
)


class EngineUnavailableError(RuntimeError):
    """The requested engine cannot run here (a missing optional package or Java)."""


def quote_identifier(name: str) -> str:
    """Quote a column or view name for DuckDB SQL (translated for Spark by sqlglot).

    Only names are ever formatted into SQL, never values; the name is validated and any double
    quote inside it is escaped, so it cannot break out of the identifier.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"Invalid column name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _is_path(data: Any) -> bool:
    return isinstance(data, str | os.PathLike)


def _file_format(path: str) -> str:
    lower = path.lower()
    for suffix in (".gz", ".zst", ".zstd", ".bz2"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    if lower.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    if lower.endswith((".parquet", ".pq")) or os.path.isdir(path) or "*" in path:
        return "parquet"
    raise ValueError(f"Cannot tell the format of {path!r}: expected a .parquet or .csv file")


def _localize_arrow(table: pa.Table) -> pa.Table:
    """Replace timezone-aware timestamp columns by their naive wall-clock time in that zone."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = pc.local_timestamp(table.column(i))
            table = table.set_column(i, pa.field(field.name, naive.type), naive)
    return table


def _localize_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace timezone-aware datetime columns by their naive wall-clock time (no data copy)."""
    aware = [c for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]
    if not aware:
        return frame
    frame = frame.copy(deep=False)
    for column in aware:
        frame[column] = frame[column].dt.tz_localize(None)
    return frame


def _parquet_zones(path: str) -> dict[str, str]:
    """Time zones of the timezone-aware timestamp columns of a Parquet file (first file)."""
    import pyarrow.dataset as ds

    try:
        schema = ds.dataset(path, format="parquet").schema
    except (OSError, pa.ArrowInvalid):
        return {}
    return {
        f.name: f.type.tz for f in schema if pa.types.is_timestamp(f.type) and f.type.tz is not None
    }


def _valid_zone(zone: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/:]+", zone):
        raise ValueError(f"Unsupported time zone in Parquet file: {zone!r}")
    return zone


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with the same dtypes whichever engine produced the table.

    Timezone-aware timestamps become naive wall-clock time, integers become int64 (nullable
    integers become float64 with NaN), decimals become float64.
    """
    table = _localize_arrow(table)
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_integer(field.type):
            column = column.cast(pa.int64())
        elif pa.types.is_decimal(field.type) or pa.types.is_floating(field.type):
            column = column.cast(pa.float64())
        elif pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("us"))
        elif pa.types.is_timestamp(field.type) and field.type.unit != "us":
            column = column.cast(pa.timestamp("us"))
        elif pa.types.is_large_string(field.type) or pa.types.is_string_view(field.type):
            column = column.cast(pa.string())
        columns.append(column)
    table = pa.table(columns, names=table.column_names)
    return table.to_pandas()


@runtime_checkable
class Engine(Protocol):
    """What the analytics need from an engine."""

    name: str

    def register(self, name: str, data: Any, *, text_columns: Iterable[str] = ()) -> None:
        """Make ``data`` queryable as the view ``name`` (see the module docstring)."""

    def columns(self, name: str) -> dict[str, str]:
        """Column name → lower-case SQL type name of a registered view."""

    def create_view(self, name: str, sql: str, *, materialize: bool = False) -> None:
        """Define the view ``name`` as the (DuckDB-dialect) query ``sql``."""

    def query(self, sql: str) -> pd.DataFrame:
        """Run a (DuckDB-dialect) query and return its result as pandas."""


# --------------------------------------------------------------------------------------- DuckDB


class DuckDBEngine:
    """Embedded DuckDB: one in-memory connection per engine.

    Parameters
    ----------
    connection : duckdb.DuckDBPyConnection, optional
        Use this connection (e.g. one attached to a database file) instead of a new in-memory one.
        Its session time zone is set to UTC.
    threads, memory_limit : optional
        DuckDB settings (``threads``; ``memory_limit`` such as ``"1GB"``).
    """

    name = "duckdb"

    def __init__(
        self,
        connection: Any = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        import duckdb

        self.connection = connection if connection is not None else duckdb.connect()
        # Naive timestamps never depend on this, but TIMESTAMPTZ casts would: pin it.
        self.connection.execute("SET TimeZone = 'UTC'")
        # Every query here orders its own output; not keeping row order lets DuckDB stream
        # and spill large aggregations instead of holding them in memory.
        self.connection.execute("SET preserve_insertion_order = false")
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit.strip()):
                raise ValueError(f"Invalid memory_limit: {memory_limit!r}")
            self.connection.execute(f"SET memory_limit = '{memory_limit.strip()}'")
        self._keep: dict[str, Any] = {}  # registered objects must outlive their views

    def _relation_for(self, data: Any, text_columns: Iterable[str]) -> Any:
        con = self.connection
        if _is_path(data):
            path = os.fspath(data)
            if _file_format(path) == "csv":
                dtype = {c: "VARCHAR" for c in text_columns}
                return con.read_csv(path, header=True, dtype=dtype or None)
            relation = con.read_parquet(path)
            zones = _parquet_zones(path)
            if not zones:
                return relation
            exprs = [
                (
                    f"timezone('{_valid_zone(zones[c])}', {quote_identifier(c)}) AS "
                    f"{quote_identifier(c)}"
                    if c in zones
                    else quote_identifier(c)
                )
                for c in relation.columns
            ]
            return relation.project(", ".join(exprs))
        if isinstance(data, pd.DataFrame):
            return _localize_pandas(data)
        if isinstance(data, pa.Table):
            return _localize_arrow(data)
        if isinstance(data, pa.RecordBatchReader):
            return _localize_arrow(data.read_all())
        if hasattr(data, "to_arrow_table") and hasattr(data, "types"):  # a DuckDB relation
            return _localize_arrow(data.to_arrow_table())
        if hasattr(data, "toArrow") and hasattr(data, "sparkSession"):  # a Spark DataFrame
            return _localize_arrow(data.toArrow())
        raise TypeError(
            "Unsupported input: expected a pandas DataFrame, a pyarrow Table, a DuckDB relation, "
            f"a Spark DataFrame or a path to a Parquet/CSV file, got {type(data).__name__}"
        )

    def register(self, name: str, data: Any, *, text_columns: Iterable[str] = ()) -> None:
        obj = self._relation_for(data, text_columns)
        if hasattr(obj, "create_view") and not isinstance(obj, pd.DataFrame | pa.Table):
            obj.create_view(name, replace=True)
        else:
            self.connection.register(name, obj)
        self._keep[name] = obj

    def columns(self, name: str) -> dict[str, str]:
        relation = self.connection.table(name)
        return {c: str(t).lower() for c, t in zip(relation.columns, relation.types, strict=True)}

    def create_view(self, name: str, sql: str, *, materialize: bool = False) -> None:
        kind = "TABLE" if materialize else "VIEW"
        self.connection.execute(f"CREATE OR REPLACE TEMP {kind} {quote_identifier(name)} AS {sql}")

    def query(self, sql: str) -> pd.DataFrame:
        return arrow_to_pandas(self.connection.sql(sql).to_arrow_table())

    def drop_view(self, name: str) -> None:
        """Drop a view or table made by :meth:`create_view` (freeing a materialised one)."""
        quoted = quote_identifier(name)
        kind = self.connection.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        if kind:
            what = "VIEW" if kind[0][0] == "VIEW" else "TABLE"
            self.connection.execute(f"DROP {what} IF EXISTS {quoted}")

    def close(self) -> None:
        self.connection.close()


# ---------------------------------------------------------------------------------------- Spark

_SPARK_RUNTIME_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
}
_spark_lock = threading.Lock()
_spark_shared: Any = None


@contextlib.contextmanager
def _quiet_pandas_warnings() -> Iterator[None]:
    """PySpark warns on every pandas/Arrow conversion that pandas 3 is not fully supported."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
        yield


def spark_session() -> Any:
    """The process-wide SparkSession (created on first use, stopped at interpreter exit).

    An active session (e.g. one created by the caller on a cluster) is reused as it is. Otherwise a
    local one is started: ``local[N]`` from ``LANGGANAN_SPARK_MASTER`` (default ``local[2]``),
    four shuffle partitions, no UI, session time zone UTC.
    """
    global _spark_shared
    with _spark_lock:
        if _spark_shared is not None:
            return _spark_shared
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineUnavailableError(
                f"pyspark is not installed. {_SPARK_INSTALL_HINT}"
            ) from exc
        session = SparkSession.getActiveSession()
        if session is None:
            if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
                raise EngineUnavailableError(f"No Java runtime found. {_SPARK_INSTALL_HINT}")
            builder = (
                SparkSession.builder.master(os.environ.get("LANGGANAN_SPARK_MASTER", "local[2]"))
                .appName("langganan-analytics")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.memory", os.environ.get("LANGGANAN_SPARK_MEMORY", "1g"))
            )
            for key, value in _SPARK_RUNTIME_CONF.items():
                builder = builder.config(key, value)
            try:
                with _quiet_pandas_warnings():
                    session = builder.getOrCreate()
            except Exception as exc:  # py4j / Java launch errors have many types
                raise EngineUnavailableError(
                    f"Could not start Spark ({exc}). {_SPARK_INSTALL_HINT}"
                ) from exc
            session.sparkContext.setLogLevel("ERROR")
            atexit.register(_stop_spark)
        _spark_shared = session
        return session


def _stop_spark() -> None:
    global _spark_shared
    with _spark_lock:
        if _spark_shared is not None:
            try:
                _spark_shared.stop()
            finally:
                _spark_shared = None


@functools.lru_cache(maxsize=256)
def to_spark_sql(sql: str) -> str:
    """Translate one DuckDB-dialect statement to Spark SQL (cached)."""
    import sqlglot

    statements = sqlglot.transpile(sql, read="duckdb", write="spark")
    if len(statements) != 1:
        raise ValueError("Expected exactly one SQL statement")
    return statements[0]


class SparkEngine:
    """Apache Spark through a SparkSession; each engine gets its own session (own temp views).

    Parameters
    ----------
    session : pyspark.sql.SparkSession, optional
        Parent session; defaults to :func:`spark_session`.
    """

    name = "spark"

    def __init__(self, session: Any = None) -> None:
        parent = session if session is not None else spark_session()
        self.session = parent.newSession()
        for key, value in _SPARK_RUNTIME_CONF.items():
            self.session.conf.set(key, value)
        self._global_views: list[str] = []
        self._cached: list[Any] = []
        self._views: dict[str, Any] = {}  # views made by create_view → their cached frame

    def _dataframe_for(self, data: Any, text_columns: Iterable[str]) -> Any:
        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType, StructField, StructType

        reader = self.session.read
        if _is_path(data):
            path = os.fspath(data)
            if _file_format(path) == "csv":
                inferred = reader.csv(path, header=True, inferSchema=True).schema
                text = set(text_columns)
                schema = StructType(
                    [
                        StructField(f.name, StringType(), True) if f.name in text else f
                        for f in inferred.fields
                    ]
                )
                return reader.csv(path, header=True, schema=schema)
            frame = reader.parquet(path)
            for column, zone in _parquet_zones(path).items():
                frame = frame.withColumn(column, F.from_utc_timestamp(F.col(column), zone))
            return frame
        if hasattr(data, "sparkSession") and hasattr(data, "createOrReplaceTempView"):
            if data.sparkSession is self.session:
                return data
            # Temp views belong to one session: share through a global temp view (same app).
            shared = f"langganan_{uuid.uuid4().hex}"
            data.createOrReplaceGlobalTempView(shared)
            self._global_views.append(shared)
            return self.session.table(f"global_temp.{shared}")
        if isinstance(data, pd.DataFrame):
            data = pa.Table.from_pandas(_localize_pandas(data), preserve_index=False)
        elif isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        elif hasattr(data, "to_arrow_table") and hasattr(data, "types"):  # a DuckDB relation
            data = data.to_arrow_table()
        if isinstance(data, pa.Table):
            data = _localize_arrow(data)
            if data.num_rows == 0:
                return self.session.createDataFrame(data.to_pandas(), schema=_spark_schema(data))
            return self.session.createDataFrame(data)
        raise TypeError(
            "Unsupported input: expected a pandas DataFrame, a pyarrow Table, a DuckDB relation, "
            f"a Spark DataFrame or a path to a Parquet/CSV file, got {type(data).__name__}"
        )

    def register(self, name: str, data: Any, *, text_columns: Iterable[str] = ()) -> None:
        with _quiet_pandas_warnings():
            self._dataframe_for(data, text_columns).createOrReplaceTempView(name)

    def columns(self, name: str) -> dict[str, str]:
        return {c: t.lower() for c, t in self.session.table(name).dtypes}

    def create_view(self, name: str, sql: str, *, materialize: bool = False) -> None:
        frame = self.session.sql(to_spark_sql(sql))
        if materialize:
            frame = frame.cache()
            self._cached.append(frame)
        frame.createOrReplaceTempView(name)
        self._views[name] = frame if materialize else None

    def drop_view(self, name: str) -> None:
        """Drop a view made by :meth:`create_view` (unpersisting a materialised one)."""
        frame = self._views.pop(name, None)
        if frame is not None:
            frame.unpersist()
            self._cached = [f for f in self._cached if f is not frame]
        self.session.catalog.dropTempView(name)

    def query(self, sql: str) -> pd.DataFrame:
        with _quiet_pandas_warnings():
            return arrow_to_pandas(self.session.sql(to_spark_sql(sql)).toArrow())

    def close(self) -> None:
        for view in self._global_views:
            self.session.catalog.dropGlobalTempView(view)
        self._global_views.clear()
        for frame in self._cached:  # the cache is shared by all sessions: only ours
            frame.unpersist()
        self._cached.clear()


def _spark_schema(table: pa.Table) -> Any:
    """A Spark schema for an (empty) Arrow table, for which Spark cannot infer one."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(table.schema)


_ENGINES: Mapping[str, Any] = {"duckdb": DuckDBEngine, "spark": SparkEngine}


def available_engines() -> tuple[str, ...]:
    """Names accepted by :func:`get_engine`."""
    return tuple(_ENGINES)


def get_engine(engine: str | Engine = "duckdb", **options: Any) -> Engine:
    """A fresh engine by name (``"duckdb"`` or ``"spark"``); an engine instance is returned as is.

    Raises
    ------
    EngineUnavailableError
        Spark was asked for but pyspark or Java is missing.
    ValueError
        Unknown engine name.
    """
    if not isinstance(engine, str):
        if isinstance(engine, Engine):
            return engine
        raise TypeError(f"engine must be a name or an Engine, got {type(engine).__name__}")
    key = engine.strip().lower()
    if key not in _ENGINES:
        raise ValueError(f"Unknown engine {engine!r}; choose one of {', '.join(_ENGINES)}")
    return _ENGINES[key](**options)
