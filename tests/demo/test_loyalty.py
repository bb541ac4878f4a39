"""The demo café's loyalty program: settings, tiers with members, vouchers, a consistent ledger."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.demo.generator import demo_merchant_build, demo_merchant_delete
from langganan.demo.loyalty import MEMBER_SHARE
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.models import (
    Account,
    Journal,
    JournalKind,
    Member,
    PointLot,
    Program,
    Voucher,
    VoucherKind,
)
from langganan.loyalty.vouchers import vouchers_active_for

END = date(2025, 6, 30)
N = 250
SEED = 5

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_merchant_build(slug="demo", n_customers=N, seed=SEED, end=END).merchant


def test_the_demo_has_the_program_with_its_rules_and_rewards(demo):
    program = Program.objects.get(merchant=demo)
    assert (program.earn_step, program.earn_points, program.point_value) == (
        Decimal("10000"),
        1,
        Decimal("100"),
    )
    assert program.max_redeem_share == Decimal("0.5")
    assert program.expiry_months == 12 and program.signup_bonus > 0 and program.birthday_bonus > 0
    assert program.earn_rules.count() >= 1 and program.cashback_rules.count() == 1
    assert program.rewards.count() == 2
    assert program.welcome_voucher is not None and program.welcome_voucher.is_template
    assert program.tiers.get(name="Platinum").cashback_rate > 0


def test_about_sixty_percent_are_members_and_every_tier_has_members(demo):
    members = Member.objects.filter(merchant=demo)
    assert members.count() == round(MEMBER_SHARE * N)
    per_tier = dict(members.values_list("tier__name").annotate(n=Count("id")))
    assert set(per_tier) == {"Silver", "Gold", "Platinum"}
    assert all(n > 0 for n in per_tier.values())
    assert not members.filter(tier_since__isnull=True).exists()


def test_the_ledger_is_consistent_and_lots_match_the_balances(demo):
    assert ledger_discrepancies(demo) == []
    lots = dict(
        PointLot.objects.filter(account__merchant=demo)
        .values_list("account")
        .annotate(left=Sum("remaining"))
    )
    for pk, balance in Account.objects.filter(merchant=demo, kind="points").values_list(
        "pk", "balance"
    ):
        assert Decimal(lots.get(pk) or 0) == balance
    kinds = set(Journal.objects.filter(merchant=demo).values_list("kind", flat=True))
    assert {
        JournalKind.BONUS,
        JournalKind.EARN,
        JournalKind.REDEEM,
        JournalKind.EXPIRE,
        JournalKind.CASHBACK,
        JournalKind.TAB_CHARGE,
    } <= kinds
    assert not Account.objects.filter(merchant=demo, kind="points", balance__lt=0).exists()


def test_the_demo_has_a_promo_code_welcome_and_personal_vouchers(demo):
    promo = Voucher.objects.get(merchant=demo, code="HEMAT10")
    assert promo.kind == VoucherKind.SHARED and promo.value == Decimal("10")
    assert promo.max_uses and promo.min_spend > 0
    personal = Voucher.objects.filter(merchant=demo, customer__isnull=False)
    assert personal.filter(batch="welcome").count() == Member.objects.filter(merchant=demo).count()
    now = demo_now()
    holders = Customer.objects.filter(vouchers__batch="terima-kasih").distinct()
    assert holders.exists()
    assert all(vouchers_active_for(customer=c, at=now) for c in holders)


def test_a_few_regulars_run_a_tab(demo):
    tabs = Account.objects.filter(merchant=demo, kind="tab")
    assert tabs.exists()
    assert all(t.floor < 0 for t in tabs)
    assert tabs.filter(balance__lt=0).exists()


def test_the_same_seed_gives_the_same_ledger_and_replace_deletes_the_old_one(demo):
    def snapshot():
        # a complaint's recovery names the complaint's id (a new one on each build): compared
        # by tests/demo/test_care.py
        return sorted(
            Journal.objects.filter(merchant__slug="demo")
            .exclude(memo__startswith="Keluhan #")
            .annotate(total=Sum("entries__amount"))
            .values_list("kind", "posted_at", "memo", "total")
        ), sorted(
            Voucher.objects.filter(merchant__slug="demo")
            .exclude(batch__startswith="complaint-")
            .values_list("code", "batch")
        )

    before = snapshot()
    again = demo_merchant_build(slug="demo", n_customers=N, seed=SEED, end=END, replace=True)
    assert again.merchant.pk != demo.pk
    assert snapshot() == before
    assert not Journal.objects.filter(merchant_id=demo.pk).exists()
    assert ledger_discrepancies(again.merchant) == []
    demo_merchant_delete(merchant=again.merchant)
    assert not Merchant.objects.filter(slug="demo").exists()
    assert not Journal.objects.exists()


def demo_now():
    from datetime import datetime, time

    from langganan.demo.simulation import JAKARTA

    return datetime.combine(END, time(), JAKARTA)
