"""Import transactions from CSV or .xlsx.

Rows become transactions as follows:

* with a transaction id column (``external_id``), consecutive rows with the same id are the
  line items of one transaction;
* without one, and with a product column, consecutive rows with the same customer, date, time,
  outlet, payment method and channel are the line items of one transaction (one visit);
* without a product column, every row is one transaction (a quantity column becomes its
  item count).

Totals: when every row's total equals its own line amount (quantity × price − discount), the
totals are line totals and the transaction's total is their sum; otherwise, when the total
column holds the same value on every row of a transaction, it is the receipt total (which may
include tax or service charge); otherwise the transaction's total is the sum of its lines.
Without a total column the total is the sum of quantity × unit price − discount.

Idempotency: a transaction with an id is skipped when the merchant already has that id. A
transaction without one gets an import key: a digest of its parsed content (customer, time,
total, payment, channel, outlet, items) and of its occurrence number among identical
transactions in the same file. Two identical rows are therefore two sales, and importing the
same file again creates nothing.

All or nothing: the import runs in one database transaction. With any bad row it is rolled
back and every bad row is reported; with ``skip_invalid`` the valid rows are committed and the
bad ones are written to a reject file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import connection
from django.utils import timezone

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant, Outlet
from langganan.core.money import parse_money, to_money
from langganan.core.phones import normalize_phone
from langganan.core.services import outlet_get_or_create_default
from langganan.customers.models import Customer
from langganan.customers.services import member_code_generate
from langganan.sales.importing.common import (
    FileImport,
    ImportReport,
    RowError,
)
from langganan.sales.importing.fields import (
    ERR_QUANTITY,
    TRANSACTION_FIELDS,
    parse_channel,
    parse_date,
    parse_payment_method,
    parse_time,
)
from langganan.sales.importing.writing import (
    DeferredIndexes,
    datetime_value,
    insert_objects,
    insert_rows,
    is_postgres,
    reserve_ids,
)
from langganan.sales.models import (
    LineItem,
    Product,
    ProductCategory,
    Transaction,
    TransactionPayment,
)

CHUNK = 5000
#: customers (by reference and by phone) and phone numbers whose look-up is kept: a café's
#: whole clientele fits, so a file of a million sales by 125,000 customers asks each once
CUSTOMER_CACHE_LIMIT = 300_000
#: distinct cell texts (dates, times, amounts, methods) whose parsed value is kept; past it the
#: memo starts again, so memory stays flat on files where every value differs
PARSE_CACHE_LIMIT = 4096

_TRANSACTION_FIELDS = (
    "id",
    "merchant",
    "outlet",
    "customer",
    "kind",
    "refund_of",
    "occurred_at",
    "total",
    "payment_method",
    "channel",
    "item_count",
    "external_id",
    "import_key",
    "note",
    "recorded_by",
    "created_at",
)
_LINE_FIELDS = ("transaction", "product", "product_name", "quantity", "unit_price", "discount")
_PAYMENT_FIELDS = ("transaction", "method", "amount")
_CUSTOMER_VARYING = ("full_name", "email", "phone", "external_ref", "member_code", "joined_at")
#: a file this large (bytes of CSV per expected row, or rows of a workbook) into a table this
#: small has the sales tables' plain indexes built once at the end (SQLite)
DEFER_INDEXES_MIN_ROWS = 50_000
CSV_BYTES_PER_ROW = 100


_MIDNIGHT = time(0, 0)


def _sqlite_datetime(value: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime: naive UTC text."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _columns(model, names: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


class _Memo:
    """Parsed values of repeated cell texts: a file's dates, amounts and methods repeat, so
    each distinct text is parsed once (its error too) and the rows reuse the result."""

    def __init__(self, parse, limit: int = PARSE_CACHE_LIMIT):
        self.parse = parse
        self.limit = limit
        self.values: dict = {}

    def __call__(self, key: str):
        hit = self.values.get(key)
        if hit is None:
            if len(self.values) >= self.limit:
                self.values.clear()
            try:
                hit = self.parse(key)
            except ValueError as exc:
                hit = _Failed(str(exc))
            self.values[key] = hit
        if type(hit) is _Failed:
            raise ValueError(hit.reason)
        return hit


class _Failed:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


ERR_NEED_DATE = "the file needs a date column (tanggal/date); name it with --map HEADER=date"
ERR_NEED_AMOUNT = (
    "the file needs a total column (total/amount), or product with unit price (produk, harga)"
)
ERR_TOTAL_MISSING = "total is missing"
ERR_TOTAL_NEGATIVE = "total is negative; refunds are recorded through the refund service"
ERR_PRICE_MISSING = "unit price is missing"
ERR_DISCOUNT = "discount is negative or larger than the line amount"
ERR_OUTLET_UNKNOWN = "unknown outlet"
ERR_DUPLICATE_ID_IN_FILE = (
    "this transaction id already appeared earlier in the file, apart from its other rows"
)


@dataclass
class Line:
    product: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal


@dataclass
class Draft:
    """One parsed transaction, not yet written."""

    rows: list[tuple[int, list[str]]]
    occurred_at: datetime
    total: Decimal
    payment_method: str
    channel: str
    outlet_id: int
    external_id: str | None
    customer_ref: str | None
    phone: str | None
    name: str
    email: str
    item_count: Decimal | None
    lines: list[Line] = field(default_factory=list)
    customer_id: int | None = None
    import_key: str | None = None
    pk: int | None = None


class _RowInvalid(Exception):
    def __init__(self, field: str | None, reason: str, value: str | None = None):
        super().__init__(reason)
        self.error_field, self.reason, self.value = field, reason, value


def _parse_quantity(text: str) -> Decimal:
    if not text:
        return Decimal(1)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(ERR_QUANTITY) from exc
    if not value.is_finite() or value <= 0:
        raise ValueError(ERR_QUANTITY)
    return value.quantize(Decimal("0.001"))


class TransactionImport(FileImport):
    kind = "transactions"
    fields = TRANSACTION_FIELDS
    chunk = CHUNK

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._customer_cache: dict[tuple[str, str], int] = {}
        self._products: dict[str, int] = {}
        self._categories: dict[str, int] = {}
        self._outlets: dict[str, int] = {}
        self._created_customer_ids: list[int] = []
        self._buyer_ids: set[int] = set()  # customers with a sale in this import
        self._date = _Memo(parse_date)
        self._time = _Memo(parse_time)
        self._payment = _Memo(parse_payment_method)
        self._channel = _Memo(parse_channel)
        self._amount = _Memo(parse_money)
        self._quantity = _Memo(_parse_quantity)
        self._phone = _Memo(normalize_phone, CUSTOMER_CACHE_LIMIT)
        self._deferred = DeferredIndexes(
            [m._meta.db_table for m in (Transaction, TransactionPayment, LineItem)]
        )

    # -- hooks of the import frame ------------------------------------------------------------

    def check_columns(self) -> None:
        if not self.columns.has("date"):
            raise InvalidInput(ERR_NEED_DATE)
        if not (
            self.columns.has("total")
            or (self.columns.has("product") and self.columns.has("unit_price"))
        ):
            raise InvalidInput(ERR_NEED_AMOUNT)

    def groups(self, rows):
        return self._groups(rows)

    def start(self) -> None:
        self._load_outlets()
        expected = self.size_hint // (1 if self.size_is_rows else CSV_BYTES_PER_ROW)
        if expected >= DEFER_INDEXES_MIN_ROWS and not is_postgres():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT MAX(id) FROM {connection.ops.quote_name(Transaction._meta.db_table)}"  # noqa: S608
                )
                (largest,) = cursor.fetchone()
            if expected >= (largest or 0):
                self._deferred.drop()

    def parse(self, group):
        return self._parse_group(group)

    def flush(self, pending) -> None:
        self._flush(pending)

    def finish(self) -> None:
        """The work after the last row, each step reported to the progress: the indexes
        (the first third), the join dates (the second), the buyers' insights after the commit
        (the rest)."""
        self._deferred.restore(on_step=lambda f: self.finish_progress(f / 3))
        self._settle_joined_dates(on_step=lambda f: self.finish_progress((1 + f) / 3))
        # the buyers' insights follow their imported sales (never failing the import)
        from langganan.insights.live import insights_after_import

        insights_after_import(
            merchant=self.merchant,
            customer_ids=self._buyer_ids,
            on_step=lambda f: self.finish_progress((2 + f) / 3),
        )

    def _groups(self, rows):
        """Consecutive rows that make one transaction (see the module docstring)."""
        cols = self.columns
        visit_fields = (
            "customer_id",
            "phone",
            "date",
            "time",
            "outlet",
            "payment_method",
            "channel",
        )
        group: list[tuple[int, list[str]]] = []
        group_key = None
        for number, cells in rows:
            external_id = cols.get(cells, "external_id")
            if external_id:
                key = ("id", external_id)
            elif cols.get(cells, "product"):
                key = ("visit", *(cols.get(cells, f) for f in visit_fields))
            else:
                key = None
            if group and (key is None or key != group_key):
                yield group
                group = []
            group.append((number, cells))
            group_key = key
        if group:
            yield group

    # -- parsing ----------------------------------------------------------------------------

    def _reject(self, group, bad: dict[int, _RowInvalid]) -> None:
        self.reject(
            group,
            {n: RowError(n, p.reason, p.error_field, p.value) for n, p in bad.items()},
        )

    def _parse_group(self, group) -> Draft | None:
        cols = self.columns
        first_number, first = group[0]
        bad: dict[int, _RowInvalid] = {}
        try:
            draft = self._parse_head(first)
        except _RowInvalid as problem:
            bad[first_number] = problem
            draft = None
        lines: list[tuple[Line, Decimal | None]] = []
        row_totals: list[Decimal | None] = []
        for number, cells in group:
            try:
                total = self._money(cells, "total") if cols.has("total") else None
                if total is not None and total < 0:
                    raise _RowInvalid("total", ERR_TOTAL_NEGATIVE, cols.get(cells, "total"))
                row_totals.append(total)
                product = cols.get(cells, "product")
                if product:
                    lines.append((self._parse_line(cells, product, total), total))
            except _RowInvalid as problem:
                bad.setdefault(number, problem)
        if draft is None or bad:
            self._reject(group, bad)
            return None
        if draft.external_id and not self.scratch.first_time(draft.external_id):
            self._reject(
                group,
                {
                    first_number: _RowInvalid(
                        "external_id", ERR_DUPLICATE_ID_IN_FILE, draft.external_id
                    )
                },
            )
            return None
        draft.rows = group
        draft.lines = [line for line, _ in lines]
        known = [t for t in row_totals if t is not None]
        if lines:
            line_sum = sum(
                (ln.quantity * ln.unit_price - ln.discount for ln in draft.lines), Decimal(0)
            )
            every_row = len(known) == len(group) == len(lines)
            line_totals = every_row and all(
                total == to_money(ln.quantity * ln.unit_price - ln.discount) for ln, total in lines
            )
            if every_row and not line_totals and len(set(known)) == 1:
                draft.total = known[0]  # the receipt total (with tax or service), on each line
            else:
                draft.total = to_money(line_sum)
        else:
            if not known:
                self._reject(group, {first_number: _RowInvalid("total", ERR_TOTAL_MISSING)})
                return None
            draft.total = known[0]
            if cols.has("quantity") and cols.get(first, "quantity"):
                try:
                    draft.item_count = self._quantity(cols.get(first, "quantity"))
                except ValueError as exc:
                    self._reject(
                        group,
                        {
                            first_number: _RowInvalid(
                                "quantity", str(exc), cols.get(first, "quantity")
                            )
                        },
                    )
                    return None
        return draft

    def _occurred_at(self, date_text: str, time_text: str) -> datetime:
        """:func:`parse_datetime`, with the date and the time each parsed once per text."""
        day, clock = self._date(date_text)
        if time_text:
            clock = self._time(time_text)
        return datetime.combine(day, clock or _MIDNIGHT, tzinfo=self.tz)

    def _money(self, cells, name: str) -> Decimal | None:
        text = self.columns.get(cells, name)
        if not text:
            return None
        try:
            return self._amount(text)
        except ValueError as exc:
            raise _RowInvalid(name, str(exc), text) from exc

    def _parse_line(self, cells, product: str, row_total: Decimal | None) -> Line:
        cols = self.columns
        try:
            quantity = self._quantity(cols.get(cells, "quantity"))
        except ValueError as exc:
            raise _RowInvalid("quantity", str(exc), cols.get(cells, "quantity")) from exc
        discount = self._money(cells, "discount") or Decimal(0)
        unit_price = self._money(cells, "unit_price")
        if unit_price is None:
            if row_total is None:
                raise _RowInvalid("unit_price", ERR_PRICE_MISSING)
            unit_price = to_money((row_total + discount) / quantity)
        if unit_price < 0:
            raise _RowInvalid("unit_price", ERR_TOTAL_NEGATIVE, cols.get(cells, "unit_price"))
        if discount < 0 or discount > quantity * unit_price:
            raise _RowInvalid("discount", ERR_DISCOUNT, cols.get(cells, "discount"))
        return Line(
            product[:200], cols.get(cells, "category")[:100], quantity, unit_price, discount
        )

    def _parse_head(self, cells) -> Draft:
        cols = self.columns
        try:
            occurred_at = self._occurred_at(cols.get(cells, "date"), cols.get(cells, "time"))
        except ValueError as exc:
            field_name = "time" if "time" in str(exc) else "date"
            raise _RowInvalid(field_name, str(exc), cols.get(cells, field_name)) from exc
        try:
            payment = self._payment(cols.get(cells, "payment_method"))
        except ValueError as exc:
            raise _RowInvalid("payment_method", str(exc)) from exc
        try:
            channel = self._channel(cols.get(cells, "channel"))
        except ValueError as exc:
            raise _RowInvalid("channel", str(exc)) from exc
        outlet_text = cols.get(cells, "outlet")
        if outlet_text:
            outlet_id = self._outlets.get(outlet_text.lower())
            if outlet_id is None:
                known = ", ".join(sorted({k.upper() for k in self._outlets})) or "none"
                raise _RowInvalid("outlet", f"{ERR_OUTLET_UNKNOWN} (known: {known})", outlet_text)
        else:
            outlet_id = self._default_outlet_id()
        phone_text = cols.get(cells, "phone")
        try:
            phone = self._phone(phone_text)
        except ValueError as exc:
            raise _RowInvalid("phone", str(exc), phone_text) from exc
        return Draft(
            rows=[],
            occurred_at=occurred_at,
            total=Decimal(0),
            payment_method=payment,
            channel=channel,
            outlet_id=outlet_id,
            external_id=(cols.get(cells, "external_id") or None),
            customer_ref=(cols.get(cells, "customer_id") or None),
            phone=phone,
            name=cols.get(cells, "name")[:200],
            email=cols.get(cells, "email")[:254],
            item_count=None,
        )

    # -- lookups ----------------------------------------------------------------------------

    def _load_outlets(self) -> None:
        for outlet in Outlet.objects.filter(merchant=self.merchant):
            self._outlets[outlet.code.lower()] = outlet.pk
            self._outlets.setdefault(outlet.name.lower(), outlet.pk)
        self._default_outlet: int | None = None

    def _default_outlet_id(self) -> int:
        if self._default_outlet is None:
            self._default_outlet = outlet_get_or_create_default(merchant=self.merchant).pk
        return self._default_outlet

    def _resolve_customers(self, drafts: list[Draft]) -> None:
        refs = {d.customer_ref for d in drafts if d.customer_ref}
        phones = {d.phone for d in drafts if d.phone}
        missing_refs = [r for r in refs if ("ref", r) not in self._customer_cache]
        missing_phones = [p for p in phones if ("phone", p) not in self._customer_cache]
        if len(self._customer_cache) > CUSTOMER_CACHE_LIMIT:
            self._customer_cache.clear()
            missing_refs, missing_phones = list(refs), list(phones)
        if missing_refs:
            for pk, ref in Customer.objects.filter(
                merchant=self.merchant, external_ref__in=missing_refs
            ).values_list("pk", "external_ref"):
                self._customer_cache[("ref", ref)] = pk
        if missing_phones:
            for pk, phone in Customer.objects.filter(
                merchant=self.merchant, phone__in=missing_phones
            ).values_list("pk", "phone"):
                self._customer_cache[("phone", phone)] = pk
        # New customers of this chunk: one per reference or phone, whichever a row names; a
        # row naming only a phone (or only a reference) that a new customer already claims
        # belongs to that customer.
        new: dict[tuple[str, str], Customer] = {}
        owner: dict[tuple[str, str], tuple[str, str]] = {}
        chosen: dict[int, tuple[str, str]] = {}
        for i, d in enumerate(drafts):
            if not (d.customer_ref or d.phone):
                continue
            pk = None
            if d.customer_ref:
                pk = self._customer_cache.get(("ref", d.customer_ref))
            if pk is None and d.phone:
                pk = self._customer_cache.get(("phone", d.phone))
            if pk is not None:
                d.customer_id = pk
                continue
            ref_key = ("ref", d.customer_ref) if d.customer_ref else None
            phone_key = ("phone", d.phone) if d.phone else None
            key = owner.get(ref_key) if ref_key else None
            if key is None and phone_key:
                key = owner.get(phone_key)
            if key is None:
                key = ref_key or phone_key
                new[key] = Customer(
                    merchant=self.merchant,
                    full_name=d.name,
                    email=d.email,
                    phone=d.phone,
                    external_ref=d.customer_ref,
                    member_code=member_code_generate(),
                    joined_at=d.occurred_at,
                    acquisition_source="import",
                )
            customer = new[key]
            if ref_key and customer.external_ref is None:
                customer.external_ref = d.customer_ref
            if phone_key and customer.phone is None and phone_key not in owner:
                customer.phone = d.phone
            for claimed in (ref_key, phone_key):
                if (
                    claimed
                    and claimed not in owner
                    and (
                        (claimed[0] == "ref" and customer.external_ref == claimed[1])
                        or (claimed[0] == "phone" and customer.phone == claimed[1])
                    )
                ):
                    owner[claimed] = key
            chosen[i] = key
        if new:
            created = list(new.values())
            insert_objects(Customer, created, varying=_CUSTOMER_VARYING)
            self.report.customers_created += len(created)
            for customer in created:
                self._created_customer_ids.append(customer.pk)
                if customer.external_ref:
                    self._customer_cache[("ref", customer.external_ref)] = customer.pk
                if customer.phone:
                    self._customer_cache[("phone", customer.phone)] = customer.pk
            for i, key in chosen.items():
                drafts[i].customer_id = new[key].pk

    def _product_id(self, line: Line) -> int:
        key = line.product.lower()
        if key in self._products:
            return self._products[key]
        product = Product.objects.filter(merchant=self.merchant, name__iexact=line.product).first()
        if product is None:
            category_id = None
            if line.category:
                category_id = self._categories.get(line.category.lower())
                if category_id is None:
                    category, _ = ProductCategory.objects.get_or_create(
                        merchant=self.merchant, name=line.category
                    )
                    category_id = self._categories[line.category.lower()] = category.pk
            product = Product.objects.create(
                merchant=self.merchant,
                name=line.product,
                category_id=category_id,
                price=line.unit_price,
            )
            self.report.products_created += 1
        self._products[key] = product.pk
        return product.pk

    # -- writing ----------------------------------------------------------------------------

    def _assign_import_keys(self, drafts: list[Draft]) -> None:
        """Each draft without a transaction id gets its import key: the digest of its content
        and of its occurrence among identical transactions of the file (counted for the
        whole chunk in one pass over the scratch store)."""
        keyless = [d for d in drafts if not d.external_id]
        if not keyless:
            return
        digests = [self._content_digest(d) for d in keyless]
        occurrences = self.scratch.next_occurrences([raw for raw, _ in digests])
        for d, (_, hexdigest), occurrence in zip(keyless, digests, occurrences, strict=True):
            d.import_key = hashlib.sha256(f"{hexdigest}#{occurrence}".encode()).hexdigest()[:48]

    def _content_digest(self, d: Draft) -> tuple[bytes, str]:
        items = ";".join(
            f"{ln.product.lower()}*{ln.quantity}@{ln.unit_price}-{ln.discount}" for ln in d.lines
        )
        content = "|".join(
            str(part)
            for part in (
                d.customer_id or "-",
                d.occurred_at.astimezone(UTC).isoformat(),
                d.total,
                d.payment_method,
                d.channel,
                d.outlet_id,
                d.item_count if d.item_count is not None else "",
                items,
            )
        )
        digest = hashlib.sha256(content.encode())
        return digest.digest(), digest.hexdigest()

    def _existing(self, column: str, values: list[str]) -> set[str]:
        """Which of ``values`` this merchant already has in ``column``. The look-up is by the
        value alone (the unique index leads with it) and the merchant is checked here."""
        if not values:
            return set()
        quote = connection.ops.quote_name
        name = quote(Transaction._meta.get_field(column).column)
        found: set[str] = set()
        with connection.cursor() as cursor:
            if is_postgres():
                cursor.execute("SET LOCAL enable_seqscan = off")
            for start in range(0, len(values), 1000):
                part = values[start : start + 1000]
                # by the value alone, through the unique index that leads with it: with the
                # merchant in the condition, or with statistics from before the import (a
                # table that grew in this transaction), PostgreSQL walks the merchant's
                # index or the whole table instead, 0.25 s for each 1,000 values at 1M sales
                cursor.execute(
                    f"SELECT {name}, merchant_id FROM {quote(Transaction._meta.db_table)} "  # noqa: S608
                    f"WHERE {name} IN ({', '.join(['%s'] * len(part))})",
                    part,
                )
                merchant_id = self.merchant.pk
                found.update(value for value, owner in cursor.fetchall() if owner == merchant_id)
            if is_postgres():
                cursor.execute("RESET enable_seqscan")
        return found

    def _flush(self, drafts: list[Draft]) -> None:
        if not drafts:
            return
        self._resolve_customers(drafts)
        self._assign_import_keys(drafts)
        ids = [d.external_id for d in drafts if d.external_id]
        keys = [d.import_key for d in drafts if d.import_key]
        existing_ids = self._existing("external_id", ids)
        existing_keys = self._existing("import_key", keys)
        fresh = [
            d
            for d in drafts
            if not (d.external_id in existing_ids or d.import_key in existing_keys)
        ]
        self.report.skipped_duplicates += len(drafts) - len(fresh)
        if not fresh:
            return
        for d, pk in zip(fresh, reserve_ids(Transaction, len(fresh)), strict=True):
            d.pk = pk
        merchant_id = self.merchant.pk
        now = datetime_value(timezone.now())
        stored_time = datetime_value if is_postgres() else _sqlite_datetime
        created = insert_rows(
            Transaction._meta.db_table,
            _columns(Transaction, _TRANSACTION_FIELDS),
            (
                (
                    d.pk,
                    merchant_id,
                    d.outlet_id,
                    d.customer_id,
                    "sale",
                    None,
                    stored_time(d.occurred_at),
                    d.total,
                    d.payment_method,
                    d.channel,
                    d.item_count,
                    d.external_id,
                    d.import_key,
                    "",
                    None,
                    now,
                )
                for d in fresh
            ),
        )
        self.report.transactions_created += created
        self._buyer_ids.update(d.customer_id for d in fresh if d.customer_id is not None)
        # products first (a new one is created here), then the lines in one write
        lines = [
            (
                d.pk,
                self._product_id(line),
                line.product,
                line.quantity,
                line.unit_price,
                line.discount,
            )
            for d in fresh
            for line in d.lines
        ]
        self.report.line_items_created += insert_rows(
            LineItem._meta.db_table, _columns(LineItem, _LINE_FIELDS), lines
        )
        # how each sale was paid: one row of its method and total (the payments table is the
        # truth for per-method amounts; a file gives one method per sale)
        insert_rows(
            TransactionPayment._meta.db_table,
            _columns(TransactionPayment, _PAYMENT_FIELDS),
            ((d.pk, d.payment_method, d.total) for d in fresh if d.total > 0),
        )

    def _settle_joined_dates(self, on_step=None) -> None:
        """A customer created by this import joined at their first imported purchase."""
        from django.db.models import Min, OuterRef, Subquery

        first_purchase = (
            Transaction.objects.filter(customer=OuterRef("pk"))
            .values("customer")
            .annotate(first=Min("occurred_at"))
            .values("first")
        )
        ids = self._created_customer_ids
        for start in range(0, len(ids), 500):
            Customer.objects.filter(pk__in=ids[start : start + 500]).update(
                joined_at=Subquery(first_purchase)
            )
            if on_step is not None:
                on_step((start + 500) / len(ids))


def transactions_import(
    *,
    merchant: Merchant,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    no_header: bool = False,
    progress: bool | None = None,
    dry_run: bool = False,
    on_progress=None,
    cancelled=None,
) -> ImportReport:
    """Import a transactions file for ``merchant``; see the module docstring for the rules."""
    return TransactionImport(
        merchant=merchant,
        path=path,
        mapping=mapping,
        skip_invalid=skip_invalid,
        rejects_path=rejects_path,
        no_header=no_header,
        progress=progress,
        dry_run=dry_run,
        on_progress=on_progress,
        cancelled=cancelled,
    ).run()
