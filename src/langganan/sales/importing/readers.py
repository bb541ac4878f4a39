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


class QuotedCell(str):
    """A cell the file wrote quoted (``'=1``), as our exports write text that starts like a
    formula: read back as it was, it is known to be a value, never a formula to refuse."""

    __slots__ = ()


def unquote_cell(text: str) -> str:
    """The inverse of :func:`quote_cell`: an exported cell read back as it was."""
    return QuotedCell(text[1:]) if text.startswith(_QUOTED_FORMULA_START) else text


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
        scan = xlsx_scan(path, sheet._worksheet_path)
    except Exception as exc:  # zipfile, XML, KeyError for a missing part, IndexError: no sheet
        raise UnreadableFile(unreadable) from exc
    if scan.unsaved_formulas:
        workbook.close()
        cells = ", ".join(scan.unsaved_formulas[:5])
        raise UnsavedFormulas(ERR_XLSX_FORMULAS.format(name=path.name, cells=cells), cells=cells)
    fill = _fill_merged(scan.merged) if scan.merged else None
    done = [0]

    def rows() -> Iterator[list[str]]:
        try:
            for values in sheet.iter_rows(values_only=True):
                done[0] += 1
                cells = _unquoted([cell_text(v) for v in values])
                yield fill(done[0], cells) if fill else cells
        except Exception as exc:
            raise UnreadableFile(unreadable) from exc
        finally:
            workbook.close()

    return TableReader(path, rows(), total, lambda: done[0])


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ERR_XLSX_FORMULAS = (
    "{name}: cell {cells} holds a formula whose result was never saved (the file was not "
    "calculated by a spreadsheet program); open it in Excel and save it again, or paste the "
    "values instead of the formulas"
)


@dataclass
class SheetScan:
    """What openpyxl's streaming reader does not say about a sheet: its merged ranges (as
    ``(first row, first column, last row, last column)``, 1-based) and the cells holding a
    formula without a saved result (which read as empty)."""

    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    unsaved_formulas: list[str] = field(default_factory=list)


def _cell_index(ref: str) -> tuple[int, int]:
    column = 0
    digits = ""
    for char in ref:
        if char.isalpha():
            column = column * 26 + (ord(char.upper()) - 64)
        else:
            digits += char
    return int(digits), column


def xlsx_scan(path: Path, worksheet_path: str) -> SheetScan:
    """One streaming pass over the sheet's XML (flat memory) for :class:`SheetScan`."""
    import zipfile

    # the parser openpyxl reads the same sheet with (defusedxml's when installed): this pass
    # is exposed to nothing the import's own read is not
    from openpyxl.xml.functions import iterparse

    scan = SheetScan()
    cell, formula, value, merge, row = (
        _SHEET_NS + "c",
        _SHEET_NS + "f",
        _SHEET_NS + "v",
        _SHEET_NS + "mergeCell",
        _SHEET_NS + "row",
    )
    with zipfile.ZipFile(path) as archive, archive.open(worksheet_path.lstrip("/")) as xml:
        for _event, element in iterparse(xml, events=("end",)):
            tag = element.tag
            if tag == cell:
                if element.find(formula) is not None:
                    saved = element.find(value)
                    if saved is None or saved.text is None:
                        scan.unsaved_formulas.append(element.get("r", "?"))
            elif tag == row:
                element.clear()
            elif tag == merge:
                first, _sep, last = element.get("ref", "").partition(":")
                if first and last:
                    scan.merged.append((*_cell_index(first), *_cell_index(last)))
    return scan


def _fill_merged(merged: list[tuple[int, int, int, int]]):
    """A function ``(row number, cells) -> cells`` that gives every cell of a merged range the
    value of its first cell, as the spreadsheet shows it (a date merged over the rows of one
    sale's items belongs to each of them)."""
    by_row: dict[int, list[tuple[int, int, int, int]]] = {}
    for r1, c1, r2, c2 in merged:
        for r in range(r1, r2 + 1):
            by_row.setdefault(r, []).append((r1, c1, c2, r2))
    first_values: dict[tuple[int, int], str] = {}

    def fill(number: int, cells: list[str]) -> list[str]:
        for r1, c1, c2, r2 in by_row.get(number, ()):
            if number == r1:
                first_values[(r1, c1)] = cells[c1 - 1] if len(cells) >= c1 else ""
            text = first_values.get((r1, c1), "")
            if len(cells) < c2:
                cells = cells + [""] * (c2 - len(cells))
            for c in range(c1, c2 + 1):
                cells[c - 1] = text
            if number == r2:
                first_values.pop((r1, c1), None)
        return cells

    return fill


class UnreadableFile(InvalidInput):
    """A file that cannot be read as the type its name says."""


class UnsavedFormulas(UnreadableFile):
    """A workbook whose formulas have no saved results (they would read as empty cells)."""

    def __init__(self, message: str, *, cells: str):
        super().__init__(message)
        self.cells = cells


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
