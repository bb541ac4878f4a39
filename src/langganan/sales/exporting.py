"""Export customers and transactions to CSV or .xlsx (chosen by the file's extension).

The columns use the importer's canonical names, so an export imports back unchanged.
Transactions are written one row per line item (one row for a transaction without items).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import ConsentEvent, Customer
from langganan.sales.importing.fields import CUSTOMER_FIELDS
from langganan.sales.importing.readers import quote_cell
from langganan.sales.models import Transaction

ERR_EXPORT_TYPE = "export to a .csv or .xlsx file"

# The importer's own field names, in its order, so an export imports back unchanged.
CUSTOMER_COLUMNS = list(CUSTOMER_FIELDS)
TRANSACTION_COLUMNS = [
    "transaction_id",
    "date",
    "time",
    "customer_id",
    "phone",
    "name",
    "outlet",
    "payment_method",
    "channel",
    "total",
    "product",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "kind",
    "refund_of",
]


def _safe(value):
    """Keep spreadsheet programs from running a cell as a formula (OWASP's CSV injection):
    text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    single quote. Numbers (a refund's negative total) stay numbers; the importer takes the
    quote off again (:func:`~langganan.sales.importing.readers.unquote_cell`), so an export
    still imports back unchanged."""
    return quote_cell(value) if isinstance(value, str) else value


def _customer_rows(merchant: Merchant, tz: ZoneInfo) -> Iterator[list]:
    consent: dict[int, dict[str, bool]] = {}
    for customer_id, channel, granted in (
        ConsentEvent.objects.filter(merchant=merchant)
        .order_by("customer_id", "occurred_at", "id")
        .values_list("customer_id", "channel", "granted")
        .iterator(chunk_size=5000)
    ):
        consent.setdefault(customer_id, {})[channel] = granted
    for c in Customer.objects.filter(merchant=merchant).order_by("id").iterator(chunk_size=2000):
        state = consent.get(c.pk, {})
        row = {
            "customer_id": c.external_ref or "",
            "phone": c.phone or "",
            "name": c.full_name,
            "email": c.email,
            "member_code": c.member_code,
            "gender": c.gender,
            "greeting": c.greeting,
            "birth_date": c.birth_date.isoformat() if c.birth_date else "",
            "address": c.address,
            "city": c.city,
            "province": c.province,
            "joined_at": c.joined_at.astimezone(tz).isoformat(timespec="seconds"),
            "acquisition_source": c.acquisition_source,
            "tags": ", ".join(c.tags or []),
            "notes": c.notes,
        }
        for channel in ("email", "whatsapp", "sms"):
            row[f"consent_{channel}"] = {True: "ya", False: "tidak"}.get(state.get(channel), "")
        yield [row[column] for column in CUSTOMER_COLUMNS]


def _transaction_rows(merchant: Merchant, tz: ZoneInfo) -> Iterator[list]:
    transactions = (
        Transaction.objects.filter(merchant=merchant)
        .select_related("customer", "outlet", "refund_of")
        .prefetch_related("items__product__category")
        .order_by("occurred_at", "id")
    )
    for t in transactions.iterator(chunk_size=2000):
        local = t.occurred_at.astimezone(tz)
        head = [
            t.external_id or "",
            local.date().isoformat(),
            local.time().isoformat("seconds"),
            (t.customer.external_ref or "") if t.customer else "",
            (t.customer.phone or "") if t.customer else "",
            t.customer.full_name if t.customer else "",
            t.outlet.code,
            t.payment_method,
            t.channel,
            t.total,
        ]
        tail = [t.kind, (t.refund_of.external_id or t.refund_of.pk) if t.refund_of else ""]
        items = list(t.items.all())
        if not items:
            quantity = t.item_count if t.item_count is not None else ""
            yield [*head, "", "", quantity, "", "", *tail]
        for item in items:
            category = item.product.category.name if item.product and item.product.category else ""
            yield [
                *head,
                item.product_name,
                category,
                item.quantity,
                item.unit_price,
                item.discount,
                *tail,
            ]


def _write(path: Path, columns: list[str], rows: Iterable[list]) -> int:
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(columns)
        for row in rows:
            sheet.append([_safe(v) for v in row])
            count += 1
        workbook.save(path)
        return count
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_safe(v) for v in row])
            count += 1
    return count


def export_table(*, merchant: Merchant, what: str, path: str | Path) -> int:
    """Write the merchant's customers or transactions to ``path``; returns the row count."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInput(ERR_EXPORT_TYPE)
    tz = ZoneInfo(merchant.time_zone)
    if what == "customers":
        return _write(path, CUSTOMER_COLUMNS, _customer_rows(merchant, tz))
    if what == "transactions":
        return _write(path, TRANSACTION_COLUMNS, _transaction_rows(merchant, tz))
    raise InvalidInput("export customers or transactions")
