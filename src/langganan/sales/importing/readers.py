"""Streaming readers for CSV (any common delimiter, or whitespace) and Excel .xlsx files.

A reader yields rows one at a time; nothing holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from langganan.core.errors import InvalidInput

ERR_FILE_TYPE = "unsupported file type (use .csv, .txt, .tsv or .xlsx)"
ERR_FILE_EMPTY = "the file is empty"
ERR_XLSX_UNREADABLE = (
    "{name} is not a readable Excel workbook (.xlsx): the file is empty, damaged or of another "
    "type; save it again from Excel as .xlsx or export it as .csv"
)

#: What a spreadsheet program may run as a formula when a cell starts with it (OWASP's CSV
#: injection list); exports put a single quote before such text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA_START = tuple("'" + start for start in FORMULA_START)


def quote_cell(text: str) -> str:
    """``text`` with a single quote before it when it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unquote_cell(text: str) -> str:
    """The inverse of :func:`quote_cell`: an exported cell read back as it was."""
    return text[1:] if text.startswith(_QUOTED_FORMULA_START) else text


def _unquoted(cells: list[str]) -> list[str]:
    for cell in cells:  # a plain loop: the common row has no quoted cell and is returned as is
        if cell[:1] == "'":
            return [unquote_cell(c) for c in cells]
    return cells


def cell_text(value) -> str:
    """One spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    return str(value)


@dataclass
class TableReader:
    """Rows of a file, with a progress measure (done, total) in bytes or rows."""

    path: Path
    rows: Iterator[list[str]]
    progress_total: int
    _progress: callable = field(repr=False, default=lambda: 0)

    @property
    def progress_done(self) -> int:
        return self._progress()


def _sniff_delimiter(sample: str) -> str | None:
    first = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def _is_utf8(raw: io.BufferedReader) -> bool:
    """Whether the whole file decodes as UTF-8, read in chunks (memory stays flat)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := raw.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        raw.seek(0)
    return True


def _open_text(path: Path) -> tuple[io.TextIOWrapper, io.BufferedReader]:
    """UTF-8 (with or without BOM) when the whole file is valid UTF-8, else Windows-1252, the
    encoding Excel on Indonesian Windows saves CSV in."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller's generator
    if _is_utf8(raw):
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), raw
    return io.TextIOWrapper(raw, encoding="cp1252", errors="replace", newline=""), raw


def _csv_rows(path: Path) -> TableReader:
    text, raw = _open_text(path)
    sample = text.read(8192)
    text.seek(0)
    delimiter = _sniff_delimiter(sample)

    def rows() -> Iterator[list[str]]:
        try:
            if delimiter is None:  # whitespace-separated columns, as in many public datasets
                for line in text:
                    yield line.split()
            else:
                for cells in csv.reader(text, delimiter=delimiter):
                    yield _unquoted(cells)
        finally:
            text.close()

    size = os.path.getsize(path)
    return TableReader(path, rows(), size, lambda: size if raw.closed else raw.tell())


def _xlsx_rows(path: Path) -> TableReader:
    """Rows of the first sheet. A file that is no workbook (empty, damaged, a renamed PDF) is
    refused with :data:`ERR_XLSX_UNREADABLE`, when opened or, for damage further in, when the
    row is read — never with the zip or XML library's own error."""
    from openpyxl import load_workbook

    unreadable = ERR_XLSX_UNREADABLE.format(name=path.name)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        total = sheet.max_row or 0
    except Exception as exc:  # zipfile, XML, KeyError for a missing part, IndexError: no sheet
        raise UnreadableFile(unreadable) from exc
    done = [0]

    def rows() -> Iterator[list[str]]:
        try:
            for values in sheet.iter_rows(values_only=True):
                done[0] += 1
                yield _unquoted([cell_text(v) for v in values])
        except Exception as exc:
            raise UnreadableFile(unreadable) from exc
        finally:
            workbook.close()

    return TableReader(path, rows(), total, lambda: done[0])


class UnreadableFile(InvalidInput):
    """A file that cannot be read as the type its name says."""


def open_table(path: str | Path) -> TableReader:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt", ".tsv", ".dat", ""):
        return _csv_rows(path)
    raise ValueError(ERR_FILE_TYPE)
