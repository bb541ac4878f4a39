"""The loyalty card of the customer page: membership, tier, points, expiry, credit, tab,
vouchers and the latest ledger movements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from langganan.loyalty.credit import credit_grant
from langganan.loyalty.members import member_enrol
from langganan.loyalty.models import DiscountType, VoucherKind
from langganan.loyalty.points import points_earn, points_redeem
from langganan.loyalty.selectors import MOVEMENTS_SHOWN, customer_loyalty_get
from langganan.loyalty.tab import tab_charge, tab_set_limit
from langganan.loyalty.vouchers import voucher_create
from tests.factories import (
    CustomerFactory,
    MerchantFactory,
    ProductFactory,
    TransactionFactory,
)
from tests.loyalty.factories import ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db


def detail_url(merchant, customer) -> str:
    return reverse("customers:customer_detail", kwargs={"slug": merchant.slug, "pk": customer.pk})


@pytest.fixture
def program(merchant):
    program = ProgramFactory(merchant=merchant, signup_bonus=20, expiry_months=12)
    TierFactory(program=program, name="Silver", rank=1, min_spend=Decimal("0"))
    TierFactory(program=program, name="Gold", rank=2, min_spend=Decimal("1000000"))
    return program


@pytest.fixture
def budi(merchant):
    return CustomerFactory(merchant=merchant, full_name="Budi Santoso", member_code="LG0042")


def _member_with_history(merchant, customer):
    now = timezone.now()
    enrolled = now - timedelta(days=400)
    member_enrol(customer=customer, at=enrolled)  # 20 points, expired 35 days ago
    points_earn(customer=customer, points=150, key="t:earn:1", at=now - timedelta(days=300))
    points_earn(customer=customer, points=40, key="t:earn:2", at=now - timedelta(days=30))
    points_redeem(customer=customer, points=100, key="t:redeem", at=now - timedelta(days=20))
    credit_grant(customer=customer, amount=Decimal("7500"), key="t:cb", at=now - timedelta(days=5))
    tab_set_limit(customer=customer, limit=Decimal("300000"), at=now - timedelta(days=3))
    sale = TransactionFactory(merchant=merchant, customer=customer)
    tab_charge(
        customer=customer,
        amount=Decimal("45500"),
        key="t:tab",
        at=now - timedelta(days=2),
        transaction_obj=sale,
    )
    free = ProductFactory(merchant=merchant, name="Croissant")
    voucher_create(
        merchant=merchant,
        code="BDAY-BUDI",
        kind=VoucherKind.SINGLE_USE,
        discount_type=DiscountType.FREE_ITEM,
        free_product=free,
        customer=customer,
        valid_until=now + timedelta(days=10),
    )
    voucher_create(
        merchant=merchant,
        code="OLD-BUDI",
        kind=VoucherKind.SINGLE_USE,
        customer=customer,
        value=Decimal("5000"),
        valid_from=now - timedelta(days=60),
        valid_until=now - timedelta(days=30),
    )


def test_a_member_sees_tier_points_expiry_credit_tab_vouchers_and_movements(
    client, merchant, member, program, budi
):
    _member_with_history(merchant, budi)

    response = client.get(detail_url(merchant, budi))

    assert response.status_code == 200
    loyalty = response.context["loyalty"]
    assert loyalty.is_member and loyalty.member.tier.name == "Silver"
    # 20 + 150 + 40 earned, 100 redeemed (oldest first: the 20 had expired, so 100 of the 150)
    assert loyalty.points == 90
    assert loyalty.next_expiry_points == 50
    assert [v.code for v in loyalty.vouchers] == ["BDAY-BUDI"]
    assert loyalty.store_credit == Decimal("7500")
    assert (loyalty.tab_owed, loyalty.tab_limit) == (Decimal("45500"), Decimal("300000"))
    html = response.content.decode()
    for text in [
        "Loyalitas",
        "Kartu member",
        reverse("customers:member_card", kwargs={"slug": merchant.slug, "pk": budi.pk}),
        "Member sejak",
        "Silver",
        "90 poin",
        "senilai Rp 9.000",
        "50 poin pada",
        "Rp 7.500",
        "utang Rp 45.500 dari batas Rp 300.000",
        "BDAY-BUDI",
        "Gratis Croissant",
        "Dicatat sebagai kasbon",
        "−Rp 45.500",
        "+150 poin",
        "−100 poin",
    ]:
        assert text in html, text
    assert "OLD-BUDI" not in html
    assert "Bukan member" not in html


def test_a_customer_who_is_not_a_member_is_shown_as_such(client, merchant, member, program):
    walk_in = CustomerFactory(merchant=merchant)

    html = client.get(detail_url(merchant, walk_in)).content.decode()

    assert "Bukan member" in html
    assert "Kartu member" not in html
    assert "Belum ada mutasi" in html


def test_without_a_program_the_card_says_so(client, merchant, member, budi):
    html = client.get(detail_url(merchant, budi)).content.decode()

    assert "Usaha ini belum punya program loyalitas." in html


def test_in_english(client, merchant, member, program, budi):
    _member_with_history(merchant, budi)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    html = client.get(detail_url(merchant, budi)).content.decode()

    assert "90 points" in html
    assert "Rp 45.500 owed of a Rp 300.000 limit" in html
    assert "Free Croissant" in html


def test_only_the_last_movements_are_listed_newest_first(merchant, program, budi):
    member_enrol(customer=budi, at=datetime(2026, 1, 1, tzinfo=UTC))
    for day in range(15):
        points_earn(
            customer=budi, points=day + 1, key=f"e{day}", at=datetime(2026, 1, 2 + day, tzinfo=UTC)
        )

    loyalty = customer_loyalty_get(
        merchant=merchant, customer=budi, at=datetime(2026, 2, 1, tzinfo=UTC)
    )

    assert len(loyalty.movements) == MOVEMENTS_SHOWN
    assert [m.amount for m in loyalty.movements[:2]] == [Decimal(15), Decimal(14)]


def test_another_merchants_customer_gets_nothing(merchant, program, budi):
    _member_with_history(merchant, budi)

    loyalty = customer_loyalty_get(merchant=MerchantFactory(), customer=budi, at=timezone.now())

    assert loyalty.member is None and loyalty.points == 0 and loyalty.movements == []


def test_the_member_page_query_count_is_bounded(
    client, merchant, member, program, budi, django_assert_max_num_queries
):
    _member_with_history(merchant, budi)
    for day in range(30):
        points_earn(customer=budi, points=3, key=f"more{day}", at=timezone.now() - timedelta(day))

    # the page's 14 + at most 7 for the loyalty card + 1 audit event (privacy.audit) + 3 for
    # complaints and feedback (her complaints, her answers, the menu's badge)
    with django_assert_max_num_queries(25):
        response = client.get(detail_url(merchant, budi))

    assert response.status_code == 200
