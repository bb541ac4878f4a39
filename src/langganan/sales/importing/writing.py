"""The import's fast writes: rows go to the database as plain tuples, without the ORM's
per-value work. PostgreSQL receives them with ``COPY``; SQLite with prepared ``executemany``
inserts inside the import's one transaction (which already holds SQLite's write lock: the
connection begins its transactions IMMEDIATE).

Primary keys are reserved before the rows are written, so the caller knows each row's id
without reading it back: from the table's sequence on PostgreSQL, after the largest id the
table has ever given on SQLite (its ``AUTOINCREMENT`` counter, so no id is ever reused).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Model


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``'s table, in increasing order."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        quoted = connection.ops.quote_name(table)
        largest_sql = f"SELECT MAX({connection.ops.quote_name(column)}) FROM {quoted}"  # noqa: S608
        cursor.execute(largest_sql)
        (largest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(largest or 0, found[0] if found else 0) + 1
    return list(range(start, start + count))


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write ``rows`` (tuples of database-ready values, in ``columns`` order) to ``table``."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if is_postgres():
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        batch: list[Sequence] = []
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 (names only)
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def datetime_value(value: datetime):
    """An aware datetime as the database driver takes it (naive UTC text on SQLite)."""
    if is_postgres():
        return value
    return connection.ops.adapt_datetimefield_value(value)


def insert_objects(
    model: type[Model], objects: Sequence[Model], varying: Sequence[str] | None = None
) -> None:
    """Write unsaved ``objects`` of ``model``, giving each its primary key: what
    ``bulk_create`` does, without the SQL compiler's per-value work. With ``varying`` (field
    names), only those fields differ between the objects: every other column is prepared
    once, from the first object, and repeated."""
    if not objects:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields]
    ids = reserve_ids(model, len(objects))
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
    plain = (str, int, bool, type(None))

    def prepared(f, obj: Model):
        value = f.pre_save(obj, True)
        if not isinstance(value, plain):
            value = f.get_db_prep_save(value, connection)
        return value

    template = [prepared(f, objects[0]) for f in fields]
    changing = [
        (i, f)
        for i, f in enumerate(fields)
        if varying is None or f.primary_key or f.name in varying
    ]

    def values(obj: Model) -> tuple:
        out = list(template)
        for i, f in changing:
            out[i] = prepared(f, obj)
        return tuple(out)

    insert_rows(meta.db_table, [f.column for f in fields], (values(o) for o in objects))
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


class DeferredIndexes:
    """SQLite only: the plain (not unique) indexes of ``tables``, dropped for a large import
    and built again before it ends, in the import's own transaction. Building an index once
    from sorted rows is much faster than updating it on every insert once it outgrows the
    page cache; unique indexes stay, so no duplicate can slip in. Other connections keep
    reading their snapshot (with its indexes) meanwhile, and a roll-back brings the
    indexes back as they were."""

    def __init__(self, tables: Sequence[str]):
        self.tables = list(tables)
        self.dropped: list[tuple[str, str]] = []

    def drop(self) -> None:
        if is_postgres() or self.dropped:
            return
        marks = ", ".join(["%s"] * len(self.tables))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                f"AND tbl_name IN ({marks}) AND sql IS NOT NULL "
                "AND upper(sql) NOT LIKE 'CREATE UNIQUE%%'",
                self.tables,
            )
            self.dropped = list(cursor.fetchall())
            for name, _sql in self.dropped:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")

    def restore(self, on_step=None) -> None:
        """Build the dropped indexes again; ``on_step(fraction)`` after each."""
        with connection.cursor() as cursor:
            for done, (_name, sql) in enumerate(self.dropped, 1):
                cursor.execute(sql)
                if on_step is not None:
                    on_step(done / len(self.dropped))
        self.dropped = []
