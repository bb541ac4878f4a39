"""The end-of-day summary: every number against values computed by hand from the fixture."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from langganan.counter.day import day_summary
from langganan.loyalty.checkout import (
    BasketLine,
    CheckoutRequest,
    RefundRequest,
    checkout,
    refund,
)
from langganan.loyalty.points import points_earn
from langganan.loyalty.tab import tab_set_limit
from langganan.loyalty.tab_payments import tab_payment_record
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    UserFactory,
)
from tests.loyalty.factories import MemberFactory, ProgramFactory, VoucherFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 20)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JAKARTA)


def sale(merchant, outlet, key, amount, *, by=None, customer=None, **extra):
    return checkout(
        merchant=merchant,
        outlet=outlet,
        idempotency_key=key,
        recorded_by=by,
        request=CheckoutRequest(
            lines=[BasketLine(quantity=Decimal("1"), unit_price=Decimal(amount), name="Nasi")],
            customer_id=customer.pk if customer else None,
            **extra,
        ),
    )


@pytest.fixture
def day(merchant):
    """Outlet Pusat: Ani sells to Rina (cash, 20 points redeemed) and to a walk-in (QRIS),
    Budi puts Rina's meal on her tab and takes a tab payment (QRIS), the POS refunds part of
    the QRIS sale; outlet Cabang: the POS sells with a voucher. One new member that day.
    Sales the evening before and just after midnight, and another merchant's, do not count."""
    pusat = OutletFactory(merchant=merchant, name="Pusat")
    cabang = OutletFactory(merchant=merchant, name="Cabang")
    ani = UserFactory(username="ani", first_name="Ani")
    budi = UserFactory(username="budi", first_name="Budi")
    ProgramFactory(merchant=merchant, max_redeem_share=Decimal("1"))
    rina = CustomerFactory(merchant=merchant, full_name="Rina")
    MemberFactory(customer=rina, enrolled_at=at(9, day=DAY - timedelta(days=10)))
    points_earn(customer=rina, points=100, key="start", at=at(9, day=DAY - timedelta(days=5)))
    tab_set_limit(customer=rina, limit=Decimal("200000"), at=at(9), actor="test")
    VoucherFactory(merchant=merchant, code="HEMAT", kind="shared", max_uses=None)

    sale(merchant, pusat, "before", "99000", by=ani, occurred_at=at(23, 30, DAY - timedelta(1)))
    sale(merchant, pusat, "s1", "50000", by=ani, customer=rina, points_to_redeem=20,
         occurred_at=at(8))  # fmt: skip
    qris = sale(merchant, pusat, "s2", "30000", by=ani, payment_method="qris", occurred_at=at(9))
    sale(merchant, pusat, "s3", "40000", by=budi, customer=rina, tab_charge=Decimal("40000"),
         occurred_at=at(10))  # fmt: skip
    sale(merchant, cabang, "s4", "25000", voucher_codes=["HEMAT"], occurred_at=at(11))
    tab_payment_record(
        merchant=merchant,
        customer_id=rina.pk,
        amount=Decimal("15000"),
        method="qris",
        idempotency_key="pay",
        outlet=pusat,
        recorded_by=budi,
        at=at(12),
    )
    MemberFactory(customer=CustomerFactory(merchant=merchant, acquisition_source="counter"),
                  enrolled_at=at(13))  # fmt: skip
    refund(
        merchant=merchant,
        outlet=pusat,
        idempotency_key="r1",
        request=RefundRequest(
            sale_id=qris["transaction"]["id"], amount=Decimal("10000"), occurred_at=at(14)
        ),
    )
    sale(merchant, pusat, "after", "77000", by=ani, occurred_at=at(0, 10, DAY + timedelta(1)))
    other = OutletFactory(merchant=MerchantFactory())
    sale(other.merchant, other, "elsewhere", "55000", occurred_at=at(12))
    return {"pusat": pusat, "cabang": cabang, "ani": ani, "budi": budi}


def test_the_merchants_day_adds_up(merchant, day):
    summary = day_summary(merchant=merchant, day=DAY)
    total = summary.total

    assert (total.sales_count, total.sales_total) == (4, Decimal("138000"))  # 48+30+40+20
    assert (total.refunds_count, total.refunds_total) == (1, Decimal("-10000"))
    assert dict(total.methods) == {
        "cash": Decimal("68000"),  # 48,000 + 20,000 (the tab sale brought no cash)
        "qris": Decimal("35000"),  # 30,000 − 10,000 refunded + 15,000 tab payment
    }
    assert total.received_total == Decimal("103000")
    assert (total.points_issued, total.points_redeemed) == (8, 20)  # 4 on 48,000, 4 on 40,000
    assert (total.vouchers_used, total.voucher_discount) == (1, Decimal("5000"))
    assert (total.tab_charged, total.tab_paid) == (Decimal("40000"), Decimal("15000"))
    assert summary.new_members == 1
    assert summary.new_members_by_source == [("counter", 1)]


def test_each_outlet_and_cashier_has_their_own_numbers(merchant, day):
    summary = day_summary(merchant=merchant, day=DAY)

    assert [row.outlet.name for row in summary.outlets] == ["Cabang", "Pusat"]
    cabang, pusat = summary.outlets
    assert [(c.name, c.figures.sales_count) for c in cabang.cashiers] == [("", 1)]
    assert cabang.figures.vouchers_used == 1
    assert cabang.figures.sales_total == Decimal("20000")
    ani, budi, pos = pusat.cashiers
    assert (ani.name, ani.figures.sales_count, ani.figures.sales_total) == (
        "Ani",
        2,
        Decimal("78000"),
    )
    assert dict(ani.figures.methods) == {"cash": Decimal("48000"), "qris": Decimal("30000")}
    assert (ani.figures.points_issued, ani.figures.points_redeemed) == (4, 20)
    assert (budi.name, budi.figures.sales_count) == ("Budi", 1)
    assert (budi.figures.tab_charged, budi.figures.tab_paid) == (
        Decimal("40000"),
        Decimal("15000"),
    )
    assert dict(budi.figures.methods) == {"qris": Decimal("15000")}
    assert (pos.user_id, pos.figures.refunds_count) == (None, 1)
    assert pusat.figures.sales_total == Decimal("118000")


def test_a_quiet_day_is_empty(merchant, day):
    summary = day_summary(merchant=merchant, day=DAY - timedelta(days=3))

    assert summary.outlets == [] and summary.total.sales_count == 0
    assert summary.new_members == 0


def test_the_page_shows_the_day_in_indonesian(merchant, day):
    client = Client()
    owner = MembershipFactory(merchant=merchant, role="owner").user
    client.force_login(owner)
    url = reverse("counter:day_summary", kwargs={"slug": merchant.slug})

    html = client.get(url, {"day": DAY.isoformat()}).content.decode()

    assert "Ringkasan kasir" in html
    assert "Jumat, 20 November 2026" in html
    assert "Rp 138.000" in html and "Rp 103.000" in html
    assert "Tunai" in html and "QRIS" in html
    assert "Ani" in html and "Budi" in html and "POS / impor" in html


def test_a_manager_opens_any_day(merchant, day):
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role="manager").user)
    url = reverse("counter:day_summary", kwargs={"slug": merchant.slug})

    response = client.get(url, {"day": DAY.isoformat()})

    assert response.status_code == 200
    assert "Rp 138.000" in response.content.decode()


def test_a_cashier_sees_today_at_their_own_outlet_only(merchant):
    from django.utils import timezone

    mine, theirs = OutletFactory(merchant=merchant), OutletFactory(merchant=merchant)
    now = timezone.now()
    sale(merchant, mine, "here", "12000", occurred_at=now)
    sale(merchant, theirs, "there", "99000", occurred_at=now)
    sale(merchant, mine, "yesterday", "55000", occurred_at=now - timedelta(days=1))
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role="cashier", outlet=mine).user)
    url = reverse("counter:day_summary", kwargs={"slug": merchant.slug})

    response = client.get(url, {"day": (now - timedelta(days=1)).date().isoformat()})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rp 12.000" in html
    assert "Rp 99.000" not in html and "Rp 55.000" not in html
    assert f"Hari ini di {mine.name}" in html
    assert 'name="day"' not in html  # no other day to choose
    summary = day_summary(merchant=merchant, day=now.astimezone(JAKARTA).date(), outlet=mine)
    assert [row.outlet for row in summary.outlets] == [mine]
