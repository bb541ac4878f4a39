from datetime import date

import pytest

from langganan.customers.models import ConsentEvent, Customer
from langganan.customers.selectors import consent_current
from langganan.sales.importing import customers_import
from tests.factories import CustomerFactory


def write(tmp_path, text, name="pelanggan.csv"):
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


CUSTOMERS = """
Nama,No HP,Email,Jenis Kelamin,Tanggal Lahir,Kota,Kode Member,Izin WA,Tag
Rina Wulandari,0812-3456-7890,rina@example.id,P,14/02/1998,Jakarta Selatan,M001,ya,"kopi, pagi"
Budi Santoso,0813 1111 2222,,L,1970-08-17,Depok,M002,tidak,
Sari,,,,,,M003,,
"""


def test_customers_import_reads_profiles_and_consent(merchant, tmp_path):
    report = customers_import(merchant=merchant, path=write(tmp_path, CUSTOMERS))
    assert report.committed, report.errors
    assert report.customers_created == 3
    rina = Customer.objects.get(merchant=merchant, member_code="M001")
    assert (rina.phone, rina.gender, rina.birth_date, rina.city) == (
        "+6281234567890",
        "F",
        date(1998, 2, 14),
        "Jakarta Selatan",
    )
    assert rina.tags == ["kopi", "pagi"]
    state = consent_current(customer=rina)
    assert state["whatsapp"].granted is True
    assert state["whatsapp"].source == "import"
    assert state["email"] is None
    budi = Customer.objects.get(member_code="M002")
    assert consent_current(customer=budi)["whatsapp"].granted is False
    assert budi.greeting_on(date(2026, 11, 22)) == "Pak"


def test_reimporting_customers_creates_nothing(merchant, tmp_path):
    path = write(tmp_path, CUSTOMERS)
    customers_import(merchant=merchant, path=path)
    events = ConsentEvent.objects.count()
    report = customers_import(merchant=merchant, path=path)
    assert (report.customers_created, report.skipped_duplicates) == (0, 3)
    assert Customer.objects.count() == 3
    assert ConsentEvent.objects.count() == events


def test_an_existing_customer_with_the_same_phone_is_not_duplicated(merchant, tmp_path):
    CustomerFactory(merchant=merchant, phone="+6281234567890")
    report = customers_import(merchant=merchant, path=write(tmp_path, CUSTOMERS))
    assert (report.customers_created, report.skipped_duplicates) == (2, 1)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Ani,0812,,,,,M9,,", "phone"),
        ("Ani,,bukan-email,,,,M9,,", "email"),
        ("Ani,,,X,,,M9,,", "gender"),
        ("Ani,,,,31/02/1990,,M9,,", "birth_date"),
        ("Ani,,,,,,M9,mungkin,", "consent_whatsapp"),
        (",,,,,,,,", None),
    ],
)
def test_a_bad_customer_row_is_reported_and_nothing_is_written(merchant, tmp_path, row, field):
    text = CUSTOMERS.strip() + "\n" + row + "\n"
    if field is None:  # an empty row is skipped, not an error
        report = customers_import(merchant=merchant, path=write(tmp_path, text))
        assert report.committed
        return
    report = customers_import(merchant=merchant, path=write(tmp_path, text))
    assert not report.committed
    assert [(e.row, e.field) for e in report.errors] == [(5, field)]
    assert Customer.objects.count() == 0


def test_the_same_phone_twice_in_one_file_is_an_error(merchant, tmp_path):
    text = "Nama,No HP\nA,081234567890\nB,0812-3456-7890\n"
    report = customers_import(merchant=merchant, path=write(tmp_path, text))
    assert [(e.row, e.field) for e in report.errors] == [(3, "phone")]
