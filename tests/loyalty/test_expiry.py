"""Points expiry: the date fixed when points are earned, the expiry run, reminders, refunds
after expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from langganan.loyalty.ledger import (
    InsufficientBalance,
    balance_of,
    customer_account,
    ledger_discrepancies,
    system_account,
)
from langganan.loyalty.models import Journal, LotUse, PointLot
from langganan.loyalty.points import (
    ERR_NOT_ENOUGH_POINTS,
    points_balance,
    points_earn,
    points_expire_due,
    points_expires_at,
    points_expiring,
    points_give_back,
    points_redeem,
    points_take_back,
)
from tests.factories import CustomerFactory, MerchantFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = ZoneInfo("UTC")


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def program():
    return ProgramFactory(expiry_policy="months", expiry_months=12)


@pytest.fixture
def customer(program):
    return CustomerFactory(merchant=program.merchant)


def lot_of(journal) -> PointLot:
    return PointLot.objects.get(journal=journal)


# -- the expiry date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "earned", "expires"),
    [
        (12, jkt(2025, 1, 15, 10, 30), jkt(2026, 1, 15, 10, 30)),
        (6, jkt(2025, 8, 31, 20, 0), jkt(2026, 2, 28, 20, 0)),  # no 31 Feb: its last day
        (6, jkt(2023, 8, 31, 20, 0), jkt(2024, 2, 29, 20, 0)),  # leap year
        (1, jkt(2025, 1, 31, 8, 0), jkt(2025, 2, 28, 8, 0)),
        (3, jkt(2025, 11, 30, 8, 0), jkt(2026, 2, 28, 8, 0)),
        (24, jkt(2025, 2, 1, 0, 0), jkt(2027, 2, 1, 0, 0)),
    ],
)
def test_months_policy_expires_the_same_local_day_n_months_later(program, months, earned, expires):
    program.expiry_months = months
    assert points_expires_at(program=program, earned_at=earned) == expires


def test_months_are_counted_from_the_local_day_not_the_utc_day(program):
    program.expiry_months = 1
    earned = datetime(2025, 1, 31, 20, 0, tzinfo=UTC)  # 1 February 03:00 in Jakarta
    assert points_expires_at(program=program, earned_at=earned) == jkt(2025, 3, 1, 3, 0)


@pytest.mark.parametrize(
    "earned",
    [jkt(2025, 1, 1, 0, 0), jkt(2025, 7, 1, 12, 0), jkt(2025, 12, 31, 23, 59, 59)],
)
def test_year_end_policy_expires_at_the_end_of_the_year_after_the_year_earned(program, earned):
    program.expiry_policy = "year_end"
    assert points_expires_at(program=program, earned_at=earned) == jkt(2026, 12, 31, 23, 59, 59)


def test_year_end_uses_the_local_year(program):
    program.expiry_policy = "year_end"
    earned = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)  # already 1 January 2026 in Jakarta
    assert points_expires_at(program=program, earned_at=earned) == jkt(2027, 12, 31, 23, 59, 59)


def test_never_policy_has_no_expiry_date(program):
    program.expiry_policy = "never"
    assert points_expires_at(program=program, earned_at=jkt(2025, 1, 1)) is None


def test_earned_points_keep_the_expiry_date_of_the_policy_when_they_were_earned(customer, program):
    first = points_earn(customer=customer, points=10, key="a", at=jkt(2025, 1, 15, 10))
    program.expiry_policy = "year_end"
    program.save()
    second = points_earn(customer=customer, points=10, key="b", at=jkt(2025, 1, 15, 10))
    program.expiry_policy = "never"
    program.save()
    third = points_earn(customer=customer, points=10, key="c", at=jkt(2025, 1, 15, 10))
    assert lot_of(first).expires_at == jkt(2026, 1, 15, 10)
    assert lot_of(second).expires_at == jkt(2026, 12, 31, 23, 59, 59)
    assert lot_of(third).expires_at is None
    # a policy change never re-dates them: nothing expires by the new (shorter) rule
    program.expiry_policy, program.expiry_months = "months", 1
    program.save()
    assert points_expire_due(merchant=program.merchant, now=jkt(2025, 12, 1)) == 0
    assert lot_of(first).expires_at == jkt(2026, 1, 15, 10)


# -- the expiry run --------------------------------------------------------------------------


def test_points_expire_exactly_at_their_expiry_time_and_not_a_second_before(customer, program):
    journal = points_earn(customer=customer, points=25, key="a", at=jkt(2025, 1, 15, 10))
    merchant = program.merchant
    assert points_expire_due(merchant=merchant, now=jkt(2026, 1, 15, 9, 59, 59)) == 0
    assert points_expire_due(merchant=merchant, now=jkt(2026, 1, 15, 10)) == 25
    lot = lot_of(journal)
    assert lot.remaining == 0
    expiry = Journal.objects.get(key=f"expire:lot:{lot.pk}")
    assert expiry.kind == "expire"
    assert list(LotUse.objects.filter(journal=expiry).values_list("amount", flat=True)) == [25]
    assert balance_of(customer_account(customer=customer, kind="points")) == 0
    assert balance_of(system_account(merchant=merchant, code="points_expired")) == 25
    assert ledger_discrepancies(merchant) == []


def test_running_the_expiry_twice_expires_nothing_more(customer, program):
    points_earn(customer=customer, points=25, key="a", at=jkt(2025, 1, 15, 10))
    points_earn(customer=customer, points=5, key="b", at=jkt(2025, 6, 1, 10))
    now = jkt(2026, 2, 1)
    assert points_expire_due(merchant=program.merchant, now=now) == 25
    assert points_expire_due(merchant=program.merchant, now=now) == 0
    assert Journal.objects.filter(kind="expire").count() == 1
    assert points_balance(customer=customer, at=now) == 5


def test_only_what_is_left_of_a_partly_redeemed_lot_expires(customer, program):
    points_earn(customer=customer, points=25, key="a", at=jkt(2025, 1, 15, 10))
    points_redeem(customer=customer, points=10, key="r", at=jkt(2025, 3, 1))
    assert points_expire_due(merchant=program.merchant, now=jkt(2026, 1, 16)) == 15
    assert points_balance(customer=customer, at=jkt(2026, 1, 16)) == 0


def test_the_expiry_run_leaves_never_expiring_points_and_other_merchants_alone(customer, program):
    program.expiry_policy = "never"
    program.save()
    points_earn(customer=customer, points=10, key="a", at=jkt(2020, 1, 1))
    other_program = ProgramFactory(merchant=MerchantFactory(), expiry_months=1)
    other = CustomerFactory(merchant=other_program.merchant)
    points_earn(customer=other, points=7, key="b", at=jkt(2020, 1, 1))
    assert points_expire_due(merchant=program.merchant, now=jkt(2030, 1, 1)) == 0
    assert points_expire_due(merchant=other_program.merchant, now=jkt(2030, 1, 1)) == 7
    assert points_balance(customer=customer) == 10


def test_expired_points_cannot_be_redeemed_even_before_the_expiry_run(customer, program):
    points_earn(customer=customer, points=25, key="a", at=jkt(2025, 1, 15, 10))
    points_earn(customer=customer, points=5, key="b", at=jkt(2025, 6, 1, 10))
    at = jkt(2026, 1, 15, 10)  # exactly when the first lot expires
    assert points_balance(customer=customer, at=at) == 5
    with pytest.raises(
        InsufficientBalance, match=ERR_NOT_ENOUGH_POINTS.format(available=5, requested=6)
    ):
        points_redeem(customer=customer, points=6, key="r", at=at)
    points_redeem(customer=customer, points=5, key="r", at=at)
    assert points_expire_due(merchant=program.merchant, now=at) == 25


# -- refunds after expiry --------------------------------------------------------------------


def test_a_refund_after_the_points_expired_takes_nothing_back(customer, program):
    earn = points_earn(customer=customer, points=20, key="sale:1:earn", at=jkt(2025, 1, 15, 10))
    at = jkt(2026, 1, 15, 10)
    assert points_take_back(earn_journal=earn, points=20, key="refund:1", at=at) is None
    assert points_expire_due(merchant=program.merchant, now=at) == 20  # expiry takes them
    assert ledger_discrepancies(program.merchant) == []


def test_a_refund_just_before_expiry_still_takes_the_points_back(customer, program):
    earn = points_earn(customer=customer, points=20, key="sale:1:earn", at=jkt(2025, 1, 15, 10))
    at = jkt(2026, 1, 15, 9, 59, 59)
    assert points_take_back(earn_journal=earn, points=20, key="refund:1", at=at) is not None
    assert points_expire_due(merchant=program.merchant, now=jkt(2026, 1, 16)) == 0


def test_a_refund_gives_no_points_back_to_lots_that_have_expired(customer, program):
    points_earn(customer=customer, points=10, key="old", at=jkt(2025, 1, 15, 10))
    points_earn(customer=customer, points=10, key="new", at=jkt(2025, 6, 1, 10))
    redeem = points_redeem(customer=customer, points=15, key="r", at=jkt(2025, 7, 1))
    at = jkt(2026, 2, 1)  # the old lot expired on 15 January
    back = points_give_back(redeem_journal=redeem, points=15, key="g", at=at)
    assert back.entries.get(account__kind="points").amount == 5  # only the new lot's part
    assert points_balance(customer=customer, at=at) == 10
    assert points_expire_due(merchant=program.merchant, now=at) == 0  # old lot was used up


def test_a_refund_where_every_used_lot_expired_gives_nothing_back(customer, program):
    points_earn(customer=customer, points=10, key="old", at=jkt(2025, 1, 15, 10))
    redeem = points_redeem(customer=customer, points=10, key="r", at=jkt(2025, 7, 1))
    at = jkt(2026, 1, 15, 10)
    assert points_give_back(redeem_journal=redeem, points=10, key="g", at=at) is None


# -- reminders -------------------------------------------------------------------------------


def test_expiring_points_are_listed_per_customer_soonest_first(program):
    merchant = program.merchant
    ani, budi, citra = (CustomerFactory(merchant=merchant) for _ in range(3))
    now = jkt(2026, 1, 1)
    points_earn(customer=ani, points=10, key="a1", at=jkt(2025, 1, 20, 10))  # 2026-01-20
    points_earn(customer=ani, points=5, key="a2", at=jkt(2025, 1, 30, 10))  # 2026-01-30
    points_earn(customer=ani, points=7, key="a3", at=jkt(2025, 2, 1, 10))  # beyond 30 days
    points_earn(customer=budi, points=3, key="b1", at=jkt(2025, 1, 10, 10))  # 2026-01-10
    points_earn(customer=citra, points=9, key="c1", at=jkt(2024, 12, 31, 10))  # already expired
    listed = points_expiring(merchant=merchant, within_days=30, now=now)
    assert listed == [(budi, 3, jkt(2026, 1, 10, 10)), (ani, 15, jkt(2026, 1, 20, 10))]


def test_points_expiring_exactly_at_the_end_of_the_reminder_window_are_listed(customer, program):
    points_earn(customer=customer, points=4, key="a", at=jkt(2025, 1, 15, 10))
    expiry = jkt(2026, 1, 15, 10)
    now = expiry - timedelta(days=7)
    assert points_expiring(merchant=program.merchant, within_days=7, now=now) == [
        (customer, 4, expiry)
    ]
    later = now - timedelta(seconds=1)
    assert points_expiring(merchant=program.merchant, within_days=7, now=later) == []


def test_spent_points_are_not_in_the_reminder(customer, program):
    points_earn(customer=customer, points=4, key="a", at=jkt(2025, 1, 15, 10))
    points_redeem(customer=customer, points=4, key="r", at=jkt(2025, 2, 1))
    assert points_expiring(merchant=program.merchant, within_days=30, now=jkt(2026, 1, 1)) == []
