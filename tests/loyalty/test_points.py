"""Points: the earning rule, earning, redeeming oldest-expiring first, refunds, concurrency."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection
from django.db.models import Sum

from langganan.core.errors import InvalidInput, NotFound
from langganan.loyalty.ledger import (
    DuplicateJournal,
    InsufficientBalance,
    balance_of,
    customer_account,
    ledger_discrepancies,
    system_account,
)
from langganan.loyalty.members import ERR_NAIVE_TIME, ERR_NO_PROGRAM
from langganan.loyalty.models import EarnRule, Journal, LotUse, PointLot, Program
from langganan.loyalty.points import (
    ERR_BELOW_MINIMUM,
    ERR_EARN_KIND,
    ERR_NOT_A_REDEMPTION,
    ERR_NOT_ENOUGH_POINTS,
    ERR_POINTS_NEGATIVE,
    ERR_POINTS_NOT_POSITIVE,
    ERR_POINTS_WHOLE,
    ERR_TOTAL_NEGATIVE,
    SaleLine,
    points_balance,
    points_earn,
    points_for_sale,
    points_give_back,
    points_redeem,
    points_take_back,
)
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory
from tests.loyalty.factories import ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
AT = datetime(2025, 3, 10, 12, 0, tzinfo=JAKARTA)


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


def line(amount, product=None, category=None) -> SaleLine:
    return SaleLine(
        product_id=product.pk if product else None,
        category_id=category.pk if category else None,
        quantity=Decimal("1"),
        amount=Decimal(amount),
    )


def earn_for(program, total, lines=(), tier=None, at=AT) -> int:
    return points_for_sale(
        program=program, tier=tier, lines=list(lines), total=Decimal(total), at=at
    )


def lots_total(customer) -> int:
    account = customer_account(customer=customer, kind="points")
    return int(PointLot.objects.filter(account=account).aggregate(s=Sum("remaining"))["s"] or 0)


def assert_consistent(customer) -> None:
    account = customer_account(customer=customer, kind="points")
    assert ledger_discrepancies(customer.merchant) == []
    assert lots_total(customer) == balance_of(account)


@pytest.fixture
def program():
    return ProgramFactory(expiry_policy="never")


@pytest.fixture
def customer(program):
    return CustomerFactory(merchant=program.merchant)


# -- points_for_sale -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "points"),
    [("0.01", 0), ("9999", 0), ("9999.99", 0), ("10000", 1), ("19999", 1), ("20000", 2)],
)
def test_rounding_down_earns_only_whole_steps(program, total, points):
    assert earn_for(program, total) == points


@pytest.mark.parametrize(
    ("total", "points"),
    [("4999", 0), ("4999.99", 0), ("5000", 1), ("9999", 1), ("14999", 1), ("15000", 2)],
)
def test_rounding_half_up_rounds_to_the_nearest_step_and_a_half_step_up(program, total, points):
    program.earn_rounding = "half_up"
    assert earn_for(program, total) == points


def test_each_step_earns_the_programs_points_per_step(program):
    program.earn_points = 3
    assert earn_for(program, "25000") == 6


def test_nothing_is_earned_below_the_minimum_spend_not_even_the_visit_points(program):
    program.min_spend_to_earn = Decimal("50000")
    program.points_per_visit = 5
    assert earn_for(program, "49999.99") == 0
    assert earn_for(program, "50000") == 5 + 5


def test_visit_points_are_added_flat_without_any_multiplier(program):
    program.points_per_visit = 2
    tier = TierFactory(program=program, earn_multiplier=Decimal("3"))
    assert earn_for(program, "10000", tier=tier) == 3 + 2
    assert earn_for(program, "500", tier=tier) == 0 + 2


def test_a_bill_paid_entirely_with_points_earns_nothing(program):
    program.points_per_visit = 2
    assert earn_for(program, "0", [line("50000")]) == 0


def test_a_negative_total_is_refused(program):
    with pytest.raises(InvalidInput, match=ERR_TOTAL_NEGATIVE):
        earn_for(program, "-1")


def test_a_switched_off_program_earns_nothing(program):
    program.is_active = False
    assert earn_for(program, "100000") == 0


def test_the_tier_multiplier_applies_before_the_single_rounding(program):
    tier = TierFactory(program=program, earn_multiplier=Decimal("1.5"))
    assert earn_for(program, "30000", tier=tier) == 4  # 4.5 steps, down
    program.earn_rounding = "half_up"
    assert earn_for(program, "30000", tier=tier) == 5


def test_rounding_happens_once_on_the_whole_sale_not_per_line(program):
    # two lines of Rp 5.000 would each round down to 0; together they make one step
    assert earn_for(program, "10000", [line("5000"), line("5000")]) == 1


def test_a_product_rule_multiplies_only_that_lines_share(program):
    kopi, roti = (
        ProductFactory(merchant=program.merchant),
        ProductFactory(merchant=program.merchant),
    )
    EarnRule.objects.create(program=program, name="Kopi 2x", multiplier=2, product=kopi)
    lines = [line("20000", product=kopi), line("20000", product=roti)]
    assert earn_for(program, "40000", lines) == 6  # 2 × 2 + 2


def test_the_rule_applies_to_the_lines_share_of_what_was_actually_paid(program):
    kopi, roti = (
        ProductFactory(merchant=program.merchant),
        ProductFactory(merchant=program.merchant),
    )
    EarnRule.objects.create(program=program, name="Kopi 2x", multiplier=2, product=kopi)
    lines = [line("20000", product=kopi), line("20000", product=roti)]
    # Rp 40.000 of goods, half paid with points: each line is Rp 10.000 of the Rp 20.000 paid
    assert earn_for(program, "20000", lines) == 3  # 2 × 1 + 1


def test_a_category_rule_multiplies_the_lines_of_that_category(program):
    minuman = CategoryFactory(merchant=program.merchant)
    EarnRule.objects.create(program=program, name="Minuman 3x", multiplier=3, category=minuman)
    assert earn_for(program, "20000", [line("10000", category=minuman), line("10000")]) == 4


def test_when_several_rules_apply_the_highest_multiplier_wins(program):
    minuman = CategoryFactory(merchant=program.merchant)
    kopi = ProductFactory(merchant=program.merchant, category=minuman)
    EarnRule.objects.create(program=program, name="Kopi", multiplier=2, product=kopi)
    EarnRule.objects.create(program=program, name="Minuman", multiplier=3, category=minuman)
    EarnRule.objects.create(program=program, name="Semua", multiplier=Decimal("1.5"))
    assert earn_for(program, "10000", [line("10000", product=kopi, category=minuman)]) == 3


def test_a_rule_below_one_lowers_the_only_line_it_applies_to(program):
    rokok = ProductFactory(merchant=program.merchant)
    EarnRule.objects.create(program=program, name="Rokok", multiplier=0, product=rokok)
    assert earn_for(program, "50000", [line("30000", product=rokok), line("20000")]) == 2


def test_an_inactive_rule_is_ignored(program):
    EarnRule.objects.create(program=program, name="Off", multiplier=5, is_active=False)
    assert earn_for(program, "10000") == 1


@pytest.mark.parametrize(
    ("at", "points"),
    [
        (jkt(2025, 3, 9, 23, 59, 59), 1),  # the day before the promotion
        (jkt(2025, 3, 10, 0, 0), 2),  # its first day, from midnight
        (jkt(2025, 3, 12, 23, 59, 59), 2),  # its last day, to the end of the day
        (jkt(2025, 3, 13, 0, 0), 1),  # the day after
        (datetime(2025, 3, 9, 17, 30, tzinfo=ZoneInfo("UTC")), 2),  # 10 March 00:30 in Jakarta
    ],
)
def test_a_promotion_counts_both_its_first_and_last_day_in_local_time(program, at, points):
    EarnRule.objects.create(
        program=program,
        name="Promo",
        multiplier=2,
        starts_on=date(2025, 3, 10),
        ends_on=date(2025, 3, 12),
    )
    assert earn_for(program, "10000", at=at) == points


def test_a_rule_with_a_product_and_dates_needs_both(program):
    kopi = ProductFactory(merchant=program.merchant)
    EarnRule.objects.create(
        program=program,
        name="Kopi promo",
        multiplier=2,
        product=kopi,
        starts_on=date(2025, 3, 10),
        ends_on=date(2025, 3, 10),
    )
    assert earn_for(program, "10000", [line("10000", product=kopi)], at=jkt(2025, 3, 10)) == 2
    assert earn_for(program, "10000", [line("10000", product=kopi)], at=jkt(2025, 3, 11)) == 1
    assert earn_for(program, "10000", [line("10000")], at=jkt(2025, 3, 10)) == 1


def test_a_sale_without_lines_earns_on_the_total_and_general_rules_apply(program):
    EarnRule.objects.create(program=program, name="Semua 2x", multiplier=2)
    assert earn_for(program, "10000", []) == 2


# -- points_earn -----------------------------------------------------------------------------


def test_earning_credits_the_customer_from_points_issued_and_opens_a_lot(customer):
    journal = points_earn(customer=customer, points=12, key="sale:1:earn", at=AT)
    account = customer_account(customer=customer, kind="points")
    issued = system_account(merchant=customer.merchant, code="points_issued")
    assert balance_of(account) == 12 and balance_of(issued) == -12
    lot = PointLot.objects.get(journal=journal)
    assert (lot.amount, lot.remaining, lot.earned_at, lot.expires_at) == (12, 12, AT, None)
    assert journal.kind == "earn" and journal.posted_at == AT
    assert points_balance(customer=customer) == 12
    assert_consistent(customer)


def test_earning_zero_points_posts_nothing(customer):
    assert points_earn(customer=customer, points=0, key="k", at=AT) is None
    assert not Journal.objects.exists()


@pytest.mark.parametrize(
    ("points", "message"),
    [(-1, ERR_POINTS_NEGATIVE), (Decimal("1.5"), ERR_POINTS_WHOLE), (True, ERR_POINTS_WHOLE)],
)
def test_earning_negative_or_fractional_points_is_refused(customer, points, message):
    with pytest.raises(InvalidInput, match=message):
        points_earn(customer=customer, points=points, key="k", at=AT)


def test_an_opening_balance_is_credited_from_points_opening(customer):
    points_earn(customer=customer, points=40, key="open", at=AT, kind="opening")
    assert balance_of(system_account(merchant=customer.merchant, code="points_opening")) == -40


def test_an_opening_balance_may_keep_its_own_expiry(customer):
    expiry = jkt(2025, 6, 30, 23, 59, 59)
    journal = points_earn(customer=customer, points=40, key="o", at=AT, expires_at=expiry)
    assert PointLot.objects.get(journal=journal).expires_at == expiry


def test_points_cannot_be_credited_as_a_redemption(customer):
    with pytest.raises(InvalidInput, match=ERR_EARN_KIND.split("{")[0]):
        points_earn(customer=customer, points=1, key="k", at=AT, kind="redeem")


def test_the_same_earning_cannot_be_posted_twice(customer):
    points_earn(customer=customer, points=5, key="sale:1:earn", at=AT)
    with pytest.raises(DuplicateJournal):
        points_earn(customer=customer, points=5, key="sale:1:earn", at=AT)
    assert PointLot.objects.count() == 1
    assert points_balance(customer=customer) == 5


def test_earning_needs_an_active_program(customer, program):
    Program.objects.filter(pk=program.pk).update(is_active=False)
    with pytest.raises(NotFound, match=ERR_NO_PROGRAM):
        points_earn(customer=customer, points=5, key="k", at=AT)


def test_a_time_without_a_time_zone_is_refused(customer):
    with pytest.raises(InvalidInput, match=ERR_NAIVE_TIME):
        points_earn(customer=customer, points=5, key="k", at=datetime(2025, 3, 10, 12))


# -- points_redeem ---------------------------------------------------------------------------


def _earn_lots(customer, program):
    """Lots: A expires 2026-03-10 (12 months), B never, C expires 2025-09-11 (6 months)."""
    program.expiry_policy, program.expiry_months = "months", 12
    program.save()
    a = points_earn(customer=customer, points=10, key="a", at=AT)
    program.expiry_policy = "never"
    program.save()
    b = points_earn(customer=customer, points=10, key="b", at=AT)
    program.expiry_policy, program.expiry_months = "months", 6
    program.save()
    c = points_earn(customer=customer, points=10, key="c", at=jkt(2025, 3, 11, 9))
    return [PointLot.objects.get(journal=j) for j in (a, b, c)]


def test_redeeming_takes_the_soonest_expiring_lots_first_and_never_expiring_last(customer, program):
    a, b, c = _earn_lots(customer, program)
    journal = points_redeem(customer=customer, points=25, key="r", at=jkt(2025, 4, 1))
    uses = list(LotUse.objects.filter(journal=journal).order_by("id").values_list("lot", "amount"))
    assert uses == [(c.pk, 10), (a.pk, 10), (b.pk, 5)]
    assert [lot.remaining for lot in PointLot.objects.order_by("id")] == [0, 5, 0]
    redeemed = system_account(merchant=customer.merchant, code="points_redeemed")
    assert balance_of(redeemed) == 25
    assert points_balance(customer=customer, at=jkt(2025, 4, 1)) == 5
    assert_consistent(customer)


def test_lots_expiring_at_the_same_time_are_taken_in_the_order_they_were_earned(customer):
    first = points_earn(customer=customer, points=10, key="x", at=AT)
    points_earn(customer=customer, points=10, key="y", at=AT)
    journal = points_redeem(customer=customer, points=4, key="r", at=AT)
    assert list(LotUse.objects.filter(journal=journal).values_list("lot__journal", "amount")) == [
        (first.pk, 4)
    ]


def test_redeeming_below_the_programs_minimum_is_refused(customer, program):
    program.min_points_to_redeem = 10
    program.save()
    points_earn(customer=customer, points=50, key="e", at=AT)
    with pytest.raises(InvalidInput, match=ERR_BELOW_MINIMUM.format(minimum=10)):
        points_redeem(customer=customer, points=9, key="r1", at=AT)
    points_redeem(customer=customer, points=10, key="r2", at=AT)
    assert points_balance(customer=customer) == 40


@pytest.mark.parametrize("points", [0, -5])
def test_redeeming_nothing_or_a_negative_number_is_refused(customer, points):
    with pytest.raises(InvalidInput, match=ERR_POINTS_NOT_POSITIVE):
        points_redeem(customer=customer, points=points, key="r", at=AT)


def test_redeeming_more_than_the_balance_is_refused_and_nothing_is_written(customer):
    points_earn(customer=customer, points=30, key="e", at=AT)
    with pytest.raises(
        InsufficientBalance, match=ERR_NOT_ENOUGH_POINTS.format(available=30, requested=31)
    ):
        points_redeem(customer=customer, points=31, key="r", at=AT)
    assert not Journal.objects.filter(key="r").exists()
    assert not LotUse.objects.exists()
    assert PointLot.objects.get().remaining == 30
    assert_consistent(customer)


def test_a_customer_without_points_cannot_redeem(customer):
    with pytest.raises(InsufficientBalance):
        points_redeem(customer=customer, points=1, key="r", at=AT)


def test_the_same_redemption_cannot_be_posted_twice(customer):
    points_earn(customer=customer, points=30, key="e", at=AT)
    points_redeem(customer=customer, points=10, key="r", at=AT)
    with pytest.raises(DuplicateJournal):
        points_redeem(customer=customer, points=10, key="r", at=AT)
    assert points_balance(customer=customer) == 20
    assert_consistent(customer)


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_takes_back_the_points_the_sale_earned(customer):
    earn = points_earn(customer=customer, points=20, key="sale:1:earn", at=AT)
    back = points_take_back(earn_journal=earn, points=8, key="refund:1:earn", at=AT)
    assert back.kind == "reversal" and back.reverses == earn
    assert PointLot.objects.get(journal=earn).remaining == 12
    assert balance_of(system_account(merchant=customer.merchant, code="points_issued")) == -12
    assert points_balance(customer=customer) == 12
    assert_consistent(customer)


def test_a_refund_takes_back_only_what_is_left_of_the_sales_points(customer):
    earn = points_earn(customer=customer, points=20, key="sale:1:earn", at=AT)
    points_earn(customer=customer, points=100, key="other", at=AT)
    points_redeem(customer=customer, points=15, key="r", at=AT)  # 15 of the sale's 20 spent
    back = points_take_back(earn_journal=earn, points=20, key="refund:1:earn", at=AT)
    assert Journal.objects.get(pk=back.pk).entries.get(account__kind="points").amount == -5
    assert points_balance(customer=customer) == 100
    assert points_take_back(earn_journal=earn, points=5, key="refund:2:earn", at=AT) is None
    assert_consistent(customer)


def test_partial_refunds_never_take_back_more_than_the_sale_earned(customer):
    earn = points_earn(customer=customer, points=10, key="sale:1:earn", at=AT)
    points_take_back(earn_journal=earn, points=6, key="refund:1", at=AT)
    points_take_back(earn_journal=earn, points=6, key="refund:2", at=AT)
    assert PointLot.objects.get(journal=earn).remaining == 0
    assert points_balance(customer=customer) == 0
    assert_consistent(customer)


def test_taking_back_an_opening_balance_returns_it_to_points_opening(customer):
    earn = points_earn(customer=customer, points=10, key="open", at=AT, kind="opening")
    points_take_back(earn_journal=earn, points=10, key="undo", at=AT)
    assert balance_of(system_account(merchant=customer.merchant, code="points_opening")) == 0


def test_a_refund_gives_back_redeemed_points_to_the_latest_expiring_lots_first(customer, program):
    a, b, c = _earn_lots(customer, program)
    redeem = points_redeem(customer=customer, points=25, key="r", at=jkt(2025, 4, 1))
    back = points_give_back(redeem_journal=redeem, points=12, key="g", at=jkt(2025, 4, 2))
    assert back.reverses == redeem
    uses = dict(LotUse.objects.filter(journal=back).values_list("lot", "amount"))
    assert uses == {b.pk: -5, a.pk: -7}  # never-expiring first, then the later of A and C
    assert points_balance(customer=customer, at=jkt(2025, 4, 2)) == 17
    assert balance_of(system_account(merchant=customer.merchant, code="points_redeemed")) == 13
    assert_consistent(customer)


def test_giving_back_never_returns_more_than_the_redemption_took(customer):
    points_earn(customer=customer, points=50, key="e", at=AT)
    redeem = points_redeem(customer=customer, points=20, key="r", at=AT)
    points_give_back(redeem_journal=redeem, points=15, key="g1", at=AT)
    second = points_give_back(redeem_journal=redeem, points=15, key="g2", at=AT)
    assert second.entries.get(account__kind="points").amount == 5
    assert points_give_back(redeem_journal=redeem, points=1, key="g3", at=AT) is None
    assert points_balance(customer=customer) == 50
    assert_consistent(customer)


def test_only_a_redemption_can_be_given_back(customer):
    earn = points_earn(customer=customer, points=5, key="e", at=AT)
    with pytest.raises(InvalidInput, match=ERR_NOT_A_REDEMPTION):
        points_give_back(redeem_journal=earn, points=5, key="g", at=AT)


def test_taking_or_giving_back_zero_points_does_nothing(customer):
    earn = points_earn(customer=customer, points=5, key="e", at=AT)
    redeem = points_redeem(customer=customer, points=5, key="r", at=AT)
    assert points_take_back(earn_journal=earn, points=0, key="t", at=AT) is None
    assert points_give_back(redeem_journal=redeem, points=0, key="g", at=AT) is None
    assert Journal.objects.count() == 2


# -- concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_racing_redemptions_of_more_than_half_the_balance_let_exactly_one_through(
    ledger_cleanup,
):
    program = ProgramFactory(expiry_policy="months", expiry_months=12)
    customer = CustomerFactory(merchant=program.merchant)
    points_earn(customer=customer, points=30, key="e1", at=AT)
    points_earn(customer=customer, points=70, key="e2", at=jkt(2025, 5, 1))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def redeem(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            points_redeem(customer=customer, points=51, key=f"r{i}", at=jkt(2025, 6, 1))
            outcomes.append("ok")
        except InsufficientBalance:
            outcomes.append("refused")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["ok"] + ["refused"] * 49
    assert points_balance(customer=customer, at=jkt(2025, 6, 1)) == 49
    assert [
        int(r) for r in PointLot.objects.order_by("id").values_list("remaining", flat=True)
    ] == [
        0,
        49,
    ]
    assert LotUse.objects.count() == 2
    assert Journal.objects.filter(kind="redeem").count() == 1
    assert_consistent(customer)
