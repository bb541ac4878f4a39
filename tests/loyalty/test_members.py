"""Members: the program look-up, enrolment (codes, tier, bonus, welcome voucher, referral) and
the yearly birthday bonus."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import LanggananError, NotFound
from langganan.loyalty import members as members_module
from langganan.loyalty.members import (
    ERR_NO_PROGRAM,
    REFERRAL_ALPHABET,
    REFERRAL_CODE_LENGTH,
    birthday_bonus_run,
    member_enrol,
    program_for,
)
from langganan.loyalty.models import Journal, Member, PointLot, Program, TierChange
from langganan.loyalty.points import points_balance
from tests.factories import CustomerFactory, MerchantFactory, OutletFactory, TransactionFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory, VoucherFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
AT = datetime(2025, 3, 10, 12, 0, tzinfo=JAKARTA)


@pytest.fixture
def program():
    return ProgramFactory(signup_bonus=50, birthday_bonus=100, expiry_policy="never")


@pytest.fixture
def customer(program):
    return CustomerFactory(merchant=program.merchant)


# -- program_for -----------------------------------------------------------------------------


def test_the_program_of_a_merchant_is_found(program):
    assert program_for(merchant=program.merchant) == program


def test_a_merchant_without_a_program_gets_a_clear_not_found():
    with pytest.raises(NotFound, match=ERR_NO_PROGRAM):
        program_for(merchant=MerchantFactory())


def test_a_switched_off_program_is_not_found(program):
    Program.objects.filter(pk=program.pk).update(is_active=False)
    with pytest.raises(NotFound, match=ERR_NO_PROGRAM):
        program_for(merchant=program.merchant)


# -- enrolment -------------------------------------------------------------------------------


def test_enrolling_gives_a_readable_referral_code_and_the_sign_up_bonus(customer):
    member = member_enrol(customer=customer, at=AT)
    assert member.merchant == customer.merchant and member.enrolled_at == AT
    assert len(member.referral_code) == REFERRAL_CODE_LENGTH
    assert set(member.referral_code) <= set(REFERRAL_ALPHABET)
    assert not set("0O1I") & set(REFERRAL_ALPHABET)
    journal = Journal.objects.get(key=f"signup:{customer.pk}")
    assert journal.kind == "bonus"
    assert points_balance(customer=customer) == 50


def test_enrolling_twice_returns_the_same_member_and_gives_the_bonus_once(customer):
    first = member_enrol(customer=customer, at=AT)
    again = member_enrol(customer=customer, at=AT, referral_code="WHATEVER")
    assert again.pk == first.pk and again.referral_code == first.referral_code
    assert Member.objects.count() == 1
    assert points_balance(customer=customer) == 50


def test_enrolling_without_a_sign_up_bonus_posts_nothing(program, customer):
    Program.objects.filter(pk=program.pk).update(signup_bonus=0)
    member_enrol(customer=customer, at=AT)
    assert not Journal.objects.exists()


def test_enrolling_needs_an_active_program(program, customer):
    Program.objects.filter(pk=program.pk).update(is_active=False)
    with pytest.raises(NotFound, match=ERR_NO_PROGRAM):
        member_enrol(customer=customer, at=AT)
    assert not Member.objects.exists()


def test_referral_codes_are_unique_within_the_merchant(program):
    codes = {
        member_enrol(customer=CustomerFactory(merchant=program.merchant), at=AT).referral_code
        for _ in range(30)
    }
    assert len(codes) == 30


def test_a_referral_code_collision_is_retried_with_a_new_code(program, monkeypatch):
    MemberFactory(customer=CustomerFactory(merchant=program.merchant), referral_code="TAKEN234")
    proposals = iter(["TAKEN234", "TAKEN234", "FRESH567"])
    monkeypatch.setattr(members_module, "referral_code_new", lambda: next(proposals))
    member = member_enrol(customer=CustomerFactory(merchant=program.merchant), at=AT)
    assert member.referral_code == "FRESH567"


def test_a_new_member_starts_in_the_best_tier_their_history_qualifies_for(program, customer):
    silver = TierFactory(program=program, name="Silver", rank=1, min_spend=0)
    gold = TierFactory(program=program, name="Gold", rank=2, min_spend=Decimal("100000"))
    member = member_enrol(customer=customer, at=AT)
    assert member.tier == silver and member.tier_since == AT
    change = TierChange.objects.get(member=member)
    assert (change.from_tier, change.to_tier, change.reason) == (None, silver, "enrolled")

    regular = CustomerFactory(merchant=program.merchant)
    TransactionFactory(
        merchant=program.merchant,
        outlet=OutletFactory(merchant=program.merchant),
        customer=regular,
        occurred_at=datetime(2025, 3, 1, 12, tzinfo=JAKARTA),
        total=Decimal("150000"),
    )
    assert member_enrol(customer=regular, at=AT).tier == gold


def test_a_program_without_tiers_enrols_members_without_a_tier(customer):
    member = member_enrol(customer=customer, at=AT)
    assert member.tier is None
    assert not TierChange.objects.exists()


def test_enrolment_issues_the_welcome_voucher_when_the_program_has_one(program, customer):
    pytest.importorskip("langganan.loyalty.vouchers")
    template = VoucherFactory(
        merchant=program.merchant, code="WELCOME", is_template=True, kind="shared", max_uses=None
    )
    program.welcome_voucher = template
    program.save()
    member_enrol(customer=customer, at=AT)
    issued = customer.vouchers.filter(is_template=False)
    assert issued.count() == 1


def test_enrolment_with_a_referral_code_records_who_referred_the_member(program, customer):
    pytest.importorskip("langganan.loyalty.referrals")
    referrer = member_enrol(customer=CustomerFactory(merchant=program.merchant), at=AT)
    member = member_enrol(customer=customer, at=AT, referral_code=referrer.referral_code)
    assert Member.objects.get(pk=member.pk).referred_by == referrer


def test_an_unknown_referral_code_fails_the_enrolment_and_nothing_is_kept(program, customer):
    pytest.importorskip("langganan.loyalty.referrals")
    with pytest.raises(LanggananError):
        member_enrol(customer=customer, at=AT, referral_code="NOSUCH23")
    assert not Member.objects.filter(customer=customer).exists()
    assert not Journal.objects.exists()


# -- birthdays -------------------------------------------------------------------------------


def born(program, birth_date):
    customer = CustomerFactory(merchant=program.merchant, birth_date=birth_date)
    MemberFactory(customer=customer)
    return customer


def test_members_born_today_get_the_birthday_bonus(program):
    today = date(2025, 7, 17)
    ani = born(program, date(1990, 7, 17))
    budi = born(program, date(1990, 7, 18))
    CustomerFactory(merchant=program.merchant, birth_date=date(1990, 7, 17))  # not a member
    assert birthday_bonus_run(merchant=program.merchant, today=today) == 1
    assert points_balance(customer=ani) == 100 and points_balance(customer=budi) == 0
    journal = Journal.objects.get(key=f"birthday:{ani.pk}:2025")
    assert journal.kind == "bonus"
    assert PointLot.objects.get(journal=journal).earned_at == datetime(2025, 7, 17, tzinfo=JAKARTA)


def test_the_birthday_bonus_is_given_once_a_year(program):
    ani = born(program, date(1990, 7, 17))
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 7, 17)) == 1
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 7, 17)) == 0
    assert birthday_bonus_run(merchant=program.merchant, today=date(2026, 7, 17)) == 1
    assert points_balance(customer=ani) == 200


def test_a_29_february_birthday_is_celebrated_on_28_february_in_other_years(program):
    leapling = born(program, date(2000, 2, 29))
    born_28 = born(program, date(2001, 2, 28))
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 2, 28)) == 2
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 3, 1)) == 0
    # in a leap year it is 29 February again, not the 28th
    assert birthday_bonus_run(merchant=program.merchant, today=date(2028, 2, 28)) == 1
    assert birthday_bonus_run(merchant=program.merchant, today=date(2028, 2, 29)) == 1
    assert points_balance(customer=leapling) == 200
    assert points_balance(customer=born_28) == 200


def test_no_birthday_bonus_without_a_bonus_or_an_active_program(program):
    born(program, date(1990, 7, 17))
    Program.objects.filter(pk=program.pk).update(birthday_bonus=0)
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 7, 17)) == 0
    Program.objects.filter(pk=program.pk).update(birthday_bonus=100, is_active=False)
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 7, 17)) == 0
    assert not Journal.objects.exists()


def test_the_birthday_run_only_looks_at_its_own_merchant(program):
    other_program = ProgramFactory(birthday_bonus=100)
    born(other_program, date(1990, 7, 17))
    assert birthday_bonus_run(merchant=program.merchant, today=date(2025, 7, 17)) == 0
