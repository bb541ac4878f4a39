"""Fast inserts of many rows: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

Django's ``bulk_create`` builds a model instance and prepares every value of every row in
Python; for the 100,000 recipients and messages of a large campaign that costs most of the run.
Here the caller gives plain tuples of values already in database form (see :func:`db_value`).
On PostgreSQL the rows are streamed with ``COPY … FROM STDIN`` (one statement instead of one
per row); on SQLite a prepared INSERT runs with ``executemany`` per chunk. Both run inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

CHUNK = 5000


def db_value(model: type[models.Model], column: str, value: Any) -> Any:
    """``value`` as the database stores it for ``model.column`` (datetimes, JSON …)."""
    return model._meta.get_field(column).get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, in database form); returns how many."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(c) for c in columns]
    if connection.vendor == "postgresql":
        return _copy_rows(model, [quote(f.column) for f in fields], rows)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (quoted model names only)
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    count = 0
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _copy_rows(model: type[models.Model], columns: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY in chunks: the rows may come from a generator that reads the database itself, which
    it cannot do on this connection while a COPY is open."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    count = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in batch:
                copy.write_row(row)

    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            flush()
            count += len(batch)
            batch = []
    if batch:
        flush()
        count += len(batch)
    return count
