"""`langganan loyalty …` commands: they parse, call one service, print; errors exit 1."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from django.utils import timezone

from langganan.cli import cli
from langganan.loyalty.ledger import balance_of, customer_account
from langganan.loyalty.models import Account, Journal
from langganan.loyalty.tab import ERR_LIMIT_BELOW_OWED, tab_balance, tab_charge, tab_set_limit
from tests.factories import CustomerFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

JKT = ZoneInfo("Asia/Jakarta")


def run(*args):
    return CliRunner().invoke(cli, ["loyalty", *args])


@pytest.fixture
def rina(merchant):
    return CustomerFactory(
        merchant=merchant, full_name="Rina Wati", phone="+6281234567890", member_code="LG0001"
    )


def points_of(customer) -> Decimal:
    return balance_of(customer_account(customer=customer, kind="points"))


# -- import-balances --------------------------------------------------------------------------


def test_import_balances_then_again_posts_nothing_new(tmp_path, merchant, rina):
    ProgramFactory(merchant=merchant)
    path = tmp_path / "saldo.csv"
    path.write_text("phone,points,tab_owed\n0812-3456-7890,120,50000\n")

    refused = run("import-balances", "--merchant", merchant.slug, str(path))
    assert refused.exit_code == 1
    assert "row 2: tab_owed: owes Rp 50.000, above the customer's tab limit Rp 0" in refused.output
    assert "Nothing imported: 1 bad rows" in refused.output
    assert not Journal.objects.exists()

    done = run("import-balances", "--merchant", merchant.slug, str(path), "--set-limit")
    assert done.exit_code == 0, done.output
    assert "points for 1 customers (120 points)" in done.output
    assert "tab debts for 1 customers (Rp 50.000)" in done.output
    assert "1 limits raised; 0 already imported" in done.output
    assert tab_balance(customer=rina) == (Decimal("50000"), Decimal("50000"))

    again = run("import-balances", "--merchant", merchant.slug, str(path), "--json")
    assert again.exit_code == 0
    data = json.loads(again.output)
    assert data["committed"] is True
    assert (data["points_posted"], data["tab_posted"], data["already_imported"]) == (0, 0, 2)
    assert points_of(rina) == 120


def test_import_balances_json_lists_row_errors(tmp_path, merchant, rina):
    path = tmp_path / "saldo.csv"
    path.write_text("member_code,points\nLG0001,abc\nLG0404,5\n")
    result = run("import-balances", "--merchant", merchant.slug, str(path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["committed"] is False
    assert [(e["row"], e["reason"]) for e in data["errors"]] == [
        (2, "not a number"),
        (3, "no customer with this member code"),
    ]


def test_import_balances_for_an_unknown_merchant_is_a_clear_error(tmp_path):
    path = tmp_path / "saldo.csv"
    path.write_text("member_code,points\nLG0001,5\n")
    result = run("import-balances", "--merchant", "nope", str(path))
    assert result.exit_code == 1
    assert "Error: no merchant with this slug: nope" in result.output


# -- daily jobs -------------------------------------------------------------------------------


def test_expire_uses_now_in_the_merchants_time_zone(merchant, rina):
    from langganan.loyalty.points import points_earn

    ProgramFactory(merchant=merchant)
    points_earn(
        customer=rina,
        points=10,
        key="k",
        at=datetime(2025, 1, 1, tzinfo=JKT),
        expires_at=datetime(2025, 6, 1, 0, 0, tzinfo=JKT),
    )

    early = run("expire", "--merchant", merchant.slug, "--now", "2025-05-31T23:59")
    assert early.exit_code == 0, early.output
    assert "Expired 0 points" in early.output
    assert points_of(rina) == 10

    due = run("expire", "--merchant", merchant.slug, "--now", "2025-06-01T00:00")
    assert "Expired 10 points" in due.output
    assert points_of(rina) == 0


def test_expire_refuses_a_bad_now(merchant):
    result = run("expire", "--merchant", merchant.slug, "--now", "kemarin")
    assert result.exit_code == 2
    assert "--now must be an ISO date-time" in result.output


def test_review_tiers_reports_the_changes(merchant, rina):
    program = ProgramFactory(merchant=merchant)
    gold = TierFactory(program=program, name="Gold", min_spend=Decimal("1000000"))
    MemberFactory(customer=rina, tier=gold)  # and no spend at all: down at the review

    result = run("review-tiers", "--merchant", merchant.slug)
    assert result.exit_code == 0, result.output
    assert "Rina Wati: Gold → None (review)" in result.output
    assert f"Tier review of {merchant.slug}: 1 members changed tier." in result.output
    again = run("review-tiers", "--merchant", merchant.slug)
    assert f"Tier review of {merchant.slug}: 0 members changed tier." in again.output


def test_birthdays_gives_the_bonus_for_the_given_date(merchant):
    ProgramFactory(merchant=merchant, birthday_bonus=50)
    ani = CustomerFactory(merchant=merchant, birth_date=date(1990, 7, 17))
    MemberFactory(customer=ani)

    other_day = run("birthdays", "--merchant", merchant.slug, "--date", "2025-07-16")
    assert "Birthday bonus for 2025-07-16: 0 members." in other_day.output
    result = run("birthdays", "--merchant", merchant.slug, "--date", "2025-07-17")
    assert result.exit_code == 0, result.output
    assert "Birthday bonus for 2025-07-17: 1 members." in result.output
    assert points_of(ani) == 50


def test_check_passes_on_a_consistent_ledger_and_fails_on_a_tampered_one(merchant, rina):
    tab_set_limit(customer=rina, limit=Decimal("10000"), at=timezone.now())
    tab_charge(customer=rina, amount=Decimal("4000"), key="c", at=timezone.now())

    ok = run("check", "--merchant", merchant.slug)
    assert ok.exit_code == 0
    assert "is consistent" in ok.output

    account = customer_account(customer=rina, kind="tab")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("-3000"))
    bad = run("check", "--merchant", merchant.slug)
    assert bad.exit_code == 1
    assert f"account {account.pk}: balance -3000.00, entries sum to -4000" in bad.output
    assert "Error: 1 ledger discrepancies" in bad.output


# -- tab --------------------------------------------------------------------------------------


def test_tab_ageing_prints_who_owes(merchant, rina):
    now = timezone.now()
    tab_set_limit(customer=rina, limit=Decimal("100000"), at=now)
    tab_charge(customer=rina, amount=Decimal("30000"), key="old", at=now - timedelta(days=40))
    tab_charge(customer=rina, amount=Decimal("5000"), key="new", at=now - timedelta(days=1))

    result = run("tab-ageing", "--merchant", merchant.slug)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("Rina Wati"))
    assert line.split()[2:] == ["Rp", "35.000", "Rp", "5.000", "Rp", "30.000", "Rp", "0", "Rp", "0"]
    assert "1 customers owe Rp 35.000 in total." in result.output

    data = json.loads(run("tab-ageing", "--merchant", merchant.slug, "--json").output)
    assert data[0]["member_code"] == "LG0001"
    assert (data[0]["owed"], data[0]["0-30"], data[0]["31-60"]) == (
        "35000.00",
        "5000.00",
        "30000.00",
    )


def test_tab_ageing_with_nobody_owing(merchant):
    result = run("tab-ageing", "--merchant", merchant.slug)
    assert result.exit_code == 0
    assert "Nobody owes anything" in result.output


@pytest.mark.parametrize("reference", ["0812-3456-7890", "lg0001"])
def test_set_limit_finds_the_customer_by_phone_or_member_code(merchant, rina, reference):
    result = run("set-limit", "--merchant", merchant.slug, "--customer", reference, "Rp 250.000")
    assert result.exit_code == 0, result.output
    assert "Tab limit of Rina Wati set to Rp 250.000 (owes Rp 0)." in result.output
    assert tab_balance(customer=rina) == (Decimal("0"), Decimal("250000"))


def test_set_limit_below_the_debt_is_an_error(merchant, rina):
    tab_set_limit(customer=rina, limit=Decimal("50000"), at=timezone.now())
    tab_charge(customer=rina, amount=Decimal("40000"), key="c", at=timezone.now())
    result = run("set-limit", "--merchant", merchant.slug, "--customer", "LG0001", "30000")
    assert result.exit_code == 1
    message = ERR_LIMIT_BELOW_OWED.format(owed="Rp 40.000", limit="Rp 30.000")
    assert f"Error: {message}" in result.output
    assert tab_balance(customer=rina) == (Decimal("40000"), Decimal("50000"))


@pytest.mark.parametrize(
    ("reference", "amount", "message"),
    [
        ("LG0404", "1000", "Error: no customer with this phone, member code or reference: LG0404"),
        ("LG0001", "banyak", "Error: 'banyak': not a valid amount"),
        ("LG0001", "-5", "Error: a tab limit cannot be negative"),
    ],
)
def test_set_limit_errors(merchant, rina, reference, amount, message):
    result = run("set-limit", "--merchant", merchant.slug, "--customer", reference, "--", amount)
    assert result.exit_code == 1
    assert message in result.output
