"""Is the CRM worth it? The stored answer, checked against sums worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import mean, stdev
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from django.urls import reverse
from django.utils import timezone
from scipy import stats

from langganan.cli import cli
from langganan.core.jobs.services import job_run
from langganan.core.models import Role
from langganan.core.money import format_rupiah
from langganan.demo.generator import demo_merchant_build
from langganan.insights import worth
from langganan.insights.models import (
    AcquisitionSpend,
    CustomerInsight,
    InsightRun,
    TargetMarket,
    WorthResult,
)
from langganan.loyalty.credit import credit_grant
from langganan.loyalty.models import VoucherRedemption
from langganan.loyalty.points import points_earn, points_give_back, points_redeem
from tests.campaigns.roi.factories import (
    CampaignFactory,
    ChannelAccountFactory,
    MessageFactory,
    RecipientFactory,
)
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OutletFactory,
    TransactionFactory,
)
from tests.loyalty.factories import MemberFactory, ProgramFactory, VoucherFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
END = datetime(2026, 11, 1, 12, 0, tzinfo=JAKARTA)


def rupiah(value) -> Decimal:
    """Whole Rupiah, half up, as the page stores them."""
    return Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=JAKARTA)


# -- the nightly analysis leaves the answer stored ------------------------------------------


@pytest.fixture
def cafe(db):
    return demo_merchant_build(
        slug="kafe", n_customers=150, seed=11, end=date(2026, 11, 1)
    ).merchant


def test_the_nightly_analysis_stores_the_worth_of_every_period(cafe):
    assert not WorthResult.objects.filter(merchant=cafe).exists()
    run = job_run(job="insights.nightly", merchant=cafe, now=END, force=True)
    assert run.outcome == "ok", run.error
    stored = {r.period_days: r for r in WorthResult.objects.filter(merchant=cafe)}
    assert sorted(stored) == sorted(worth.PERIODS)
    for days, result in stored.items():
        assert result.period_end == END
        assert (result.period_end - result.period_start).days == days
        start = result.period_start
        cost = worth.program_cost(merchant=cafe, start=start, end=END)
        assert result.data["cost"] == cost
    # the demo café has members, so the comparison has members in it, computed for the end
    members = worth.members_matched(merchant=cafe, end=END)
    assert stored[90].data["members"] == members and members["members"] > 0
    assert InsightRun.objects.get(merchant=cafe).status == InsightRun.Status.DONE


def test_langganan_analyze_stores_it_too(cafe):
    result = CliRunner().invoke(cli, ["analyze", "--merchant", "kafe"])
    assert result.exit_code == 0, result.output
    assert set(
        WorthResult.objects.filter(merchant=cafe).values_list("period_days", flat=True)
    ) == set(worth.PERIODS)


# -- what the program cost -------------------------------------------------------------------


@pytest.fixture
def shop(db):
    outlet = OutletFactory()
    program = ProgramFactory(merchant=outlet.merchant, point_value=Decimal("10"))
    return outlet.merchant, outlet, program


def sale(merchant, outlet, customer, when: datetime, total: str | int):
    return TransactionFactory(
        merchant=merchant, outlet=outlet, customer=customer, occurred_at=when, total=Decimal(total)
    )


def test_program_cost_adds_points_cashback_vouchers_and_messages_at_their_prices(shop):
    merchant, outlet, _program = shop
    inside, before = END - timedelta(days=5), END - timedelta(days=120)
    member = CustomerFactory(merchant=merchant)
    MemberFactory(customer=member)
    points_earn(customer=member, points=1000, key="earn", at=END - timedelta(days=200))
    points_redeem(customer=member, points=50, key="old", at=before)  # before the period
    redeemed = points_redeem(customer=member, points=300, key="r1", at=inside)
    points_give_back(redeem_journal=redeemed, points=100, key="back", at=inside)  # a refund
    points_redeem(customer=member, points=40, key="r2", at=END - timedelta(days=1))
    credit_grant(customer=member, amount=Decimal("3000"), key="cb1", at=inside)
    credit_grant(customer=member, amount=Decimal("1500"), key="cb2", at=END - timedelta(days=2))
    credit_grant(customer=member, amount=Decimal("9999"), key="cb-old", at=before)
    voucher = VoucherFactory(merchant=merchant, kind="shared", max_uses=None)
    for discount, when, reversed_at in (
        ("5000", inside, None),
        ("2500", inside, None),
        ("7000", inside, inside + timedelta(hours=1)),  # refunded: the use was given back
        ("8000", before, None),
    ):
        VoucherRedemption.objects.create(
            voucher=voucher,
            customer=member,
            transaction=sale(merchant, outlet, member, when, 20000),
            discount=Decimal(discount),
            redeemed_at=when,
            reversed_at=reversed_at,
        )
    # prices: WhatsApp from the channel account, SMS typed on the settings page, e-mail default
    ChannelAccountFactory(merchant=merchant, channel="whatsapp", price_per_message=Decimal("500"))
    ChannelAccountFactory(merchant=merchant, channel="sms", price_per_message=Decimal("999"))
    TargetMarket.objects.create(merchant=merchant, price_sms=Decimal("300"))
    campaign = CampaignFactory(merchant=merchant)
    for channel, status, manual, when in (
        ("whatsapp", "sent", False, inside),
        ("whatsapp", "delivered", False, inside),
        ("whatsapp", "read", False, inside),
        ("whatsapp", "failed", False, inside),  # never sent: no cost
        ("whatsapp", "sent", True, inside),  # from the staff's own phone: free
        ("whatsapp", "sent", False, before),
        ("sms", "sent", False, inside),
        ("sms", "delivered", False, inside),
        ("email", "delivered", False, inside),
    ):
        MessageFactory(
            recipient__campaign=campaign,
            channel=channel,
            status=status,
            manual=manual,
            sent_at=when,
        )
    other = CustomerFactory()  # another merchant's costs are not ours
    ProgramFactory(merchant=other.merchant)
    credit_grant(customer=other, amount=Decimal("77000"), key="other", at=inside)

    points = 300 - 100 + 40
    expected = {
        "points": points * 10,
        "cashback": 3000 + 1500,
        "vouchers": 5000 + 2500,
        "messages": 3 * 500 + 2 * 300 + 1 * 10,
    }
    result = worth.worth_compute(merchant, 90, now=END)
    cost = result.data["cost"]
    assert cost["points"] == points and Decimal(cost["point_value"]) == Decimal("10")
    assert Decimal(cost["points_cost"]) == expected["points"]
    assert Decimal(cost["cashback"]) == expected["cashback"]
    assert cost["vouchers_used"] == 2 and Decimal(cost["vouchers"]) == expected["vouchers"]
    assert {c: (row["messages"], row["source"]) for c, row in cost["messages"].items()} == {
        "whatsapp": (3, "account"),
        "sms": (2, "setting"),
        "email": (1, "default"),
    }
    assert Decimal(cost["messages_cost"]) == expected["messages"]
    assert Decimal(cost["total"]) == sum(expected.values())
    # the year includes what happened 120 days ago
    year = worth.worth_compute(merchant, 365, now=END).data["cost"]
    assert year["points"] == points + 50
    assert Decimal(year["cashback"]) == expected["cashback"] + 9999


# -- what the campaigns brought --------------------------------------------------------------


def test_a_campaigns_incremental_revenue_is_measured_against_its_holdout(shop):
    merchant, outlet, _program = shop
    assigned = END - timedelta(days=20)
    campaign = CampaignFactory(merchant=merchant, name="Kangen", attribution_days=14)
    treated = {"100000": 1, "50000": 1, "0": 1, "30000": 1}  # window revenue per customer
    holdout = ["20000", "0"]
    spent_t, spent_h = [], []
    for amount in treated:
        recipient = RecipientFactory(campaign=campaign, group="treated", assigned_at=assigned)
        if Decimal(amount):
            sale(merchant, outlet, recipient.customer, assigned + timedelta(days=3), amount)
        # before the message, and after the window: not the campaign's
        sale(merchant, outlet, recipient.customer, assigned - timedelta(days=1), 999000)
        sale(merchant, outlet, recipient.customer, assigned + timedelta(days=15), 888000)
        spent_t.append(Decimal(amount))
    for amount in holdout:
        recipient = RecipientFactory(campaign=campaign, group="holdout", assigned_at=assigned)
        if Decimal(amount):
            sale(merchant, outlet, recipient.customer, assigned + timedelta(days=2), amount)
        spent_h.append(Decimal(amount))
    # a campaign without a holdout has no measured effect; an old one is outside the period
    lonely = CampaignFactory(merchant=merchant, name="Tanpa holdout")
    RecipientFactory(campaign=lonely, group="treated", assigned_at=assigned)
    old = CampaignFactory(merchant=merchant, name="Lama")
    RecipientFactory(campaign=old, group="treated", assigned_at=END - timedelta(days=200))
    RecipientFactory(campaign=old, group="holdout", assigned_at=END - timedelta(days=200))

    n_t = len(spent_t)
    incremental = (sum(spent_t) / n_t - sum(spent_h) / len(spent_h)) * n_t
    assert incremental == Decimal("140000")  # (180.000 / 4 − 20.000 / 2) × 4

    data = worth.worth_compute(merchant, 90, now=END).data["campaigns"]
    rows = {row["name"]: row for row in data["campaigns"]}
    assert set(rows) == {"Kangen", "Tanpa holdout"}
    kangen = rows["Kangen"]
    assert (kangen["treated"], kangen["holdout"]) == (4, 2)
    assert Decimal(kangen["incremental"]) == incremental
    assert Decimal(kangen["low"]) < incremental < Decimal(kangen["high"])
    assert kangen["open"] is False  # the 14-day window closed before the end
    assert rows["Tanpa holdout"]["incremental"] is None
    assert Decimal(data["total"]) == incremental
    year = worth.worth_compute(merchant, 365, now=END).data["campaigns"]["campaigns"]
    assert {row["name"] for row in year} == {"Kangen", "Lama", "Tanpa holdout"}


# -- members against comparable non-members --------------------------------------------------

JOINED = date(2026, 7, 10)  # inside the joining window: 2025-08-03 … 2026-08-03 for END
HISTORY = date(2026, 6, 20)  # 20 days before joining: R band 1, F band 1
LATER = date(2026, 8, 20)  # within 90 days of joining, after the joining window


def buyer(merchant, outlet, *, member: bool, history: bool, outcome: int, first: date = JOINED):
    customer = CustomerFactory(merchant=merchant)
    if member:
        MemberFactory(customer=customer, enrolled_at=at(JOINED, 10))
    if history:
        sale(merchant, outlet, customer, at(HISTORY), 50000)
    sale(merchant, outlet, customer, at(first), 25000)  # the visit itself: left out
    sale(merchant, outlet, customer, at(LATER), outcome)
    sale(merchant, outlet, customer, at(date(2026, 10, 25)), 700000)  # after the 90 days
    return customer


def test_members_are_compared_with_non_members_of_the_same_rfm_in_the_month_they_joined(shop):
    merchant, outlet, _program = shop
    # no purchase in the year before: two members, two comparable non-members (30.000 each)
    members_new = [100000, 80000]
    others_new = [40000, 20000]
    # one purchase 20 days before: four members, two comparable non-members (200.000 each)
    members_back = [300000, 250000, 200000, 230000]
    others_back = [150000, 250000]
    for amount in members_new:
        buyer(merchant, outlet, member=True, history=False, outcome=amount)
    for amount in others_new:
        buyer(
            merchant, outlet, member=False, history=False, outcome=amount, first=date(2026, 7, 12)
        )
    for amount in members_back:
        buyer(merchant, outlet, member=True, history=True, outcome=amount)
    for amount in others_back:
        buyer(merchant, outlet, member=False, history=True, outcome=amount)
    # a member whose last purchase was 60 days before joining (R band 2): nobody to compare
    lone = CustomerFactory(merchant=merchant)
    MemberFactory(customer=lone, enrolled_at=at(JOINED, 10))
    sale(merchant, outlet, lone, at(JOINED - timedelta(days=60)), 50000)
    sale(merchant, outlet, lone, at(LATER), 999000)
    # a member who joined after the joining window is not compared at all
    late = CustomerFactory(merchant=merchant)
    MemberFactory(customer=late, enrolled_at=at(date(2026, 10, 1), 10))
    sale(merchant, outlet, late, at(date(2026, 10, 1)), 25000)

    comparable_new = mean(others_new)
    comparable_back = mean(others_back)
    diffs = [m - comparable_new for m in members_new] + [m - comparable_back for m in members_back]
    member_mean = mean(members_new + members_back)
    comparison_mean = (comparable_new * 2 + comparable_back * 4) / 6
    half = float(stats.t.ppf(0.975, len(diffs) - 1)) * stdev(diffs) / len(diffs) ** 0.5
    # pooling every non-member of the month would give another answer: R/F/M matter
    assert member_mean - mean(others_new + others_back) != mean(diffs)

    result = worth.worth_compute(merchant, 90, now=END)
    m = result.data["members"]
    assert (m["join_from"], m["join_to"]) == ("2025-08-03", "2026-08-03")
    assert m["members"] == 7 and m["matched"] == 6
    assert Decimal(m["difference"]) == Decimal(mean(diffs)) == Decimal("50000")
    assert Decimal(m["member_mean"]) == rupiah(member_mean) == Decimal("193333")
    assert Decimal(m["comparison_mean"]) == rupiah(comparison_mean) == Decimal("143333")
    assert Decimal(m["low"]) == rupiah(mean(diffs) - half) < Decimal("50000")
    assert Decimal(m["high"]) == rupiah(mean(diffs) + half) > Decimal("50000")
    # seven members through the whole period (90 days each), the late one from 1 October
    days = 7 * 90 + (END - at(date(2026, 10, 1), 10)).days
    assert result.data["member_days"] == days
    assert Decimal(result.data["members_earned"]) == rupiah(Decimal(50000) / 90 * days)


def test_too_few_comparable_members_give_no_estimate(shop):
    merchant, outlet, _program = shop
    for amount in (100000, 80000):
        buyer(merchant, outlet, member=True, history=False, outcome=amount)
    buyer(merchant, outlet, member=False, history=False, outcome=40000, first=date(2026, 7, 12))
    result = worth.worth_compute(merchant, 90, now=END)
    assert result.data["members"]["matched"] == 2
    assert result.data["members"]["difference"] is None
    assert result.data["members_earned"] is None


# -- the pages ---------------------------------------------------------------------------------

PAGES = ("insights:worth", "insights:market", "insights:target")


def test_another_merchants_pages_are_404_and_a_cashier_gets_403(db, client):
    mine = MembershipFactory(role=Role.OWNER)
    other = MembershipFactory(role=Role.OWNER).merchant
    worth.worth_compute(other, 90)
    client.force_login(mine.user)
    for name in PAGES:
        assert client.get(reverse(name, kwargs={"slug": mine.merchant.slug})).status_code == 200
        assert client.get(reverse(name, kwargs={"slug": other.slug})).status_code == 404
    for name in ("insights:worth_refresh", "insights:worth_spend"):
        url = reverse(name, kwargs={"slug": other.slug})
        assert client.post(url, {"month": "2026-10", "amount": "1.000"}).status_code == 404
    assert not AcquisitionSpend.objects.filter(merchant=other).exists()

    cashier = MembershipFactory(merchant=mine.merchant, role=Role.CASHIER)
    client.force_login(cashier.user)
    for name in PAGES:
        assert client.get(reverse(name, kwargs={"slug": mine.merchant.slug})).status_code == 403
    for name in ("insights:worth_refresh", "insights:worth_spend"):
        url = reverse(name, kwargs={"slug": mine.merchant.slug})
        assert client.post(url, {"month": "2026-10", "amount": "1.000"}).status_code == 403
    assert not AcquisitionSpend.objects.filter(merchant=mine.merchant).exists()
    assert not WorthResult.objects.filter(merchant=mine.merchant).exists()


def test_acquisition_spend_is_saved_as_rupiah_and_gives_the_cost_of_a_new_customer(db, client):
    manager = MembershipFactory(role=Role.MANAGER)
    merchant = manager.merchant
    now = timezone.now()
    run = InsightRun.objects.create(merchant=merchant, status=InsightRun.Status.DONE)
    for days_ago in (5, 20, 40):  # three new customers in the last 90 days, one older
        new_insight(merchant, run, first=now - timedelta(days=days_ago))
    new_insight(merchant, run, first=now - timedelta(days=200))
    client.force_login(manager.user)
    url = reverse("insights:worth", kwargs={"slug": merchant.slug})
    client.post(reverse("insights:worth_refresh", kwargs={"slug": merchant.slug}), {"days": 90})
    # last month lies wholly inside the last 90 days
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    response = client.post(
        reverse("insights:worth_spend", kwargs={"slug": merchant.slug}),
        {
            "month": f"{month:%Y-%m}",
            "amount": "Rp 1.500.000",
            "note": "Iklan Instagram",
            "days": 90,
        },
    )
    assert response.status_code == 302
    row = AcquisitionSpend.objects.get(merchant=merchant)
    assert row.month == month and row.amount == Decimal("1500000")
    assert isinstance(row.amount, Decimal) and row.updated_by == manager.user

    html = client.get(url, {"days": 90}).content.decode()
    assert "Biaya akuisisi disimpan." in html
    per_new = format_rupiah(Decimal("1500000") / 3)
    assert per_new == "Rp 500.000"
    assert f'data-label="Per pelanggan">{per_new}<' in html
    assert "Iklan Instagram" in html and format_rupiah(Decimal("1500000")) in html

    bad = client.post(
        reverse("insights:worth_spend", kwargs={"slug": merchant.slug}),
        {"month": f"{month:%Y-%m}", "amount": "banyak"},
        follow=True,
    )
    assert "Ketik jumlah dalam Rupiah" in bad.content.decode()
    assert AcquisitionSpend.objects.get(merchant=merchant).amount == Decimal("1500000")


def new_insight(merchant, run, *, first: datetime) -> CustomerInsight:
    customer = CustomerFactory(merchant=merchant)
    return CustomerInsight.objects.create(
        merchant=merchant,
        customer=customer,
        run=run,
        orders=1,
        frequency=0,
        recency_days=0,
        age_days=(timezone.now() - first).days,
        days_since_last=(timezone.now() - first).days,
        total_spend=Decimal("25000"),
        monetary_value=Decimal("0"),
        first_purchase=first,
        last_purchase=first,
        r_score=3,
        f_score=1,
        m_score=1,
        segment="new",
        lifecycle="new",
    )


def test_the_overview_links_to_the_other_analysis_pages_the_role_may_open(db, client, monkeypatch):
    from langganan.web import permissions

    owner = MembershipFactory(role=Role.OWNER)
    slug = owner.merchant.slug
    client.force_login(owner.user)
    html = client.get(reverse("web:merchant_home", kwargs={"slug": slug})).content.decode()
    assert "Analisis lainnya" in html
    for name, label in (
        ("insights:market", "Peta pelanggan vs target pasar"),
        ("insights:target", "Pengaturan target pasar"),
        ("insights:worth", "Apakah CRM ini sepadan?"),
    ):
        assert f'<a href="{reverse(name, kwargs={"slug": slug})}">{label}</a>' in html
    # a page the role may not open is not offered
    manager = MembershipFactory(merchant=owner.merchant, role=Role.MANAGER)
    monkeypatch.setitem(permissions.PERMISSIONS, "insights:worth", permissions.OWNERS)
    client.force_login(manager.user)
    html = client.get(reverse("web:merchant_home", kwargs={"slug": slug})).content.decode()
    assert reverse("insights:worth", kwargs={"slug": slug}) not in html
    assert reverse("insights:market", kwargs={"slug": slug}) in html


def test_the_page_reads_in_indonesian_with_dates_and_numbers_written_out(db, client):
    owner = MembershipFactory(role=Role.OWNER)
    merchant = owner.merchant
    result = worth.worth_compute(merchant, 90)
    members = result.data["members"]
    members.update(
        {
            "join_from": "2025-09-06",
            "join_to": "2026-09-06",
            "members": 1200,
            "matched": 806,
            "member_mean": "108801",
            "comparison_mean": "120137",
            "difference": "-11335",
            "low": "-22927",
            "high": "256",
        }
    )
    result.data.update({"members": members, "member_days": 99725, "members_earned": "-12559810"})
    result.save()
    client.force_login(owner.user)
    html = client.get(reverse("insights:worth", kwargs={"slug": merchant.slug})).content.decode()
    assert "antara 6 September 2025 dan 6 September 2026" in html
    assert "2025-09-06" not in html
    assert "806 dari 1.200 member" in html and "99.725 hari-member" in html
    # less than nothing earned is said in words, not as "brought -Rp 12.559.810"
    assert "-Rp 12.559.810" in html
    assert "sekitar Rp 12.559.810 lebih sedikit daripada pelanggan pembandingnya" in html
    # the month is picked from months named in Indonesian, this one first
    months = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November "
    months += "Desember"
    today = timezone.localdate()
    label = f"{months.split()[today.month - 1]} {today.year}"
    assert f'<option value="{today:%Y-%m}" selected>{label}</option>' in html
    assert 'type="month"' not in html
