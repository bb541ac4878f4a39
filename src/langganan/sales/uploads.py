"""Files uploaded for import from the browser: checked by size and by content, kept outside
the web root until their import ends, and read for the preview.

A file is stored as ``<LANGGANAN_DATA_DIR>/uploads/<merchant id>/<uuid>.<csv|xlsx>`` (the
folder readable by the server's user only) and deleted when its import has run or is
cancelled. The largest accepted file is ``LANGGANAN_IMPORT_MAX_MB`` megabytes (default 50).
"""

from __future__ import annotations

import codecs
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from langganan.core.errors import InvalidInput
from langganan.core.money import format_rupiah, parse_money
from langganan.sales.importing.common import numbered_rows
from langganan.sales.importing.fields import (
    CUSTOMER_FIELDS,
    TRANSACTION_FIELDS,
    MappingError,
    parse_date,
    resolve_columns,
)
from langganan.sales.importing.readers import UnreadableFile, UnsavedFormulas, open_table

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PREVIEW_ROWS = 10
_CHUNK = 1 << 20
#: C0 control characters that text files do not hold (tab, LF, FF and CR are allowed)
_CONTROL = set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
#: the parts every .xlsx workbook has
_XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


class UploadRefused(InvalidInput):
    """A file that cannot be imported; the message says why, in the user's language."""


def max_bytes() -> int:
    return int(float(settings.LANGGANAN_IMPORT_MAX_MB) * 1024 * 1024)


def upload_dir(merchant_id: int) -> Path:
    folder = Path(settings.DATA_DIR) / "uploads" / str(merchant_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _suffix(name: str) -> str:
    suffix = Path(name or "").suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise UploadRefused(
        _(
            "This file type cannot be imported. Choose a CSV file (.csv) or an Excel "
            "workbook (.xlsx)."
        )
    )


def _check_xlsx(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRefused(_xlsx_unreadable()) from exc
    if not all(part in names for part in _XLSX_PARTS):
        raise UploadRefused(_xlsx_unreadable())


def _xlsx_unreadable() -> str:
    return _(
        "This file is not a readable Excel workbook (.xlsx): it is damaged or of another type. "
        "Open it in Excel and save it again as .xlsx, or save it as CSV."
    )


def _check_text(path: Path) -> None:
    """CSV: text in UTF-8 (with or without BOM) or Windows-1252/Latin-1, with no NUL byte or
    other control character a text file does not hold (a picture, a PDF or a workbook renamed
    .csv has them)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with open(path, "rb") as raw:
        first = raw.read(4)
        raw.seek(0)
        if first.startswith(b"PK\x03\x04"):
            raise UploadRefused(
                _(
                    "This file is an Excel workbook saved with a .csv name. Rename it to "
                    ".xlsx, or save it from Excel as CSV."
                )
            )
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise UploadRefused(
                _(
                    "This file is saved as Unicode text (UTF-16). In Excel, choose "
                    "Save As → CSV UTF-8 (comma delimited) and upload that file."
                )
            )
        while chunk := raw.read(_CHUNK):
            if not _CONTROL.isdisjoint(chunk):
                raise UploadRefused(
                    _(
                        "This file is not a CSV text file (it holds binary data). Choose the "
                        "CSV or Excel file exported from your cash register or spreadsheet."
                    )
                )
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False  # read as Windows-1252, which decodes every byte
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                pass


def upload_store(*, merchant_id: int, uploaded) -> tuple[Path, int]:
    """Check ``uploaded`` (a Django ``UploadedFile``) and store it; returns the stored path and
    its size. Refuses with :class:`UploadRefused` (nothing kept) when the file is empty, too
    large, of another type than its name says, or unreadable."""
    if uploaded is None:
        raise UploadRefused(_("Choose a file to upload."))
    ext = _suffix(uploaded.name)
    limit = max_bytes()
    if uploaded.size is not None and uploaded.size > limit:
        raise UploadRefused(too_large_message(uploaded.size))
    path = upload_dir(merchant_id) / f"{uuid.uuid4().hex}.{ext}"
    size = 0
    try:
        with open(path, "xb") as out:
            path.chmod(0o600)
            for chunk in uploaded.chunks():
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(too_large_message(size))
                out.write(chunk)
        if size == 0:
            raise UploadRefused(_("The file is empty. Choose the file that holds your data."))
        if ext == "xlsx":
            _check_xlsx(path)
        else:
            _check_text(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


def too_large_message(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return _(
        "The file is too large (%(size)s); the largest file that can be imported here is "
        "%(limit)s. Split it into smaller files, or ask your technician to import it with "
        "the langganan import command."
    ) % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())}


def upload_delete(path: str | Path | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


# -- the preview ------------------------------------------------------------------------------


def fields_for(kind: str) -> tuple[str, ...]:
    return CUSTOMER_FIELDS if kind == "pelanggan" else TRANSACTION_FIELDS


@dataclass
class Sample:
    """How the importer reads one kind of cell: the format found, a cell and its reading."""

    field: str
    format: str
    cell: str
    reading: str


@dataclass
class Preview:
    headers: list[str]
    has_header: bool
    rows: list[tuple[int, list[str]]]
    #: the field of each column (``""``: ignored)
    fields: list[str]
    samples: list[Sample] = field(default_factory=list)


DATE_FIELDS = ("date", "birth_date", "joined_at")
AMOUNT_FIELDS = ("total", "unit_price", "discount")


def _date_format(text: str) -> str:
    raw = text.strip()
    day_part = raw.split("T")[0].split(" ")[0]
    if len(day_part) == 8 and day_part.isdigit():
        shape = "YYYYMMDD"
    elif day_part[:4].isdigit() and day_part[4:5] == "-":
        shape = "YYYY-MM-DD"
    else:
        separator = next((c for c in day_part if not c.isdigit()), "/")
        year = "YYYY" if len(day_part.split(separator)[-1]) == 4 else "YY"
        shape = separator.join(("DD", "MM", year))
    return shape + (" " + _("with time") if day_part != raw else "")


def _amount_format(text: str) -> str:
    """How an amount is written, in words with an example."""
    raw = text.strip()
    digits = re.sub(r"^(?:rp|idr)\.?\s*", "", raw.lower())
    if "." in digits and "," in digits:
        if digits.rfind(".") > digits.rfind(","):
            shape = _("thousands with a comma, decimals with a dot (1,250,000.50)")
        else:
            shape = _("thousands with a dot, decimals with a comma (1.250.000,50)")
    elif "." in digits or "," in digits:
        mark = "." if "." in digits else ","
        if len(digits.rsplit(mark, 1)[1]) == 3:
            shape = (
                _("thousands with a dot (25.000)")
                if mark == "."
                else _("thousands with a comma (25,000)")
            )
        else:
            shape = (
                _("decimals with a dot (25000.50)")
                if mark == "."
                else _("decimals with a comma (25000,50)")
            )
    else:
        shape = _("a plain number (25000)")
    return shape + (" " + _("after Rp") if digits != raw.lower() else "")


def _reading_of_date(day: date, clock: time | None) -> str:
    from django.utils.formats import date_format

    text = date_format(day, "j F Y")
    if clock is not None:
        text += " " + _("at %(time)s") % {"time": clock.strftime("%H.%M")}
    return text


def _samples(fields: list[str], rows: list[tuple[int, list[str]]]) -> list[Sample]:
    samples = []
    for index, name in enumerate(fields):
        if name not in DATE_FIELDS + AMOUNT_FIELDS:
            continue
        cell = next(
            (cells[index].strip() for _n, cells in rows if index < len(cells) and cells[index]),
            "",
        )
        if not cell:
            continue
        if name in DATE_FIELDS:
            try:
                reading = _reading_of_date(*parse_date(cell))
            except ValueError:
                reading = _("not a date the importer can read")
            samples.append(Sample(name, _date_format(cell), cell, reading))
        else:
            try:
                reading = format_rupiah(parse_money(cell), cents=True)
            except ValueError:
                reading = _("not an amount the importer can read")
            samples.append(Sample(name, _amount_format(cell), cell, reading))
    return samples


def preview_read(*, path: str | Path, kind: str, mapping: dict[str, str]) -> Preview:
    """The first rows of the file, the field the importer gives each column with ``mapping``
    and how it reads the first date and amount cells. Raises :class:`UploadRefused` when the
    file cannot be read."""
    try:
        reader = open_table(path)
    except UnsavedFormulas as exc:
        raise UploadRefused(
            _(
                "Cell %(cells)s holds a formula whose result was never saved, so it would be "
                "read as empty. Open the file in Excel and save it again, or paste the values "
                "instead of the formulas."
            )
            % {"cells": exc.cells}
        ) from exc
    except UnreadableFile as exc:
        raise UploadRefused(_xlsx_unreadable()) from exc
    try:
        header, data, width = numbered_rows(reader, mapping, no_header=False)
        rows: list[tuple[int, list[str]]] = []
        for number, cells in data:
            rows.append((number, cells))
            width = max(width, len(cells))
            if len(rows) >= PREVIEW_ROWS:
                break
        columns = resolve_columns(header, mapping, fields_for(kind), width)
    except UnreadableFile as exc:
        raise UploadRefused(_xlsx_unreadable()) from exc
    except (ValueError, MappingError) as exc:
        raise UploadRefused(
            _("The file has no rows to import. Choose the file that holds your data.")
        ) from exc
    finally:
        reader.rows.close()
    by_index = {index: name for name, index in columns.columns.items()}
    fields = [by_index.get(i, "") for i in range(width)]
    headers = [
        (header[i] if header and i < len(header) else "") or _("Column %(n)s") % {"n": i + 1}
        for i in range(width)
    ]
    rows = [(n, cells + [""] * (width - len(cells))) for n, cells in rows]
    return Preview(headers, header is not None, rows, fields, _samples(fields, rows))
