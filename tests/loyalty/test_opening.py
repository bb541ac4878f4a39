"""Opening balances from a previous system: points and tab debts, all or nothing, once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import InvalidInput
from langganan.loyalty.ledger import balance_of, customer_account, ledger_discrepancies
from langganan.loyalty.models import ExpiryPolicy, Journal, PointLot
from langganan.loyalty.opening import (
    ERR_DUPLICATE_CUSTOMER,
    ERR_EXPIRY_PAST,
    ERR_IDS_DISAGREE,
    ERR_NO_AMOUNT_COLUMN,
    ERR_NO_ID,
    ERR_NO_ID_COLUMN,
    ERR_NOT_A_NUMBER,
    ERR_PHONE,
    ERR_POINTS_NEGATIVE,
    ERR_POINTS_NOT_WHOLE,
    ERR_TAB_NEGATIVE,
    ERR_TAB_OVER_LIMIT,
    ERR_UNKNOWN_CUSTOMER,
    opening_balances_import,
)
from langganan.loyalty.tab import tab_balance, tab_charge, tab_set_limit
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db

JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2025, 3, 1, 10, 0, tzinfo=JKT)


@pytest.fixture
def people(merchant):
    return {
        "rina": CustomerFactory(merchant=merchant, phone="+6281234567890", member_code="LG0001"),
        "budi": CustomerFactory(merchant=merchant, member_code="LG0002", external_ref="C-77"),
        "sari": CustomerFactory(merchant=merchant, member_code="LG0003"),
    }


def write(tmp_path, text: str, name: str = "saldo.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(merchant, path, **kwargs):
    return opening_balances_import(merchant=merchant, path=path, at=AT, **kwargs)


def points_of(customer) -> Decimal:
    return balance_of(customer_account(customer=customer, kind="points"))


def errors_of(result) -> list[tuple[int, str]]:
    return [(e.row, e.reason) for e in result.errors]


def test_points_and_debts_are_posted_with_their_expiry(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant, expiry_policy=ExpiryPolicy.NEVER)
    tab_set_limit(customer=people["rina"], limit=Decimal("100000"), at=AT)
    path = write(
        tmp_path,
        "phone,member_code,external_ref,points,tab_owed,points_expire_on\n"
        "0812-3456-7890,,,120,25.000,2025-12-31\n"
        ",lg0002,,80,,\n"
        "\n"
        ",LG0003,,0,,\n",
    )

    result = run(merchant, path)

    assert result.committed, errors_of(result)
    assert (result.rows_read, result.points_posted, result.points_total) == (3, 2, 200)
    assert (result.tab_posted, result.tab_total, result.limits_set) == (1, Decimal("25000"), 0)
    assert result.already_imported == 0
    assert points_of(people["rina"]) == 120
    assert points_of(people["budi"]) == 80
    assert points_of(people["sari"]) == 0
    rina_lot = PointLot.objects.get(account__customer=people["rina"])
    # usable through 31 December: expires at the midnight that ends it, Jakarta time
    assert rina_lot.expires_at == datetime(2026, 1, 1, 0, 0, tzinfo=JKT)
    assert (rina_lot.amount, rina_lot.remaining, rina_lot.earned_at) == (120, 120, AT)
    assert tab_balance(customer=people["rina"]) == (Decimal("25000"), Decimal("100000"))
    journal = Journal.objects.get(key=f"opening:tab:{people['rina'].pk}")
    assert journal.kind == "opening"
    assert journal.entries.get(account__kind="system").account.code == "tab_opening"
    assert ledger_discrepancies(merchant) == []


def test_a_member_code_is_matched_whatever_its_case(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant, expiry_policy=ExpiryPolicy.NEVER)
    lower = CustomerFactory(merchant=merchant, member_code="old-77")
    result = run(merchant, write(tmp_path, "member_code,points\nlg0002,80\nOLD-77,3\n"))
    assert result.committed
    assert points_of(people["budi"]) == 80
    assert points_of(lower) == 3
    assert PointLot.objects.get(account__customer=people["budi"]).expires_at is None


def test_without_an_expiry_date_the_programs_policy_applies(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant, expiry_policy=ExpiryPolicy.MONTHS, expiry_months=6)
    run(merchant, write(tmp_path, "member_code,points\nLG0003,50\n"))
    lot = PointLot.objects.get(account__customer=people["sari"])
    assert lot.expires_at == datetime(2025, 9, 1, 10, 0, tzinfo=JKT)
    counter = Journal.objects.get(key=f"opening:points:{people['sari'].pk}").entries.get(
        account__kind="system"
    )
    assert counter.account.code == "points_opening"


def test_without_a_program_points_are_still_carried_over(tmp_path, merchant, people):
    path = write(tmp_path, "member_code,points,points_expire_on\nLG0003,50,31/12/2025\nLG0001,7,\n")
    result = run(merchant, path)
    assert result.committed
    assert points_of(people["sari"]) == 50
    lots = {lot.account.customer: lot for lot in PointLot.objects.select_related("account")}
    assert lots[people["sari"]].expires_at == datetime(2026, 1, 1, tzinfo=JKT)
    assert lots[people["rina"]].expires_at is None
    assert ledger_discrepancies(merchant) == []


def test_indonesian_headers_semicolons_and_windows_encoding(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant)
    tab_set_limit(customer=people["budi"], limit=Decimal("50000"), at=AT)
    path = write(
        tmp_path,
        "No HP;Kode Member;ID Pelanggan;Poin;Kasbon;Catatan\n;;C-77;1.500;Rp 12.500;caf\u00e9\n",
        encoding="cp1252",
    )
    result = run(merchant, path)
    assert result.committed, errors_of(result)
    assert points_of(people["budi"]) == 1500
    assert tab_balance(customer=people["budi"])[0] == Decimal("12500")


# -- idempotency ------------------------------------------------------------------------------


def test_importing_the_same_file_again_posts_nothing_new(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant)
    tab_set_limit(customer=people["rina"], limit=Decimal("100000"), at=AT)
    path = write(tmp_path, "phone,points,tab_owed\n081234567890,120,25000\n")
    first = run(merchant, path)
    journals = Journal.objects.count()

    again = run(merchant, path)

    assert first.committed and again.committed
    assert (again.points_posted, again.tab_posted, again.already_imported) == (0, 0, 2)
    assert again.warnings == []
    assert Journal.objects.count() == journals
    assert points_of(people["rina"]) == 120
    assert tab_balance(customer=people["rina"])[0] == Decimal("25000")


def test_a_changed_amount_on_re_import_is_not_posted_but_warned_about(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant)
    run(merchant, write(tmp_path, "member_code,points\nLG0001,120\n"))
    again = run(merchant, write(tmp_path, "member_code,points\nLG0001,150\nLG0003,5\n", "b.csv"))
    assert again.committed
    assert (again.points_posted, again.already_imported) == (1, 1)
    assert again.warnings == [
        "row 2: points already imported as 120; the file says 150, not changed"
    ]
    assert points_of(people["rina"]) == 120
    assert points_of(people["sari"]) == 5


def test_a_row_adding_a_debt_to_already_imported_points_posts_only_the_debt(
    tmp_path, merchant, people
):
    ProgramFactory(merchant=merchant)
    tab_set_limit(customer=people["sari"], limit=Decimal("10000"), at=AT)
    run(merchant, write(tmp_path, "member_code,points\nLG0003,10\n"))
    result = run(merchant, write(tmp_path, "member_code,points,tab_owed\nLG0003,10,10000\n", "b"))
    assert (result.points_posted, result.tab_posted, result.already_imported) == (0, 1, 1)
    assert tab_balance(customer=people["sari"]) == (Decimal("10000"), Decimal("10000"))


# -- all or nothing ---------------------------------------------------------------------------


def test_any_bad_row_means_nothing_is_written_and_every_bad_row_is_reported(
    tmp_path, merchant, people
):
    ProgramFactory(merchant=merchant)
    path = write(
        tmp_path,
        "phone,member_code,external_ref,points,tab_owed,points_expire_on\n"
        ",LG0001,,10,,\n"  # 2 good
        ",LG9999,,10,,\n"  # 3 unknown member code
        ",LG0002,,-5,,\n"  # 4 negative points
        ",LG0003,,sepuluh,,\n"  # 5 not a number
        "081234567890,,,1,,\n"  # 6 rina again
        "\n"  # 7 blank
        ",,,5,,\n"  # 8 no identifier
        ",LG0002,,2.5,,\n"  # 9 fractional points
        ",LG0002,,,-100,\n"  # 10 negative debt
        ",LG0002,,3,,2025-02-28\n"  # 11 expired already (AT is 1 March)
        ",LG0002,,3,,31-31-2025\n"  # 12 not a date
        "0000,,,3,,\n"  # 13 bad phone
        ",LG0002,C-99,3,,\n"  # 14 unknown reference
        "081234567890,LG0002,,3,,\n",  # 15 phone is rina, code is budi
    )

    result = run(merchant, path)

    assert not result.committed
    assert errors_of(result) == [
        (3, ERR_UNKNOWN_CUSTOMER.format(what="member code")),
        (4, ERR_POINTS_NEGATIVE),
        (5, ERR_NOT_A_NUMBER),
        (6, ERR_DUPLICATE_CUSTOMER.format(row=2)),
        (8, ERR_NO_ID),
        (9, ERR_POINTS_NOT_WHOLE),
        (10, ERR_TAB_NEGATIVE),
        (11, ERR_EXPIRY_PAST),
        (12, "not a date (use YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD)"),
        (13, ERR_PHONE),
        (14, ERR_UNKNOWN_CUSTOMER.format(what="external reference")),
        (15, ERR_IDS_DISAGREE),
    ]
    assert result.errors[1].field == "points" and result.errors[1].value == "-5"
    assert not Journal.objects.exists()
    assert not PointLot.objects.exists()
    assert (result.points_posted, result.points_total) == (0, 0)


def test_the_expiry_day_itself_is_still_accepted(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant)
    result = run(
        merchant, write(tmp_path, "member_code,points,points_expire_on\nLG0001,3,2025-03-01\n")
    )
    assert result.committed, errors_of(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,points\nRina,5\n", ERR_NO_ID_COLUMN),
        ("phone,name\n0812,Rina\n", ERR_NO_AMOUNT_COLUMN),
        ("", "the file is empty"),
    ],
)
def test_a_file_without_the_needed_columns_is_refused(tmp_path, merchant, text, message):
    with pytest.raises(InvalidInput) as err:
        run(merchant, write(tmp_path, text))
    assert err.value.message == message


def test_a_missing_file_is_a_clear_error(tmp_path, merchant):
    with pytest.raises(InvalidInput) as err:
        run(merchant, tmp_path / "nope.csv")
    assert "no such file" in err.value.message


def test_another_merchants_customer_is_unknown(tmp_path, merchant, people):
    CustomerFactory(member_code="LG7777")  # another merchant
    result = run(merchant, write(tmp_path, "member_code,points\nLG7777,5\n"))
    assert errors_of(result) == [(2, ERR_UNKNOWN_CUSTOMER.format(what="member code"))]


# -- tab limits -------------------------------------------------------------------------------


def test_a_debt_above_the_limit_is_refused_without_set_limit(tmp_path, merchant, people):
    ProgramFactory(merchant=merchant)
    tab_set_limit(customer=people["sari"], limit=Decimal("20000"), at=AT)
    path = write(tmp_path, "member_code,points,tab_owed\nLG0001,5,\nLG0003,,20000.01\n")

    result = run(merchant, path)

    assert not result.committed
    assert errors_of(result) == [
        (3, ERR_TAB_OVER_LIMIT.format(owed="Rp 20.000,01", limit="Rp 20.000"))
    ]
    assert not Journal.objects.exists()  # rina's points are rolled back too
    assert tab_balance(customer=people["sari"]) == (Decimal("0"), Decimal("20000"))


def test_a_debt_exactly_at_the_limit_is_accepted(tmp_path, merchant, people):
    tab_set_limit(customer=people["sari"], limit=Decimal("20000"), at=AT)
    result = run(merchant, write(tmp_path, "member_code,tab_owed\nLG0003,20000\n"))
    assert result.committed
    assert tab_balance(customer=people["sari"]) == (Decimal("20000"), Decimal("20000"))


def test_set_limit_raises_the_limit_to_the_debt(tmp_path, merchant, people):
    tab_set_limit(customer=people["budi"], limit=Decimal("500000"), at=AT)
    path = write(tmp_path, "member_code,tab_owed\nLG0003,75000\nLG0002,40000\n")

    result = run(merchant, path, set_limit=True)

    assert result.committed
    assert result.limits_set == 1
    assert tab_balance(customer=people["sari"]) == (Decimal("75000"), Decimal("75000"))
    # a limit already above the debt is kept
    assert tab_balance(customer=people["budi"]) == (Decimal("40000"), Decimal("500000"))


def test_set_limit_covers_what_the_customer_already_owes_too(tmp_path, merchant, people):
    tab_set_limit(customer=people["sari"], limit=Decimal("30000"), at=AT)
    tab_charge(customer=people["sari"], amount=Decimal("30000"), key="sale:1:tab", at=AT)
    result = run(merchant, write(tmp_path, "member_code,tab_owed\nLG0003,5000\n"), set_limit=True)
    assert result.committed
    assert tab_balance(customer=people["sari"]) == (Decimal("35000"), Decimal("35000"))
