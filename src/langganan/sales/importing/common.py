"""Pieces shared by the customers and transactions imports: the report, row errors, progress,
the reject file and a disk-backed scratch store that keeps memory flat on huge files."""

from __future__ import annotations

import csv
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from tqdm import tqdm

from langganan.core.errors import InvalidInput
from langganan.sales.importing.fields import (
    ColumnMap,
    MappingError,
    header_is_recognised,
    resolve_columns,
)
from langganan.sales.importing.readers import (
    ERR_FILE_EMPTY,
    TableReader,
    open_table,
    quote_cell,
)

MAX_ERRORS_REPORTED = 1000
ERR_REJECTED_WITH_GROUP = "rejected with the other rows of the same transaction"


@dataclass
class RowError:
    row: int
    reason: str
    field: str | None = None
    value: str | None = None

    def as_dict(self) -> dict:
        data = {"row": self.row, "reason": self.reason}
        if self.field:
            data["field"] = self.field
        if self.value is not None:
            data["value"] = self.value
        return data

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        value = f" ({self.value!r})" if self.value else ""
        return f"row {self.row}: {where}{self.reason}{value}"


@dataclass
class ImportReport:
    kind: str
    rows_read: int = 0
    customers_created: int = 0
    transactions_created: int = 0
    line_items_created: int = 0
    products_created: int = 0
    skipped_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    committed: bool = False
    rejects_path: str | None = None

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_REPORTED:
            self.errors.append(error)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rows_read": self.rows_read,
            "customers_created": self.customers_created,
            "transactions_created": self.transactions_created,
            "line_items_created": self.line_items_created,
            "products_created": self.products_created,
            "skipped_duplicates": self.skipped_duplicates,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "committed": self.committed,
            "rejects_path": self.rejects_path,
        }


class ImportAborted(Exception):
    """Raised inside the import's atomic block to roll everything back."""


def numbered_rows(
    reader: TableReader, overrides: dict[str, str], no_header: bool
) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]], int]:
    """Split off the header (when the first row is one) and number the data rows as a
    spreadsheet does: the header is row 1. Blank rows are skipped but keep their number."""
    number = 0
    first: list[str] | None = None
    for cells in reader.rows:
        number += 1
        if any(c.strip() for c in cells):
            first = cells
            break
    if first is None:
        raise ValueError(ERR_FILE_EMPTY)
    header = None if no_header or not header_is_recognised(first, overrides) else first
    width = len(first)

    def data() -> Iterator[tuple[int, list[str]]]:
        n = number
        if header is None:
            yield n, first
        for cells in reader.rows:
            n += 1
            if any(c.strip() for c in cells):
                yield n, cells

    return header, data(), width


class Progress:
    """A progress bar on a terminal, silent otherwise."""

    def __init__(self, reader: TableReader, label: str, enabled: bool | None = None):
        self.reader = reader
        show = sys.stderr.isatty() if enabled is None else enabled
        unit = "B" if reader.path.suffix.lower() != ".xlsx" else "rows"
        self.bar = tqdm(
            total=reader.progress_total or None,
            unit=unit,
            unit_scale=unit == "B",
            desc=label,
            disable=not show,
            file=sys.stderr,
        )
        self._last = 0

    def tick(self) -> None:
        done = self.reader.progress_done
        if done > self._last:
            self.bar.update(done - self._last)
            self._last = done

    def close(self) -> None:
        self.tick()
        self.bar.close()


class RejectWriter:
    """Bad rows, as they were read, with the reason in an extra column."""

    def __init__(self, path: Path, header: list[str] | None):
        self.path = path
        self.header = header
        self._file = None
        self._writer = None

    def write(self, row_number: int, cells: list[str], reason: str) -> None:
        if self._writer is None:
            self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            columns = (
                list(self.header) if self.header else [f"column_{i + 1}" for i in range(len(cells))]
            )
            self._writer.writerow(["row", *columns, "reason"])
        # the cells are the file's own: quoted like an export's, so a formula never runs
        self._writer.writerow([row_number, *(quote_cell(c) for c in cells), quote_cell(reason)])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class ScratchStore:
    """Counters and seen-sets for one import run, kept in a temporary SQLite file so that
    memory stays flat however many rows the file has."""

    def __init__(self) -> None:
        handle, self._path = tempfile.mkstemp(prefix="langganan-import-", suffix=".sqlite3")
        os.close(handle)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;"
            "CREATE TABLE occurrence (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID;"
        )

    def next_occurrence(self, key: str) -> int:
        """1 the first time ``key`` is counted in this run, 2 the second time, …"""
        (n,) = self._db.execute(
            "INSERT INTO occurrence (key, n) VALUES (?, 1) "
            "ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n",
            (key,),
        ).fetchone()
        return n

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen in this run."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen (key) VALUES (?)", (key,))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
        Path(self._path).unlink(missing_ok=True)


Group = list[tuple[int, list[str]]]


class FileImport:
    """The frame every file import shares: read and map the columns, parse groups of rows,
    write them in chunks inside one database transaction, and either commit everything valid
    (with ``skip_invalid``, bad rows going to a reject file) or roll back on any bad row.

    Subclasses set ``kind``, ``fields`` and ``chunk`` and implement :meth:`check_columns`,
    :meth:`parse` (a group of rows → something to write, or ``None`` after reporting the bad
    rows with :meth:`reject`) and :meth:`flush`; :meth:`groups`, :meth:`start` and
    :meth:`finish` may be overridden.
    """

    kind = ""
    fields: tuple[str, ...] = ()
    chunk = 1000

    def __init__(
        self,
        *,
        merchant,
        path: str | Path,
        mapping: dict[str, str] | None = None,
        skip_invalid: bool = False,
        rejects_path: str | Path | None = None,
        no_header: bool = False,
        progress: bool | None = None,
    ):
        self.merchant = merchant
        self.path = Path(path)
        self.mapping = dict(mapping or {})
        self.skip_invalid = skip_invalid
        self.rejects_path = (
            Path(rejects_path)
            if rejects_path
            else self.path.with_name(self.path.stem + ".rejects.csv")
        )
        self.no_header = no_header
        self.progress_enabled = progress
        self.tz = ZoneInfo(merchant.time_zone)
        self.report = ImportReport(kind=self.kind)
        self.columns = ColumnMap({})

    # -- hooks --------------------------------------------------------------------------------

    def check_columns(self) -> None:
        """Raise :class:`InvalidInput` when the mapped columns cannot make a record."""

    def groups(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[Group]:
        """Rows that make one record; by default every row is one."""
        for row in rows:
            yield [row]

    def start(self) -> None:
        """Runs first inside the database transaction."""

    def parse(self, group: Group):
        raise NotImplementedError

    def flush(self, pending: list) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Runs last inside the database transaction, after the final flush."""

    # -- the frame ----------------------------------------------------------------------------

    def reject(self, group: Group, bad: dict[int, RowError]) -> None:
        """Report the bad rows of ``group``; with ``skip_invalid`` the whole group goes to the
        reject file, its good rows marked as rejected with it."""
        for number, cells in group:
            error = bad.get(number)
            if error is not None:
                self.report.add_error(error)
            if self.skip_invalid:
                self.rejects.write(number, cells, str(error) if error else ERR_REJECTED_WITH_GROUP)

    def run(self) -> ImportReport:
        try:
            reader = open_table(self.path)
            header, rows, width = numbered_rows(reader, self.mapping, self.no_header)
            self.columns = resolve_columns(header, self.mapping, self.fields, width)
        except (MappingError, ValueError, FileNotFoundError) as exc:
            raise InvalidInput(str(exc)) from exc
        self.check_columns()
        self.rejects = RejectWriter(self.rejects_path, header)
        self.scratch = ScratchStore()
        progress = Progress(reader, "import", self.progress_enabled)
        try:
            with transaction.atomic():
                self.start()
                pending: list = []
                for group in self.groups(rows):
                    self.report.rows_read += len(group)
                    parsed = self.parse(group)
                    if parsed is not None and (self.skip_invalid or not self.report.error_count):
                        pending.append(parsed)
                    if len(pending) >= self.chunk:
                        self.flush(pending)
                        pending = []
                        progress.tick()
                if self.report.error_count and not self.skip_invalid:
                    raise ImportAborted
                self.flush(pending)
                self.finish()
            self.report.committed = True
        except ImportAborted:
            report = self.report
            report.committed = False
            report.customers_created = report.transactions_created = 0
            report.line_items_created = report.products_created = report.skipped_duplicates = 0
        finally:
            progress.close()
            self.scratch.close()
            self.rejects.close()
        if self.report.committed and self.report.error_count:
            self.report.rejects_path = str(self.rejects_path)
        elif self.rejects_path.exists() and not self.report.committed:
            self.rejects_path.unlink()
        return self.report
