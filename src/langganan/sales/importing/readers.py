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

ERR_FILE_TYPE = "unsupported file type (use .csv, .txt, .tsv or .xlsx)"
ERR_FILE_EMPTY = "the file is empty"


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
                yield from csv.reader(text, delimiter=delimiter)
        finally:
            text.close()

    size = os.path.getsize(path)
    return TableReader(path, rows(), size, lambda: size if raw.closed else raw.tell())


def _xlsx_rows(path: Path) -> TableReader:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    done = [0]

    def rows() -> Iterator[list[str]]:
        try:
            for values in sheet.iter_rows(values_only=True):
                done[0] += 1
                yield [cell_text(v) for v in values]
        finally:
            workbook.close()

    return TableReader(path, rows(), sheet.max_row or 0, lambda: done[0])


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
