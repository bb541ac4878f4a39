"""Model instances from one hand-joined SQL query, for the POS API's hottest reads.

Building a ``select_related`` query over three or four tables costs the ORM about as much CPU
as the rest of a cashier's request together (compiling a few hundred quoted columns, then
making the objects): measured on the API benchmark's database, the key check took 3.6 ms and
the customer look-up 5.3 ms, against 0.2 ms for the database round trip itself. These helpers
write the column list of a model once per process, from the model's own metadata (so a new
field is picked up without touching the query), and turn the row back into real model
instances with :meth:`~django.db.models.Model.from_db`, through the same value converters the
ORM applies (JSON, decimals and dates on SQLite …). The join and the WHERE clause stay in
plain, portable SQL next to their caller; values always go in as query parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import NotSupportedError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.models import Model, UniqueConstraint
from psycopg.errors import FeatureNotSupported
from psycopg.pq import Format

__all__ = [
    "ModelColumns",
    "fetch_all",
    "fetch_one",
    "fetch_values",
    "insert_unless_exists",
    "model_columns",
    "set_related",
]


@dataclass(frozen=True)
class ModelColumns:
    """The concrete columns of ``model`` under a table alias, in ``_meta`` order."""

    model: type[Model]
    alias: str
    fields: tuple[Any, ...]

    @property
    def width(self) -> int:
        return len(self.fields)

    @functools.cached_property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]

    @functools.cached_property
    def pk_index(self) -> int:
        return self.attnames.index(self.model._meta.pk.attname)

    def sql(self, connection: BaseDatabaseWrapper) -> str:
        """``"alias"."column", …`` for this connection's quoting."""
        qn = connection.ops.quote_name
        return ", ".join(f"{qn(self.alias)}.{qn(f.column)}" for f in self.fields)

    def converters(self, connection: BaseDatabaseWrapper) -> tuple[tuple[int, Any, tuple], ...]:
        """``(position, expression, converters)`` of the columns whose raw values need
        converting."""
        return _converters(self.fields, self.alias, connection.alias)

    def build(self, row: Sequence[Any], start: int, connection: BaseDatabaseWrapper):
        """The instance in ``row[start:start + width]``, or None for the NULLs of a missed
        LEFT JOIN."""
        values = list(row[start : start + self.width])
        if values[self.pk_index] is None:
            return None
        _convert(values, self.converters(connection), connection)
        return self.model.from_db(connection.alias, self.attnames, values)


@functools.cache
def model_columns(model: type[Model], alias: str) -> ModelColumns:
    return ModelColumns(model, alias, tuple(model._meta.concrete_fields))


@functools.cache
def _converters(
    fields: tuple[Any, ...], table_alias: str | None, alias: str
) -> tuple[tuple[int, Any, tuple], ...]:
    """For each field (None: a column taken as it comes) whose values the ORM converts on
    this database: its position, its column expression and the converter functions."""
    connection = connections[alias]
    found = []
    for index, field in enumerate(fields):
        if field is None:
            continue
        expression = field.get_col(table_alias or field.model._meta.db_table)
        funcs = tuple(connection.ops.get_db_converters(expression)) + tuple(
            expression.get_db_converters(connection)
        )
        if funcs:
            found.append((index, expression, funcs))
    return tuple(found)


def _convert(values: list, converters: tuple, connection: BaseDatabaseWrapper) -> None:
    for index, expression, funcs in converters:
        for func in funcs:
            values[index] = func(values[index], expression, connection)


#: psycopg prepares a statement when asked or after this many runs: in effect only when asked
_ONLY_WHEN_ASKED = 2**31 - 1


class _PreparedCursor(psycopg.Cursor):
    """Binds on the server and prepares every statement (Django turns psycopg's automatic
    preparing off)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


@contextmanager
def _hot_cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """Django's cursor (health check, query logging, execute wrappers), but on PostgreSQL one
    that binds the parameters on the server and prepares the statement (once per connection),
    so that PostgreSQL can stop planning it again each time.

    Django's own cursors bind on the client (the values are written into the SQL text), so
    every run is a new statement to parse and plan. Measured with pg_stat_statements on the
    API benchmark, planning the customer's join took 0.51 ms a call against 0.09 ms to run
    it, and the key check 0.19 ms against 0.03: about half of PostgreSQL's time for the whole
    mix. ``HOT_READS_PREPARED = False`` (``LANGGANAN_PG_PREPARE=0``) turns this off, for a
    connection pooler in transaction mode that cannot keep prepared statements.
    """
    cursor = connection.cursor()
    if (
        connection.vendor == "postgresql"
        and getattr(settings, "HOT_READS_PREPARED", True)
        and not connection.queries_logged  # (a prepared run leaves no SQL text to log)
    ):
        raw = connection.connection
        bound = _PreparedCursor(raw)
        oid = raw.adapters.types["timestamptz"].oid
        if connection.timezone != raw.adapters.get_loader(oid, Format.TEXT).timezone:
            register_tzloader(connection.timezone, bound)  # as Django's create_cursor does
        cursor.cursor.close()
        cursor.cursor = bound
        # Django's None makes psycopg prepare nothing, even when asked; set only while this
        # cursor runs, since with a number psycopg also counts every other statement run on
        # the connection, keeping the text of the last hundred (a bulk import's INSERTs …)
        if raw.prepare_threshold is None:
            raw.prepare_threshold = _ONLY_WHEN_ASKED
            try:
                with cursor:
                    yield cursor
            finally:
                raw.prepare_threshold = None
            return
    with cursor:
        yield cursor


def _query(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], many: bool) -> Any:
    """The rows (``many``) or the first row of ``sql`` through :func:`_hot_cursor`.

    A column these reads select may change type while a process serves (a migration run
    beside it): PostgreSQL then refuses the statements prepared before ("cached plan must not
    change result type", SQLSTATE 0A000), and psycopg forgets them only on a rollback or a
    new connection. Outside a transaction the connection is replaced and the read run again,
    so no request fails for it; inside one the error goes up, and the transaction's rollback
    clears them for the next request.
    """
    try:
        return _run(connection, sql, params, many)
    except NotSupportedError as exc:
        if connection.in_atomic_block or not isinstance(exc.__cause__, FeatureNotSupported):
            raise
    connection.close()  # the next cursor connects again, with nothing prepared
    return _run(connection, sql, params, many)


def _run(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], many: bool) -> Any:
    with _hot_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if many else cursor.fetchone()


def fetch_one(
    connection: BaseDatabaseWrapper,
    sql: str,
    params: Sequence[Any],
    columns: Sequence[ModelColumns],
) -> list[Model | None] | None:
    """Run ``sql`` (which selects ``columns``' lists one after the other) and build the first
    row's instances; None when there is no row."""
    row = _query(connection, sql, params, many=False)
    if row is None:
        return None
    built, start = [], 0
    for cols in columns:
        built.append(cols.build(row, start, connection))
        start += cols.width
    return built


def fetch_all(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], columns: ModelColumns
) -> list[Model]:
    """Run ``sql`` (which selects ``columns``' list) and build one instance per row."""
    rows = _query(connection, sql, params, many=True)
    return [columns.build(row, 0, connection) for row in rows]


def fetch_values(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], fields: Sequence[Any]
) -> list[tuple]:
    """Run ``sql`` and return its rows as tuples of plain values, column ``i`` converted as
    the ORM converts model field ``fields[i]`` (None: as the database gives it); for an
    aggregate, the field it aggregates (as ``Sum("f")`` does)."""
    rows = _query(connection, sql, params, many=True)
    converters = _converters(tuple(fields), None, connection.alias)
    out = []
    for row in rows:
        values = list(row)
        _convert(values, converters, connection)
        out.append(tuple(values))
    return out


def set_related(instance: Model, descriptor: Any, value: Model | None) -> None:
    """Cache ``value`` on ``instance`` as ``select_related`` would, for a forward relation
    (``Model.fk``) or a reverse one-to-one (``Model.reverse_name``, where None means "has
    none": reading it raises ``DoesNotExist`` without a query)."""
    holder = descriptor.field if hasattr(descriptor, "field") else descriptor.related
    holder.set_cached_value(instance, value)


def _plain_unique(constraint: Any) -> bool:
    return (
        isinstance(constraint, UniqueConstraint)
        and bool(constraint.fields)
        and constraint.condition is None
        and not constraint.expressions
    )


@functools.cache
def _insert_sql(model: type[Model], unique: tuple[str, ...], alias: str) -> tuple[str, tuple]:
    connection = connections[alias]
    qn = connection.ops.quote_name
    meta = model._meta
    if not getattr(meta.pk, "db_returning", False):
        raise TypeError(f"{model.__name__}: insert_unless_exists needs an auto-increment key")
    keys = {tuple(c.fields) for c in meta.constraints if _plain_unique(c)}
    keys |= {(f.name,) for f in meta.concrete_fields if f.unique and not f.primary_key}
    keys |= {tuple(names) for names in meta.unique_together}
    if tuple(unique) not in keys:
        raise TypeError(f"{model.__name__}: no unique constraint on exactly {unique}")
    fields = tuple(f for f in meta.concrete_fields if f is not meta.pk and not f.generated)
    target = ", ".join(qn(meta.get_field(name).column) for name in unique)
    columns = ", ".join(qn(f.column) for f in fields)
    holders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({holders}) "  # noqa: S608 (names only)
        f"ON CONFLICT ({target}) DO NOTHING RETURNING {qn(meta.pk.column)}"
    )
    return sql, fields


def insert_unless_exists(obj: Model, *, unique: Sequence[str], using: str = "default") -> bool:
    """INSERT ``obj`` unless a row with the same values of the ``unique`` fields (a unique
    constraint of exactly those fields, else TypeError) exists: True, with ``obj.pk`` set,
    when it was inserted; False when the row exists. For a model with an auto-increment key;
    a field with only a database default (``db_default``) is not supported.

    One statement (``ON CONFLICT … DO NOTHING``, PostgreSQL and SQLite ≥ 3.35), and since a
    conflict raises no error, no savepoint around it either, where ``create()`` in a
    ``try``/``except IntegrityError`` needs one (two more round trips). On PostgreSQL a
    concurrent transaction that inserted the same values and has not yet committed makes
    this wait for it, as the unique index does for a plain INSERT.
    """
    connection = connections[using]
    sql, fields = _insert_sql(type(obj), tuple(unique), connection.alias)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
