"""Opening balances: points and tab debts carried over from a previous system.

The file (CSV in any common encoding and delimiter, or .xlsx) has a header row and one row per
customer:

- ``phone``, ``member_code`` or ``external_ref`` (also read under the headers the customers import
  knows, e.g. ``no_hp``, ``kode_member``, ``customer_id``) finds the customer; when a row has more
  than one, they must all find the same customer;
- ``points`` (``poin``): whole points, zero or more;
- ``tab_owed`` (``kasbon``, ``utang``): what the customer owes, Rupiah, zero or more;
- ``points_expire_on`` (optional): the day the points expire; they can be used through that
  whole day (the lot expires at midnight at its end, in the merchant's time zone). Without it
  the points expire by the program's policy, counted from the import (never, when the merchant
  has no loyalty program yet). A day already past is refused.

All or nothing: every row is checked first, and one bad row (reported with its row number, the
header being row 1) means nothing is written. Re-importing is safe: each customer's opening
points and opening debt are one ledger event each (keys ``opening:points:<customer id>`` and
``opening:tab:<customer id>``), so a second import of the same file posts nothing new and
counts those rows as already imported (a warning says so when the file now says otherwise).

A debt above the customer's tab limit is refused, unless ``set_limit`` is given: then the
limit is raised to the debt (a higher limit is never lowered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone

from langganan.core.errors import InvalidInput, NotFound
from langganan.core.models import Merchant
from langganan.core.money import format_rupiah, parse_money
from langganan.core.phones import normalize_phone
from langganan.customers.models import Customer
from langganan.loyalty.ledger import (
    accounts_lock,
    customer_account,
    journal_post,
    system_account,
)
from langganan.loyalty.models import AccountKind, Entry, Journal, JournalKind, PointLot
from langganan.sales.importing.common import MAX_ERRORS_REPORTED, RowError
from langganan.sales.importing.fields import ALIASES, parse_date
from langganan.sales.importing.fields import normalize_header as _normalize_header
from langganan.sales.importing.readers import ERR_FILE_EMPTY, open_table

ZERO = Decimal("0")
LOOKUP_CHUNK = 500

ERR_NO_ID_COLUMN = "the file needs a phone, member_code or external_ref column"
ERR_NO_AMOUNT_COLUMN = "the file needs a points or tab_owed column"
ERR_NO_ID = "no phone, member code or external reference"
ERR_UNKNOWN_CUSTOMER = "no customer with this {what}"
ERR_IDS_DISAGREE = "the phone, member code and external reference point to different customers"
ERR_DUPLICATE_CUSTOMER = "the same customer is already in row {row}"
ERR_NOT_A_NUMBER = "not a number"
ERR_POINTS_NEGATIVE = "points cannot be negative"
ERR_POINTS_NOT_WHOLE = "points must be a whole number"
ERR_TAB_NEGATIVE = "the amount owed cannot be negative"
ERR_EXPIRY_PAST = "the expiry date has already passed"
ERR_TAB_OVER_LIMIT = (
    "owes {owed}, above the customer's tab limit {limit} (use --set-limit to raise the limit)"
)
ERR_PHONE = "not a valid phone number"
OPENING_MEMO = "opening balance"
WARN_ALREADY = "row {row}: {what} already imported as {before}; the file says {now}, not changed"

#: canonical column -> header spellings (after normalize_header)
COLUMNS: dict[str, tuple[str, ...]] = {
    "phone": ALIASES["phone"],
    "member_code": ALIASES["member_code"],
    "external_ref": ("external_ref", "ref", *ALIASES["customer_id"]),
    "points": ("points", "point", "poin", "saldo_poin", "points_balance", "jumlah_poin"),
    "tab_owed": ("tab_owed", "tab", "owed", "kasbon", "utang", "hutang", "saldo_kasbon"),
    "points_expire_on": (
        "points_expire_on",
        "points_expire",
        "expire_on",
        "expires_on",
        "expiry",
        "expiry_date",
        "kedaluwarsa",
        "poin_kedaluwarsa",
        "tanggal_kedaluwarsa",
    ),
}
_ID_COLUMNS = ("phone", "member_code", "external_ref")


@dataclass
class OpeningImportResult:
    """What an opening-balance import did (or, when ``committed`` is false, would not do)."""

    rows_read: int = 0
    points_posted: int = 0  # customers whose opening points were posted now
    points_total: int = 0
    tab_posted: int = 0  # customers whose opening debt was posted now
    tab_total: Decimal = ZERO
    limits_set: int = 0
    already_imported: int = 0  # postings skipped: posted by an earlier import
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    committed: bool = False

    def add_error(self, row: int, reason: str, field_name: str | None = None, value=None):
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_REPORTED:
            self.errors.append(RowError(row, reason, field_name, value))

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "points_posted": self.points_posted,
            "points_total": self.points_total,
            "tab_posted": self.tab_posted,
            "tab_total": str(self.tab_total),
            "limits_set": self.limits_set,
            "already_imported": self.already_imported,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "warnings": self.warnings,
            "committed": self.committed,
        }


@dataclass
class _Row:
    number: int
    ids: dict[str, str]
    points: int
    tab_owed: Decimal
    expires_at: datetime | None
    customer: Customer | None = None


class _Rollback(Exception):
    pass


def _columns(header: list[str]) -> dict[str, int]:
    index = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for position, text in enumerate(header):
        name = index.get(_normalize_header(text))
        if name and name not in found:
            found[name] = position
    if not any(name in found for name in _ID_COLUMNS):
        raise InvalidInput(ERR_NO_ID_COLUMN)
    if "points" not in found and "tab_owed" not in found:
        raise InvalidInput(ERR_NO_AMOUNT_COLUMN)
    return found


def _read_rows(path: Path, result: OpeningImportResult, zone, today) -> list[_Row]:
    try:
        reader = open_table(path)
    except (ValueError, FileNotFoundError) as exc:
        raise InvalidInput(str(exc)) from exc
    number = 0
    columns: dict[str, int] | None = None
    rows: list[_Row] = []
    for cells in reader.rows:
        number += 1
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            columns = _columns(cells)
            continue
        result.rows_read += 1

        def cell(name: str, cells=cells, columns=columns) -> str:
            position = columns.get(name)
            return cells[position].strip() if position is not None and position < len(cells) else ""

        row = _parse_row(number, cell, result, zone, today)
        if row is not None:
            rows.append(row)
    if columns is None:
        raise InvalidInput(ERR_FILE_EMPTY)
    return rows


def _parse_row(number: int, cell, result: OpeningImportResult, zone, today) -> _Row | None:
    errors_before = result.error_count
    ids = {name: cell(name) for name in _ID_COLUMNS if cell(name)}
    if "phone" in ids:
        try:
            ids["phone"] = normalize_phone(ids["phone"]) or ""
        except ValueError:
            result.add_error(number, ERR_PHONE, "phone", cell("phone"))
    if not any(ids.values()):
        result.add_error(number, ERR_NO_ID)
    points = 0
    if text := cell("points"):
        try:
            value = parse_money(text)
        except ValueError:
            result.add_error(number, ERR_NOT_A_NUMBER, "points", text)
        else:
            if value < 0:
                result.add_error(number, ERR_POINTS_NEGATIVE, "points", text)
            elif value != value.to_integral_value():
                result.add_error(number, ERR_POINTS_NOT_WHOLE, "points", text)
            else:
                points = int(value)
    owed = ZERO
    if text := cell("tab_owed"):
        try:
            owed = parse_money(text)
        except ValueError:
            result.add_error(number, ERR_NOT_A_NUMBER, "tab_owed", text)
        else:
            if owed < 0:
                result.add_error(number, ERR_TAB_NEGATIVE, "tab_owed", text)
    expires_at = None
    if text := cell("points_expire_on"):
        try:
            day, _clock = parse_date(text)
        except ValueError as exc:
            result.add_error(number, str(exc), "points_expire_on", text)
        else:
            if day < today:
                result.add_error(number, ERR_EXPIRY_PAST, "points_expire_on", text)
            expires_at = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    if result.error_count > errors_before:
        return None
    return _Row(number, {k: v for k, v in ids.items() if v}, points, owed, expires_at)


def _resolve_customers(merchant: Merchant, rows: list[_Row], result: OpeningImportResult) -> None:
    """Find each row's customer (a few queries per 500 rows), and refuse duplicates."""
    found: dict[tuple[str, str], Customer] = {}
    for start in range(0, len(rows), LOOKUP_CHUNK):
        chunk = rows[start : start + LOOKUP_CHUNK]
        for name in _ID_COLUMNS:
            values = {r.ids[name] for r in chunk if name in r.ids}
            if not values:
                continue
            customers = Customer.objects.filter(merchant=merchant)
            if name == "member_code":  # member codes match whatever their case
                customers = customers.annotate(code_upper=Upper("member_code")).filter(
                    code_upper__in={v.upper() for v in values}
                )
            else:
                customers = customers.filter(**{f"{name}__in": values})
            for customer in customers:
                key = getattr(customer, name)
                found[(name, key.upper() if name == "member_code" else key)] = customer
    first_row: dict[int, int] = {}
    labels = {"phone": "phone", "member_code": "member code", "external_ref": "external reference"}
    for row in rows:
        matches = set()
        for name, value in row.ids.items():
            customer = found.get((name, value.upper() if name == "member_code" else value))
            if customer is None:
                result.add_error(
                    row.number, ERR_UNKNOWN_CUSTOMER.format(what=labels[name]), name, value
                )
                break
            matches.add(customer)
        else:
            if len(matches) > 1:
                result.add_error(row.number, ERR_IDS_DISAGREE)
                continue
            row.customer = matches.pop()
            earlier = first_row.setdefault(row.customer.pk, row.number)
            if earlier != row.number:
                result.add_error(row.number, ERR_DUPLICATE_CUSTOMER.format(row=earlier))


def _posted_amount(journal: Journal, kind: str) -> Decimal:
    entry = Entry.objects.filter(journal=journal, account__kind=kind).first()
    return abs(Decimal(entry.amount)) if entry else ZERO


def _points_post(row: _Row, key: str, at: datetime) -> None:
    """Through ``points_earn`` (a lot expiring on the file's date, else by the program's
    policy); when the merchant has no active program yet, posted directly, with a lot that
    expires on the file's date or never."""
    from langganan.loyalty.points import points_earn

    customer = row.customer
    try:
        journal = points_earn(
            customer=customer,
            points=row.points,
            key=key,
            at=at,
            kind=JournalKind.OPENING,
            memo=OPENING_MEMO,
            expires_at=row.expires_at,
        )
    except NotFound:  # no loyalty program yet
        journal = None
    if journal is not None:
        return
    merchant = customer.merchant
    account = customer_account(customer=customer, kind=AccountKind.POINTS)
    journal = journal_post(
        merchant=merchant,
        kind=JournalKind.OPENING,
        key=key,
        postings=[
            (account, row.points),
            (system_account(merchant=merchant, code="points_opening"), -row.points),
        ],
        memo=OPENING_MEMO,
        posted_at=at,
    )
    PointLot.objects.create(
        account=account,
        journal=journal,
        earned_at=at,
        expires_at=row.expires_at,
        amount=row.points,
        remaining=row.points,
    )


def _tab_post(row: _Row, key: str, at: datetime, set_limit: bool, result) -> None:
    customer = row.customer
    account = customer_account(customer=customer, kind=AccountKind.TAB)
    account = accounts_lock([account])[account.pk]
    available = Decimal(account.balance) - Decimal(account.floor or 0)
    if row.tab_owed > available:
        if not set_limit:
            limit = -Decimal(account.floor or 0) + ZERO
            result.add_error(
                row.number,
                ERR_TAB_OVER_LIMIT.format(
                    owed=format_rupiah(row.tab_owed, cents=True),
                    limit=format_rupiah(limit, cents=True),
                ),
                "tab_owed",
                str(row.tab_owed),
            )
            return
        from langganan.loyalty.tab import tab_set_limit

        owed_now = max(ZERO, -Decimal(account.balance))
        tab_set_limit(
            customer=customer,
            limit=owed_now + row.tab_owed,
            at=at,
            actor="opening balances import",
        )
        result.limits_set += 1
    journal_post(
        merchant=customer.merchant,
        kind=JournalKind.OPENING,
        key=key,
        postings=[
            (account, -row.tab_owed),
            (system_account(merchant=customer.merchant, code="tab_opening"), row.tab_owed),
        ],
        memo=OPENING_MEMO,
        posted_at=at,
    )


def opening_balances_import(
    *,
    merchant: Merchant,
    path: str | Path,
    set_limit: bool = False,
    at: datetime | None = None,
) -> OpeningImportResult:
    """Import opening points and tab debts from ``path``; see the module docstring.

    Returns the result; ``committed`` is false (and nothing was written) when any row is bad.
    Raises :class:`InvalidInput` when the file cannot be read or lacks the needed columns.
    """
    at = at or timezone.now()
    zone = ZoneInfo(merchant.time_zone or "Asia/Jakarta")
    today = at.astimezone(zone).date()
    result = OpeningImportResult()
    rows = _read_rows(Path(path), result, zone, today)
    _resolve_customers(merchant, rows, result)
    if result.error_count:
        result.errors.sort(key=lambda error: error.row)
        return result
    keys = {}
    for row in rows:
        keys[(row.number, "points")] = f"opening:points:{row.customer.pk}"
        keys[(row.number, "tab")] = f"opening:tab:{row.customer.pk}"
    existing = {
        j.key: j for j in Journal.objects.filter(merchant=merchant, key__in=list(keys.values()))
    }
    try:
        with transaction.atomic():
            for row in rows:
                _row_post(row, keys, existing, at, set_limit, result)
            if result.error_count:
                raise _Rollback
    except _Rollback:
        result.points_posted = result.points_total = result.tab_posted = 0
        result.tab_total = ZERO
        result.limits_set = result.already_imported = 0
        return result
    result.committed = True
    return result


def _row_post(row: _Row, keys, existing, at, set_limit, result: OpeningImportResult) -> None:
    if row.points:
        key = keys[(row.number, "points")]
        if key in existing:
            result.already_imported += 1
            before = int(_posted_amount(existing[key], AccountKind.POINTS))
            if before != row.points:
                result.warnings.append(
                    WARN_ALREADY.format(
                        row=row.number, what="points", before=before, now=row.points
                    )
                )
        else:
            _points_post(row, key, at)
            result.points_posted += 1
            result.points_total += row.points
    if row.tab_owed:
        key = keys[(row.number, "tab")]
        if key in existing:
            result.already_imported += 1
            before = _posted_amount(existing[key], AccountKind.TAB)
            if before != row.tab_owed:
                result.warnings.append(
                    WARN_ALREADY.format(
                        row=row.number,
                        what="tab debt",
                        before=format_rupiah(before, cents=True),
                        now=format_rupiah(row.tab_owed, cents=True),
                    )
                )
        else:
            errors_before = result.error_count
            _tab_post(row, key, at, set_limit, result)
            if result.error_count == errors_before:
                result.tab_posted += 1
                result.tab_total += row.tab_owed
