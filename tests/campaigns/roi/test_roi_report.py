"""The campaign report from the database: windows, groups, cost and ROI."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.campaigns.roi import campaign_report
from langganan.loyalty.models import VoucherRedemption
from langganan.sales.models import Transaction
from tests.campaigns.roi.factories import (
    CampaignFactory,
    ChannelAccountFactory,
    MessageFactory,
    RecipientFactory,
)
from tests.factories import CustomerFactory, OutletFactory, TransactionFactory
from tests.loyalty.factories import ProgramFactory, VoucherFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=JAKARTA)
DAY = timedelta(days=1)


def sale(customer, at, total, **kwargs):
    return TransactionFactory(
        merchant=customer.merchant,
        outlet=OutletFactory(merchant=customer.merchant),
        customer=customer,
        occurred_at=at,
        total=Decimal(total),
        **kwargs,
    )


def refund(of, at, total):
    return Transaction.objects.create(
        merchant=of.merchant,
        outlet=of.outlet,
        customer=of.customer,
        kind="refund",
        refund_of=of,
        occurred_at=at,
        total=Decimal(total),
        payment_method="cash",
    )


def redeem(voucher, transaction, discount, reversed_at=None):
    return VoucherRedemption.objects.create(
        voucher=voucher,
        customer=transaction.customer,
        transaction=transaction,
        discount=Decimal(discount),
        reversed_at=reversed_at,
    )


@pytest.fixture
def built(merchant):
    """The constructed case (treated 0, 50.000, 100.000, 0; holdout 0, 25.000) in the database.

    Cost: 3 messages out of 4 went out at Rp 350 (Rp 1.050), one voucher redeemed for Rp 5.000
    (another redemption reversed), 40 bonus points at Rp 100 (Rp 4.000): Rp 10.050 in all.
    """
    ProgramFactory(merchant=merchant, point_value=Decimal("100"))
    ChannelAccountFactory(merchant=merchant, channel="whatsapp", price_per_message="350")
    ChannelAccountFactory(merchant=merchant, channel="sms", price_per_message="999")
    campaign = CampaignFactory(merchant=merchant, attribution_days=14)
    treated = [
        RecipientFactory(campaign=campaign, assigned_at=T0 + i * DAY, bonus_points=10)
        for i in range(4)
    ]
    holdout = [RecipientFactory(campaign=campaign, group="holdout", assigned_at=T0) for _ in "ab"]
    t1, t2, t3, t4 = treated
    # t1: a sale at the very moment of assignment is before the window
    sale(t1.customer, t1.assigned_at, 30000)
    # t2: 50.000 in the window, paid partly with the campaign's voucher
    voucher_2 = VoucherFactory(merchant=merchant, customer=t2.customer)
    t2.voucher = voucher_2
    t2.save()
    redeem(voucher_2, sale(t2.customer, t2.assigned_at + 3 * DAY, 50000), 5000)
    # t3: 120.000 then a refund of 20.000, both in the window; a voucher use that was reversed
    voucher_3 = VoucherFactory(merchant=merchant, customer=t3.customer)
    t3.voucher = voucher_3
    t3.save()
    bought = sale(t3.customer, t3.assigned_at + 5 * DAY, 120000)
    refund(bought, t3.assigned_at + 6 * DAY, -20000)
    redeem(voucher_3, bought, 5000, reversed_at=t3.assigned_at + 6 * DAY)
    # t4: a second after the window closes, with a voucher that is not the campaign's
    late = sale(t4.customer, t4.assigned_at + 14 * DAY + timedelta(seconds=1), 70000)
    redeem(VoucherFactory(merchant=merchant, customer=t4.customer), late, 9000)
    # holdout b: 25.000 at the very end of the window (included)
    sale(holdout[1].customer, T0 + 14 * DAY, 25000)
    # someone who is not a recipient buys too
    sale(CustomerFactory(merchant=merchant), T0 + DAY, 1000000)
    # messages: sent, delivered, read, failed
    for recipient, status in zip(treated, ["sent", "delivered", "read", "failed"], strict=True):
        MessageFactory(recipient=recipient, status=status)
    return campaign


def test_report_compares_treated_and_holdout_over_each_window(built):
    report = campaign_report(campaign=built, now=T0 + 30 * DAY)

    assert report.treated.n == 4
    assert report.treated.conversions == 2
    assert report.treated.conversion_rate == 0.5
    assert report.treated.revenue_per_customer == Decimal("37500")
    assert report.holdout.n == 2
    assert report.holdout.conversion_rate == 0.5
    assert report.holdout.revenue_per_customer == Decimal("12500")
    assert report.incremental_revenue == Decimal("100000")
    assert report.lift.incremental_interval.low == Decimal("-200697")
    assert report.lift.incremental_interval.high == Decimal("400697")


def test_report_cost_counts_messages_sent_discounts_and_points(built):
    cost = campaign_report(campaign=built, now=T0 + 30 * DAY).cost

    assert cost.messages_sent == 3
    assert cost.messages == Decimal("1050")
    assert cost.vouchers_redeemed == 1
    assert cost.discounts == Decimal("5000")
    assert cost.points_given == 40
    assert cost.points == Decimal("4000")
    assert cost.total == Decimal("10050")


def test_report_roi_and_its_interval(built):
    report = campaign_report(campaign=built, now=T0 + 30 * DAY)

    assert report.roi == Decimal("8.9502")  # (100.000 − 10.050) / 10.050
    assert report.net_gain == Decimal("89950")
    assert report.roi_interval.low == Decimal(
        "-20.9699"
    )  # (−200.697 − 10.050) / 10.050 ≈ −20,96985
    assert report.roi_interval.high == Decimal("38.8703")  # (400.697 − 10.050) / 10.050


def test_report_is_provisional_until_the_last_window_closes(built):
    last_close = T0 + 3 * DAY + 14 * DAY

    assert campaign_report(campaign=built, now=last_close - timedelta(seconds=1)).provisional
    final = campaign_report(campaign=built, now=last_close)
    assert not final.provisional
    assert final.window_closes_at == last_close


def test_manual_whatsapp_messages_cost_nothing(merchant):
    ChannelAccountFactory(merchant=merchant, channel="whatsapp", price_per_message="350")
    campaign = CampaignFactory(merchant=merchant, manual_whatsapp=True)
    MessageFactory(recipient=RecipientFactory(campaign=campaign), manual=True)

    cost = campaign_report(campaign=campaign, now=T0).cost

    assert cost.messages_sent == 1
    assert cost.messages == Decimal("0")


def test_a_campaign_without_cost_has_no_roi(merchant):
    campaign = CampaignFactory(merchant=merchant, channel="email")
    RecipientFactory(campaign=campaign, assigned_at=T0)
    RecipientFactory(campaign=campaign, assigned_at=T0, group="holdout")
    MessageFactory(recipient=RecipientFactory(campaign=campaign, assigned_at=T0))

    report = campaign_report(campaign=campaign, now=T0 + 30 * DAY)

    assert report.cost.messages_sent == 1
    assert report.cost.total == Decimal("0")
    assert report.roi is None
    assert report.incremental_revenue == Decimal("0")


def test_a_campaign_without_recipients_is_provisional_and_empty(merchant):
    report = campaign_report(campaign=CampaignFactory(merchant=merchant), now=T0)

    assert report.provisional
    assert report.window_closes_at is None
    assert report.treated.n == 0
    assert report.incremental_revenue is None
    assert report.roi is None


def test_report_runs_in_a_fixed_number_of_queries(built, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        campaign_report(campaign=built, now=T0 + 30 * DAY)
