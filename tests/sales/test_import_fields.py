from datetime import date, time

import pytest

from langganan.sales.importing.fields import (
    ERR_DATE,
    TRANSACTION_FIELDS,
    MappingError,
    normalize_header,
    parse_channel,
    parse_date,
    parse_gender,
    parse_payment_method,
    resolve_columns,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Tanggal", "date"),
        ("date", "date"),
        ("No HP", "phone"),
        ("No. HP", "phone"),
        ("Nomor Telepon", "phone"),
        ("Total", "total"),
        ("Amount", "total"),
        ("Total (Rp)", "total"),
        ("Metode Pembayaran", "payment_method"),
        ("Payment Method", "payment_method"),
        ("Produk", "product"),
        ("Item", "product"),
        ("Qty", "quantity"),
        ("Harga", "unit_price"),
        ("Price", "unit_price"),
        ("ID Transaksi", "external_id"),
        ("No Struk", "external_id"),
        ("Nama Pelanggan", "name"),
        ("Cabang", "outlet"),
        ("Diskon", "discount"),
        ("Kategori", "category"),
        ("Jam", "time"),
    ],
)
def test_common_indonesian_and_english_headers_are_recognised(header, field):
    columns = resolve_columns([header], {}, TRANSACTION_FIELDS, 1)
    assert columns.columns == {field: 0}


def test_an_explicit_map_wins_over_recognition_and_takes_the_column():
    columns = resolve_columns(
        ["Tanggal", "Nilai", "Total"], {"Nilai": "total"}, TRANSACTION_FIELDS, 3
    )
    assert columns.columns == {"date": 0, "total": 1}


def test_a_map_may_name_a_column_by_number_for_a_file_without_header():
    columns = resolve_columns(None, {"1": "customer_id", "2": "date"}, TRANSACTION_FIELDS, 4)
    assert columns.columns == {"customer_id": 0, "date": 1}


def test_mapping_to_an_unknown_field_is_refused_with_the_choices():
    with pytest.raises(MappingError, match="unknown field 'harga_jual'.*customer_id"):
        resolve_columns(["a"], {"a": "harga_jual"}, TRANSACTION_FIELDS, 1)


def test_mapping_from_a_missing_column_names_the_columns_there_are():
    with pytest.raises(MappingError, match="no such column.*Tanggal"):
        resolve_columns(["Tanggal"], {"Nilai": "total"}, TRANSACTION_FIELDS, 1)


def test_normalize_header_folds_case_punctuation_and_units():
    assert normalize_header("  No. HP (WhatsApp) ") == "no_hp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-31", (date(2025, 3, 31), None)),
        ("2025-03-31 14:05", (date(2025, 3, 31), time(14, 5))),
        ("2025-03-31T14:05:09", (date(2025, 3, 31), time(14, 5, 9))),
        ("31/03/2025", (date(2025, 3, 31), None)),
        ("1/3/2025", (date(2025, 3, 1), None)),
        ("31-03-2025 08.30", (date(2025, 3, 31), time(8, 30))),
        ("31.03.25", (date(2025, 3, 31), None)),
        ("20250331", (date(2025, 3, 31), None)),
    ],
)
def test_dates_in_iso_ddmmyyyy_and_yyyymmdd_are_recognised(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "2025-13-01", "kemarin", "2025013", ""])
def test_impossible_or_unknown_dates_are_refused(text):
    with pytest.raises(ValueError, match=ERR_DATE.split(" (")[0]):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("Tunai", "cash"),
        ("QRIS", "qris"),
        ("QRIS BCA", "qris"),
        ("GoPay", "e_wallet"),
        ("OVO", "e_wallet"),
        ("Kartu Debit", "debit_card"),
        ("Kartu Kredit", "credit_card"),
        ("Transfer Bank", "bank_transfer"),
        ("kasbon", "tab"),
        ("Tab", "tab"),
        ("Hutang", "tab"),
        ("Saldo", "store_credit"),
        ("", "cash"),
    ],
)
def test_payment_methods_are_read_from_everyday_words(text, method):
    assert parse_payment_method(text) == method


def test_an_unknown_payment_method_is_an_error():
    with pytest.raises(ValueError, match="unknown payment method 'barter'"):
        parse_payment_method("barter")


@pytest.mark.parametrize(
    ("text", "channel"),
    [("Dine In", "dine_in"), ("Bungkus", "take_away"), ("GoFood", "delivery"), ("", "dine_in")],
)
def test_sales_channels_are_read_from_everyday_words(text, channel):
    assert parse_channel(text) == channel


@pytest.mark.parametrize(
    ("text", "gender"), [("L", "M"), ("Laki-laki", "M"), ("P", "F"), ("Perempuan", "F"), ("", "")]
)
def test_indonesian_gender_letters_are_understood(text, gender):
    assert parse_gender(text) == gender
