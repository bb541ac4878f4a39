"""Export customers and transactions to CSV or .xlsx (chosen by the file's extension), and the
customers' points, store credit and tab balances.

The columns use the importer's canonical names, so an export imports back unchanged; with
``headers="id"`` (the dashboard's export) they are Indonesian headers that the importer reads as
the same fields (:data:`INDONESIAN_HEADERS`, each one of the importer's aliases), so that file
imports back unchanged too. Transactions are written one row per line item (one row for a
transaction without items).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
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


#: the dashboard's Indonesian header of each column: every one an alias the importer reads as
#: that field (``kind`` and ``refund_of`` are for reading only; the importer passes them over)
INDONESIAN_HEADERS: dict[str, str] = {
    "customer_id": "ID Pelanggan",
    "phone": "No HP",
    "name": "Nama",
    "email": "Email",
    "member_code": "Kode Member",
    "gender": "Jenis Kelamin",
    "greeting": "Sapaan",
    "birth_date": "Tanggal Lahir",
    "address": "Alamat",
    "city": "Kota",
    "province": "Provinsi",
    "joined_at": "Tanggal Daftar",
    "acquisition_source": "Sumber",
    "tags": "Tag",
    "notes": "Catatan",
    "consent_email": "Izin Email",
    "consent_whatsapp": "Izin WA",
    "consent_sms": "Izin SMS",
    "transaction_id": "No Transaksi",
    "date": "Tanggal",
    "time": "Jam",
    "outlet": "Kode Outlet",
    "payment_method": "Metode Pembayaran",
    "channel": "Saluran",
    "total": "Total (Rp)",
    "product": "Produk",
    "category": "Kategori",
    "quantity": "Jumlah",
    "unit_price": "Harga Satuan (Rp)",
    "discount": "Diskon (Rp)",
    "kind": "Jenis Transaksi",
    "refund_of": "Refund Dari",
}
#: the balances table (for reading, not for import): one row per customer with an account
BALANCE_COLUMNS = [
    "ID Pelanggan",
    "Nama",
    "No HP",
    "Kode Member",
    "Poin",
    "Nilai Poin (Rp)",
    "Saldo Toko (Rp)",
    "Kasbon Terutang (Rp)",
    "Limit Kasbon (Rp)",
]
TABLES = ("customers", "transactions", "balances")


def safe_cell(value):
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


def _balance_rows(merchant: Merchant) -> Iterator[list]:
    from django.db.models import DecimalField, Exists, OuterRef, Subquery

    from langganan.loyalty.models import Account, AccountKind, Program

    program = Program.objects.filter(merchant=merchant).first()
    point_value = program.point_value if program is not None else Decimal(0)
    money = DecimalField(max_digits=18, decimal_places=2)

    def balance(kind: str, column: str = "balance"):
        account = Account.objects.filter(customer_id=OuterRef("pk"), kind=kind)
        return Subquery(account.values(column)[:1], output_field=money)

    customers = (
        Customer.objects.filter(merchant=merchant)
        .filter(Exists(Account.objects.filter(customer_id=OuterRef("pk"))))
        .annotate(
            points=balance(AccountKind.POINTS),
            credit=balance(AccountKind.CREDIT),
            tab=balance(AccountKind.TAB),
            tab_floor=balance(AccountKind.TAB, "floor"),
        )
        .order_by("id")
    )
    for c in customers.iterator(chunk_size=2000):
        points = Decimal(c.points or 0)
        yield [
            c.external_ref or "",
            c.full_name,
            c.phone or "",
            c.member_code,
            int(points),
            points * point_value,
            Decimal(c.credit or 0),
            max(Decimal(0), Decimal(0) - Decimal(c.tab or 0)),
            Decimal(0) - Decimal(c.tab_floor or 0),
        ]


def _write(path: Path, columns: list[str], rows: Iterable[list]) -> int:
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(columns)
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
            count += 1
        workbook.save(path)
        return count
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            count += 1
    return count


def export_table(*, merchant: Merchant, what: str, path: str | Path, headers: str = "") -> int:
    """Write the merchant's customers, transactions or balances to ``path``; returns the row
    count. ``headers="id"``: Indonesian headers (:data:`INDONESIAN_HEADERS`)."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInput(ERR_EXPORT_TYPE)
    tz = ZoneInfo(merchant.time_zone)

    def named(columns: list[str]) -> list[str]:
        return [INDONESIAN_HEADERS[c] for c in columns] if headers == "id" else columns

    if what == "customers":
        return _write(path, named(CUSTOMER_COLUMNS), _customer_rows(merchant, tz))
    if what == "transactions":
        return _write(path, named(TRANSACTION_COLUMNS), _transaction_rows(merchant, tz))
    if what == "balances":
        return _write(path, BALANCE_COLUMNS, _balance_rows(merchant))
    raise InvalidInput("export customers, transactions or balances")
