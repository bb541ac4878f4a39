"""Canonical import fields, the headers merchants' files use for them, and value parsers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from langganan.sales.models import PaymentMethod, SalesChannel

# Fields a transactions file may carry (one row per transaction or per line item).
TRANSACTION_FIELDS = (
    "customer_id",
    "phone",
    "name",
    "email",
    "date",
    "time",
    "total",
    "quantity",
    "product",
    "category",
    "unit_price",
    "discount",
    "payment_method",
    "channel",
    "outlet",
    "external_id",
)
# Fields a customers file may carry.
CUSTOMER_FIELDS = (
    "customer_id",
    "phone",
    "name",
    "email",
    "member_code",
    "gender",
    "greeting",
    "birth_date",
    "address",
    "city",
    "province",
    "joined_at",
    "acquisition_source",
    "tags",
    "notes",
    "consent_email",
    "consent_whatsapp",
    "consent_sms",
)

# Header spellings seen in Indonesian and English exports, after normalisation
# (lower case, punctuation and spaces folded to single underscores).
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customer",
        "cust_id",
        "customerid",
        "customer_no",
        "customer_number",
        "id_pelanggan",
        "kode_pelanggan",
        "no_pelanggan",
        "nomor_pelanggan",
        "pelanggan_id",
        "customer_ref",
        "client_id",
    ),
    "phone": (
        "phone",
        "phone_number",
        "mobile",
        "mobile_phone",
        "telephone",
        "tel",
        "hp",
        "no_hp",
        "nomor_hp",
        "no_handphone",
        "nomor_handphone",
        "handphone",
        "telepon",
        "no_telp",
        "no_telepon",
        "nomor_telepon",
        "whatsapp",
        "no_wa",
        "nomor_wa",
        "wa",
    ),
    "name": (
        "name",
        "full_name",
        "customer_name",
        "nama",
        "nama_pelanggan",
        "nama_lengkap",
        "nama_customer",
    ),
    "email": ("email", "e_mail", "email_address", "alamat_email", "surel"),
    "date": (
        "date",
        "tanggal",
        "tgl",
        "transaction_date",
        "order_date",
        "tanggal_transaksi",
        "tgl_transaksi",
        "datetime",
        "tanggal_waktu",
        "created_at",
        "timestamp",
    ),
    "time": ("time", "jam", "waktu", "pukul", "transaction_time", "order_time"),
    "total": (
        "total",
        "amount",
        "total_amount",
        "grand_total",
        "total_harga",
        "total_bayar",
        "nominal",
        "net_sales",
        "penjualan",
        "total_penjualan",
        "line_total",
        "subtotal",
    ),
    "quantity": ("qty", "quantity", "kuantitas", "jumlah", "jml", "jumlah_item", "banyak"),
    "product": (
        "product",
        "produk",
        "item",
        "item_name",
        "product_name",
        "nama_produk",
        "menu",
        "nama_menu",
        "barang",
        "nama_barang",
        "nama_item",
    ),
    "category": ("category", "kategori", "product_category", "kategori_produk"),
    "unit_price": ("price", "unit_price", "harga", "harga_satuan", "harga_per_item"),
    "discount": ("discount", "diskon", "potongan", "potongan_harga"),
    "payment_method": (
        "payment_method",
        "payment",
        "metode_pembayaran",
        "pembayaran",
        "cara_bayar",
        "metode_bayar",
        "tipe_pembayaran",
        "jenis_pembayaran",
    ),
    "channel": (
        "channel",
        "sales_channel",
        "order_type",
        "tipe_pesanan",
        "jenis_pesanan",
        "saluran",
        "tipe_order",
    ),
    "outlet": ("outlet", "outlet_code", "cabang", "toko", "store", "branch", "kode_outlet"),
    "external_id": (
        "external_id",
        "transaction_id",
        "id_transaksi",
        "no_transaksi",
        "nomor_transaksi",
        "receipt",
        "receipt_no",
        "receipt_number",
        "no_struk",
        "nomor_struk",
        "invoice",
        "no_invoice",
        "nota",
        "no_nota",
        "order_id",
        "no_order",
        "bill_no",
    ),
    "member_code": ("member_code", "kode_member", "no_member", "nomor_member", "member_id"),
    "gender": ("gender", "sex", "jenis_kelamin", "kelamin", "jk"),
    "greeting": ("greeting", "sapaan", "panggilan", "salutation"),
    "birth_date": (
        "birth_date",
        "birthday",
        "date_of_birth",
        "dob",
        "tanggal_lahir",
        "tgl_lahir",
        "ulang_tahun",
    ),
    "address": ("address", "alamat", "alamat_lengkap"),
    "city": ("city", "kota", "kabupaten_kota", "kota_kabupaten"),
    "province": ("province", "provinsi", "propinsi"),
    "joined_at": ("joined_at", "join_date", "tanggal_daftar", "tgl_daftar", "member_since"),
    "acquisition_source": ("acquisition_source", "source", "sumber"),
    "tags": ("tags", "tag", "label"),
    "notes": ("notes", "note", "catatan", "keterangan"),
    "consent_email": ("consent_email", "izin_email"),
    "consent_whatsapp": ("consent_whatsapp", "izin_whatsapp", "izin_wa"),
    "consent_sms": ("consent_sms", "izin_sms"),
}

ERR_UNKNOWN_FIELD = "unknown field"
ERR_UNKNOWN_HEADER = "no such column in the file"
ERR_DATE = "not a date (use YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD)"
ERR_TIME = "not a time (use HH:MM or HH:MM:SS)"
ERR_PAYMENT = "unknown payment method"
ERR_CHANNEL = "unknown sales channel"
ERR_QUANTITY = "quantity must be a positive number"
ERR_GENDER = "gender must be L/P, M/F or empty"
ERR_BOOLEAN = "not a yes/no value"


def normalize_header(text: str) -> str:
    text = str(text or "").strip().lower().replace("\ufeff", "")
    text = re.sub(r"\(.*?\)", " ", text)  # "Total (Rp)" -> "total"
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


_ALIAS_INDEX = {alias: field for field, aliases in ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMap:
    """Which column (0-based) holds each canonical field."""

    columns: dict[str, int]

    def has(self, field: str) -> bool:
        return field in self.columns

    def field_of(self, index: int) -> str:
        return next((f for f, i in self.columns.items() if i == index), "")

    def get(self, row: list[str], field: str) -> str:
        index = self.columns.get(field)
        if index is None or index >= len(row):
            return ""
        return row[index].strip()


class MappingError(ValueError):
    """The file's columns cannot be matched to what the import needs."""


def resolve_columns(
    header: list[str] | None,
    overrides: dict[str, str],
    allowed: tuple[str, ...],
    width: int,
) -> ColumnMap:
    """Match the header to canonical fields; ``overrides`` maps source header (or 1-based
    column number) → field and wins over recognition. An empty field ignores the column."""
    columns: dict[str, int] = {}
    taken: set[int] = set()
    normalized = [normalize_header(h) for h in header] if header else []
    for source, field in overrides.items():
        if field and field not in allowed:
            raise MappingError(
                f"--map {source}={field}: {ERR_UNKNOWN_FIELD} '{field}'; "
                f"choose one of {', '.join(allowed)}"
            )
        if source.isdigit() and (not header or normalize_header(source) not in normalized):
            index = int(source) - 1
            if not 0 <= index < width:
                raise MappingError(f"--map {source}={field}: the file has {width} columns")
        else:
            key = normalize_header(source)
            if key not in normalized:
                raise MappingError(
                    f"--map {source}={field}: {ERR_UNKNOWN_HEADER} "
                    f"(columns: {', '.join(header or [])})"
                )
            index = normalized.index(key)
        if field:
            columns[field] = index
        taken.add(index)
    for index, key in enumerate(normalized):
        field = _ALIAS_INDEX.get(key)
        if field in allowed and field not in columns and index not in taken:
            columns[field] = index
            taken.add(index)
    return ColumnMap(columns)


def header_is_recognised(header: list[str], overrides: dict[str, str]) -> bool:
    """Whether the first row reads as a header rather than as data."""
    normalized = {normalize_header(h) for h in header}
    if any(normalize_header(source) in normalized for source in overrides):
        return True
    return any(key in _ALIAS_INDEX for key in normalized)


# -- values ---------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](.+))?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T](.+))?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:\.\d+)?)?$")


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(ERR_TIME)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    try:
        return time(hour, minute, second)
    except ValueError as exc:
        raise ValueError(ERR_TIME) from exc


def parse_date(text: str) -> tuple[date, time | None]:
    """A date in ISO, DD/MM/YYYY (also with - or .) or YYYYMMDD, optionally with a time."""
    raw = text.strip()
    raw = re.sub(r"(?:Z|[+-]\d{2}:?\d{2})$", "", raw) if "T" in raw else raw
    clock: str | None = None
    try:
        if match := _ISO.match(raw):
            year, month, day, clock = int(match[1]), int(match[2]), int(match[3]), match[4]
        elif match := _DMY.match(raw):
            day, month, year, clock = int(match[1]), int(match[2]), int(match[3]), match[4]
            if year < 100:
                year += 2000
        elif match := _COMPACT.match(raw):
            year, month, day = int(match[1]), int(match[2]), int(match[3])
        else:
            raise ValueError(ERR_DATE)
        value = date(year, month, day)
    except ValueError as exc:
        raise ValueError(ERR_DATE) from exc
    return value, parse_time(clock) if clock else None


def parse_datetime(date_text: str, time_text: str, tz) -> datetime:
    day, clock = parse_date(date_text)
    if time_text:
        clock = parse_time(time_text)
    return datetime.combine(day, clock or time(0, 0), tzinfo=tz)


_PAYMENT_WORDS = {
    PaymentMethod.CASH: ("cash", "tunai", "kas", "uang_tunai", "cod"),
    PaymentMethod.QRIS: ("qris", "qr", "qr_code"),
    PaymentMethod.DEBIT_CARD: ("debit", "debit_card", "kartu_debit", "edc", "edc_debit"),
    PaymentMethod.CREDIT_CARD: ("credit", "credit_card", "kartu_kredit", "kredit", "cc"),
    PaymentMethod.E_WALLET: (
        "e_wallet",
        "ewallet",
        "dompet_digital",
        "gopay",
        "ovo",
        "dana",
        "shopeepay",
        "linkaja",
        "sakuku",
        "doku",
    ),
    PaymentMethod.BANK_TRANSFER: (
        "bank_transfer",
        "transfer",
        "transfer_bank",
        "tf",
        "va",
        "virtual_account",
    ),
    PaymentMethod.STORE_CREDIT: ("store_credit", "saldo", "saldo_toko", "deposit"),
    PaymentMethod.TAB: ("tab", "kasbon", "utang", "hutang", "ngutang", "bon"),
}
_PAYMENT_INDEX = {w: m.value for m, words in _PAYMENT_WORDS.items() for w in words}

_CHANNEL_WORDS = {
    SalesChannel.DINE_IN: ("dine_in", "dinein", "makan_di_tempat", "makan_ditempat", "dine"),
    SalesChannel.TAKE_AWAY: (
        "take_away",
        "takeaway",
        "bungkus",
        "bawa_pulang",
        "take_out",
        "takeout",
        "pickup",
    ),
    SalesChannel.DELIVERY: (
        "delivery",
        "antar",
        "pesan_antar",
        "gofood",
        "grabfood",
        "shopeefood",
        "kirim",
    ),
    SalesChannel.ONLINE: ("online", "web", "website", "marketplace", "aplikasi", "app"),
}
_CHANNEL_INDEX = {w: c.value for c, words in _CHANNEL_WORDS.items() for w in words}


def parse_payment_method(text: str) -> str:
    key = normalize_header(text)
    if not key:
        return PaymentMethod.CASH.value
    if key in _PAYMENT_INDEX:
        return _PAYMENT_INDEX[key]
    for word, method in _PAYMENT_INDEX.items():  # "QRIS BCA", "GoPay (QR)"
        if len(word) > 2 and word in key.split("_"):
            return method
    raise ValueError(f"{ERR_PAYMENT} '{text}'")


def parse_channel(text: str) -> str:
    key = normalize_header(text)
    if not key:
        return SalesChannel.DINE_IN.value
    if key in _CHANNEL_INDEX:
        return _CHANNEL_INDEX[key]
    raise ValueError(f"{ERR_CHANNEL} '{text}'")


def parse_gender(text: str) -> str:
    key = normalize_header(text)
    if key in ("", "u", "unknown", "-"):
        return ""
    if key in ("m", "l", "male", "laki_laki", "laki", "pria", "cowok", "man"):
        return "M"
    if key in ("f", "p", "female", "perempuan", "wanita", "cewek", "woman"):
        return "F"
    raise ValueError(ERR_GENDER)


def parse_boolean(text: str) -> bool | None:
    key = normalize_header(text)
    if key == "":
        return None
    if key in ("1", "y", "yes", "ya", "true", "setuju", "granted", "ok"):
        return True
    if key in ("0", "n", "no", "tidak", "false", "withdrawn", "tolak"):
        return False
    raise ValueError(ERR_BOOLEAN)
