"""Pieces shared by the customers and transactions imports: the report, row errors, progress,
the reject file and a disk-backed scratch store that keeps memory flat on huge files."""

from __future__ import annotations

import csv
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
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
    QuotedCell,
    TableReader,
    open_table,
    quote_cell,
)

MAX_ERRORS_REPORTED = 1000
#: the share of the progress (percent) kept for the work after the file's last row (the
#: indexes, the customers' join dates, the commit, the buyers' insights), so that a progress
#: bar keeps moving until the import has ended instead of waiting at the end of the file
FINISH_SHARE = 10
ERR_REJECTED_WITH_GROUP = "rejected with the other rows of the same transaction"
ERR_FORMULA = "looks like a spreadsheet formula, which no name or text starts with"
#: the fields kept as text the file wrote them (a phone, an amount or a date is parsed)
FORMULA_CHECKED = (
    "name",
    "address",
    "city",
    "province",
    "notes",
    "tags",
    "acquisition_source",
    "member_code",
    "customer_id",
    "external_id",
    "product",
    "category",
    "outlet",
)
_FORMULA_SIGNS = frozenset("|!(=")


def looks_like_formula(text: str) -> bool:
    """A cell a spreadsheet would run when the text is exported: ``=…`` or ``@…``, or ``+…``
    / ``-…`` run on (no space after the sign) with a call, a reference or a pipe in it
    (``+cmd|' /C calc'!A0``, ``-2+3+cmd|…``). ``-`` alone, ``- tanpa gula (es)`` or
    ``+62 812…`` are plain text."""
    text = text.lstrip()
    if not text:
        return False
    if text[0] in "=@":
        return True
    return (
        text[0] in "+-"
        and len(text) > 1
        and not text[1].isspace()
        and not _FORMULA_SIGNS.isdisjoint(text)
    )


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
    #: a dry run: everything was written and then rolled back (the counts say what would be)
    dry_run: bool = False
    #: stopped by its ``cancelled`` check and rolled back
    cancelled: bool = False

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


class ImportCancelled(ImportAborted):
    """Raised at a chunk when the import's ``cancelled`` check says stop."""


class _DryRunDone(Exception):
    """Raised after a dry run's last write to roll it back, its report kept."""


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

    def next_occurrences(self, keys: list) -> list[int]:
        """:meth:`next_occurrence` of each of ``keys`` in turn, counted in one pass: a read of
        the counts so far and one write of the new ones."""
        counts: dict = {}
        distinct = list(dict.fromkeys(keys))
        for start in range(0, len(distinct), 500):
            part = distinct[start : start + 500]
            marks = ",".join("?" * len(part))
            counts.update(
                self._db.execute(
                    f"SELECT key, n FROM occurrence WHERE key IN ({marks})",  # noqa: S608 (marks)
                    part,
                )
            )
        numbers = []
        for key in keys:
            n = counts.get(key, 0) + 1
            counts[key] = n
            numbers.append(n)
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO occurrence (key, n) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET n = excluded.n",
            ((key, counts[key]) for key in distinct),
        )
        self._db.execute("COMMIT")
        return numbers

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
        dry_run: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        """``dry_run`` runs the whole import and rolls it back, keeping the report (what
        would be created, every bad row); ``on_progress(done, total)`` is called at each chunk
        (bytes of a CSV file, rows of a workbook, with :data:`FINISH_SHARE` percent more for
        the work after the last row, reported by :meth:`finish_progress`) and at the end, when
        ``done == total`` once the import has committed; ``cancelled()`` is asked at each chunk,
        and when it says so the import stops and rolls back."""
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
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.cancelled = cancelled
        self.tz = ZoneInfo(merchant.time_zone)
        self.report = ImportReport(kind=self.kind, dry_run=dry_run)
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

    def _formulas(self, group: Group, checked: list[int]) -> dict[int, RowError]:
        """The rows of ``group`` with text a spreadsheet would run as a formula (refused: a
        name such as ``=cmd|…`` is an attack on whoever opens an export, never a name). A cell
        the file quoted (``'=1``, as our exports write one) is a value and imports back."""
        bad: dict[int, RowError] = {}
        for number, cells in group:
            for index in checked:
                if index < len(cells):
                    cell = cells[index]
                    if (
                        cell
                        and cell[0] in "=@+- \t"
                        and not isinstance(cell, QuotedCell)
                        and looks_like_formula(cell)
                    ):
                        field = self.columns.field_of(index)
                        bad[number] = RowError(number, ERR_FORMULA, field, cell.strip())
                        break
        return bad

    def _report(self, done: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, self.size_hint + self._finish_units)

    def finish_progress(self, fraction: float) -> None:
        """Report the work after the file's last row, ``fraction`` (0 to 1) of it done; the
        end itself is reported once the import has committed."""
        share = min(max(fraction, 0.0), 0.99)
        self._report(self.size_hint + int(self._finish_units * share))

    def _tick(self, progress: Progress) -> None:
        """At each chunk: the terminal's bar, the caller's progress, the cancel check."""
        progress.tick()
        self._report(progress.reader.progress_done)
        if self.cancelled is not None and self.cancelled():
            raise ImportCancelled

    def run(self) -> ImportReport:
        try:
            reader = open_table(self.path)
            header, rows, width = numbered_rows(reader, self.mapping, self.no_header)
            self.columns = resolve_columns(header, self.mapping, self.fields, width)
        except (MappingError, ValueError, FileNotFoundError) as exc:
            raise InvalidInput(str(exc)) from exc
        self.check_columns()
        #: how large the file is: bytes of a CSV file, rows of a workbook
        self.size_hint = reader.progress_total
        self._finish_units = max(1, self.size_hint * FINISH_SHARE // (100 - FINISH_SHARE))
        self.size_is_rows = self.path.suffix.lower() == ".xlsx"
        self.rejects = RejectWriter(self.rejects_path, header)
        self.scratch = ScratchStore()
        progress = Progress(reader, "import", self.progress_enabled)
        ended = False
        try:
            with transaction.atomic():
                self.start()
                pending: list = []
                groups_read = 0
                checked = [self.columns.columns[f] for f in FORMULA_CHECKED if self.columns.has(f)]
                for group in self.groups(rows):
                    self.report.rows_read += len(group)
                    groups_read += 1
                    formulas = self._formulas(group, checked)
                    parsed = self.parse(group) if not formulas else None
                    if formulas:
                        self.reject(group, formulas)
                    if parsed is not None and (self.skip_invalid or not self.report.error_count):
                        pending.append(parsed)
                    if len(pending) >= self.chunk:
                        self.flush(pending)
                        pending = []
                    if groups_read % self.chunk == 0:
                        self._tick(progress)
                if self.report.error_count and not self.skip_invalid:
                    raise ImportAborted
                self.flush(pending)
                self.finish_progress(0)
                self.finish()
                ended = True  # (a dry run ends here too)
                if self.dry_run:
                    raise _DryRunDone
            self.report.committed = True
        except _DryRunDone:
            self.report.committed = False
        except ImportAborted as stop:
            report = self.report
            report.committed = False
            report.cancelled = isinstance(stop, ImportCancelled)
            report.customers_created = report.transactions_created = 0
            report.line_items_created = report.products_created = report.skipped_duplicates = 0
        finally:
            progress.close()
            if ended:
                self._report(self.size_hint + self._finish_units)
            else:
                self._report(reader.progress_done)
            self.scratch.close()
            self.rejects.close()
        if self.report.committed and self.report.error_count:
            self.report.rejects_path = str(self.rejects_path)
        elif self.rejects_path.exists() and not self.report.committed:
            self.rejects_path.unlink()
        return self.report
