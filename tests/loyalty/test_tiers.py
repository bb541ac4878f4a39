"""Tiers: the rolling window, upgrades at once, review dates and reviews that may downgrade."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.core.errors import InvalidInput
from langganan.loyalty.models import Member, Program, TierChange
from langganan.loyalty.tiers import (
    ERR_REVIEW_MONTHS,
    next_review_date,
    review_date_on_or_before,
    tier_best_qualifying,
    tier_review_run,
    tier_upgrade_if_qualified,
    tier_window_stats,
)
from tests.factories import CustomerFactory, OutletFactory, TransactionFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = ZoneInfo("UTC")
AT = datetime(2025, 6, 30, 12, 0, tzinfo=JAKARTA)


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def program():
    return ProgramFactory(tier_window_days=365)


@pytest.fixture
def tiers(program):
    return {
        "silver": TierFactory(program=program, name="Silver", rank=1, min_spend=0, min_visits=0),
        "gold": TierFactory(
            program=program, name="Gold", rank=2, min_spend=Decimal("1000000"), min_visits=10
        ),
        "platinum": TierFactory(
            program=program, name="Platinum", rank=3, min_spend=Decimal("5000000"), min_visits=30
        ),
    }


@pytest.fixture
def member(program):
    customer = CustomerFactory(merchant=program.merchant)
    return MemberFactory(customer=customer)


@pytest.fixture
def outlet(program):
    return OutletFactory(merchant=program.merchant)


def sale(member, outlet, total, at):
    return TransactionFactory(
        merchant=member.merchant,
        outlet=outlet,
        customer=member.customer,
        occurred_at=at,
        total=Decimal(total),
    )


def refund(of, total, at):
    return TransactionFactory(
        merchant=of.merchant,
        outlet=of.outlet,
        customer=of.customer,
        kind="refund",
        refund_of=of,
        occurred_at=at,
        total=-Decimal(total),
    )


# -- the window ------------------------------------------------------------------------------


def test_the_window_counts_net_spend_and_distinct_local_days(member, outlet):
    sale(member, outlet, "100000", jkt(2025, 6, 1, 9))
    sale(member, outlet, "50000", jkt(2025, 6, 1, 20))  # same day: one visit
    first = sale(member, outlet, "70000", jkt(2025, 6, 2, 9))
    refund(first, "20000", jkt(2025, 6, 3, 9))  # a refund is no visit
    assert tier_window_stats(member=member, at=AT) == (Decimal("200000"), 2)


def test_visits_are_local_days_not_utc_days(member, outlet):
    # 16:30 and 17:30 UTC are the same UTC day but 23:30 and 00:30 in Jakarta
    sale(member, outlet, "1000", datetime(2025, 6, 1, 16, 30, tzinfo=UTC))
    sale(member, outlet, "1000", datetime(2025, 6, 1, 17, 30, tzinfo=UTC))
    assert tier_window_stats(member=member, at=AT)[1] == 2


def test_the_window_includes_its_end_and_excludes_its_start(member, outlet):
    start = AT - timedelta(days=365)
    sale(member, outlet, "1", start)  # out: exactly 365 days before
    sale(member, outlet, "10", start + timedelta(seconds=1))  # in
    sale(member, outlet, "100", AT)  # in: the window ends at `at`, included
    sale(member, outlet, "1000", AT + timedelta(seconds=1))  # out: after `at`
    assert tier_window_stats(member=member, at=AT) == (Decimal("110"), 2)


def test_a_refund_in_the_window_of_an_older_sale_lowers_the_spend(member, outlet):
    old = sale(member, outlet, "300000", AT - timedelta(days=400))
    refund(old, "100000", AT - timedelta(days=10))
    sale(member, outlet, "250000", AT - timedelta(days=5))
    assert tier_window_stats(member=member, at=AT) == (Decimal("150000"), 1)


def test_other_customers_sales_do_not_count(member, outlet):
    other = MemberFactory(customer=CustomerFactory(merchant=member.merchant))
    sale(other, outlet, "999999", AT)
    assert tier_window_stats(member=member, at=AT) == (Decimal("0"), 0)


def test_the_window_length_is_the_programs(program, member, outlet):
    Program.objects.filter(pk=program.pk).update(tier_window_days=30)
    sale(member, outlet, "5000", AT - timedelta(days=31))
    sale(member, outlet, "7000", AT - timedelta(days=29))
    assert tier_window_stats(member=member, at=AT) == (Decimal("7000"), 1)


# -- qualifying and upgrades -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend", "expected"),
    [("0", "Silver"), ("999999.99", "Silver"), ("1000000", "Gold"), ("5000000", "Platinum")],
)
def test_the_best_tier_whose_minimum_spend_is_reached_qualifies(program, tiers, spend, expected):
    assert tier_best_qualifying(program=program, spend=Decimal(spend), visits=0).name == expected


@pytest.mark.parametrize(("visits", "expected"), [(9, "Silver"), (10, "Gold"), (30, "Platinum")])
def test_tiers_by_visits_use_the_minimum_visits(program, tiers, visits, expected):
    program.tier_basis = "visits"
    found = tier_best_qualifying(program=program, spend=Decimal("99999999"), visits=visits)
    assert found.name == expected


def test_no_tier_qualifies_when_even_the_lowest_needs_more(program):
    TierFactory(program=program, rank=1, min_spend=Decimal("100"))
    assert tier_best_qualifying(program=program, spend=Decimal("99"), visits=0) is None


def test_a_member_who_qualifies_moves_up_at_once_and_the_change_is_recorded(member, outlet, tiers):
    member.tier = tiers["silver"]
    member.save()
    sale(member, outlet, "600000", AT - timedelta(days=40))
    sale(member, outlet, "400000", AT)
    change = tier_upgrade_if_qualified(member=member, at=AT)
    assert (change.from_tier, change.to_tier, change.reason) == (
        tiers["silver"],
        tiers["gold"],
        "qualified",
    )
    assert (change.spend_in_window, change.visits_in_window) == (Decimal("1000000"), 2)
    assert change.changed_at == AT
    assert member.tier == tiers["gold"] and member.tier_since == AT
    assert Member.objects.get(pk=member.pk).tier == tiers["gold"]


def test_an_upgrade_skips_straight_to_the_best_qualifying_tier(member, outlet, tiers):
    sale(member, outlet, "6000000", AT)
    change = tier_upgrade_if_qualified(member=member, at=AT)
    assert (change.from_tier, change.to_tier) == (None, tiers["platinum"])


def test_one_rupiah_short_of_the_next_tier_does_not_upgrade(member, outlet, tiers):
    member.tier = tiers["silver"]
    member.save()
    sale(member, outlet, "999999", AT)
    assert tier_upgrade_if_qualified(member=member, at=AT) is None
    assert not TierChange.objects.exists()


def test_an_upgrade_never_moves_a_member_down(member, outlet, tiers):
    member.tier = tiers["platinum"]
    member.save()
    sale(member, outlet, "10000", AT)
    assert tier_upgrade_if_qualified(member=member, at=AT) is None
    assert Member.objects.get(pk=member.pk).tier == tiers["platinum"]


# -- review dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "after", "expected"),
    [
        (3, date(2025, 1, 1), date(2025, 4, 1)),  # strictly after
        (3, date(2024, 12, 31), date(2025, 1, 1)),
        (3, date(2025, 3, 31), date(2025, 4, 1)),
        (3, date(2025, 10, 1), date(2026, 1, 1)),
        (1, date(2025, 2, 14), date(2025, 3, 1)),
        (5, date(2025, 1, 1), date(2025, 6, 1)),
        (5, date(2025, 6, 1), date(2025, 11, 1)),
        (5, date(2025, 11, 1), date(2026, 1, 1)),  # counted from January every year
        (6, date(2025, 5, 31), date(2025, 7, 1)),
        (12, date(2025, 1, 1), date(2026, 1, 1)),
        (24, date(2025, 3, 1), date(2026, 1, 1)),
    ],
)
def test_review_dates_are_the_first_of_every_nth_month_from_january(
    program, months, after, expected
):
    program.tier_review_months = months
    assert next_review_date(program=program, after=after) == expected


def test_the_review_date_on_or_before_a_day_includes_that_day(program):
    program.tier_review_months = 3
    assert review_date_on_or_before(program=program, day=date(2025, 4, 1)) == date(2025, 4, 1)
    assert review_date_on_or_before(program=program, day=date(2025, 3, 31)) == date(2025, 1, 1)


def test_zero_months_between_reviews_is_refused(program):
    program.tier_review_months = 0
    with pytest.raises(InvalidInput, match=ERR_REVIEW_MONTHS):
        next_review_date(program=program, after=date(2025, 1, 1))


# -- reviews ---------------------------------------------------------------------------------


def test_a_review_moves_members_down_and_up_to_the_tier_they_qualify_for(
    program, member, outlet, tiers
):
    member.tier = tiers["platinum"]
    member.save()
    sale(member, outlet, "1200000", jkt(2025, 3, 1))
    rising = MemberFactory(customer=CustomerFactory(merchant=program.merchant))
    rising.tier = tiers["silver"]
    rising.save()
    sale(rising, outlet, "5500000", jkt(2025, 3, 1))
    steady = MemberFactory(customer=CustomerFactory(merchant=program.merchant), tier=tiers["gold"])
    sale(steady, outlet, "1500000", jkt(2025, 3, 1))
    at = jkt(2025, 4, 1, 2)
    changes = tier_review_run(merchant=program.merchant, at=at)
    moved = {(c.member_id, c.from_tier.name, c.to_tier.name) for c in changes}
    assert moved == {(member.pk, "Platinum", "Gold"), (rising.pk, "Silver", "Platinum")}
    assert all(c.reason == "review" and c.detail == "review 2025-04-01" for c in changes)
    assert Member.objects.get(pk=member.pk).tier == tiers["gold"]
    assert Member.objects.get(pk=member.pk).tier_since == at
    # the steady member is recorded as reviewed, unchanged
    kept = TierChange.objects.get(member=steady)
    assert (kept.from_tier, kept.to_tier, kept.reason) == (tiers["gold"], tiers["gold"], "review")


def test_a_second_review_for_the_same_review_date_changes_nothing(program, member, outlet, tiers):
    member.tier = tiers["gold"]
    member.save()
    sale(member, outlet, "1000000", jkt(2024, 4, 10))
    assert tier_review_run(merchant=program.merchant, at=jkt(2025, 4, 1, 2)) == []
    # by 15 April the April 2024 sale has left the window, but 1 April was already reviewed
    assert tier_review_run(merchant=program.merchant, at=jkt(2025, 4, 15)) == []
    assert Member.objects.get(pk=member.pk).tier == tiers["gold"]
    assert TierChange.objects.count() == 1
    # the next review date does review again
    changes = tier_review_run(merchant=program.merchant, at=jkt(2025, 7, 1, 2))
    assert [(c.from_tier, c.to_tier) for c in changes] == [(tiers["gold"], tiers["silver"])]


def test_a_review_uses_the_review_date_in_the_merchants_time_zone(program, member, tiers):
    # 31 March 17:30 UTC is 1 April 00:30 in Jakarta: the April review
    tier_review_run(merchant=program.merchant, at=datetime(2025, 3, 31, 17, 30, tzinfo=UTC))
    assert TierChange.objects.get().detail == "review 2025-04-01"


def test_a_review_without_an_active_program_does_nothing(program, member, tiers):
    Program.objects.filter(pk=program.pk).update(is_active=False)
    assert tier_review_run(merchant=program.merchant, at=AT) == []
    assert not TierChange.objects.exists()


def test_no_upgrade_while_the_program_is_switched_off(program, member, outlet, tiers):
    Program.objects.filter(pk=program.pk).update(is_active=False)
    sale(member, outlet, "6000000", AT)
    assert tier_upgrade_if_qualified(member=member, at=AT) is None
    assert Member.objects.get(pk=member.pk).tier is None
