"""The figures of a period (langganan.care.figures), each checked against a direct count of
the rows written here (seeded random data; the seed is printed)."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from langganan.care.figures import (
    AFTER_DAYS,
    BEFORE_DAYS,
    after_complaint,
    band_of,
    figures_for,
    period_days,
    scores_of,
)
from langganan.care.models import CareSettings, Complaint, Feedback, Status
from langganan.sales.models import Transaction
from tests.care.helpers import category
from tests.factories import CustomerFactory, OutletFactory, TransactionFactory

pytestmark = pytest.mark.django_db

JKT = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=JKT)
SEED = 19


def _complaint(
    merchant, *, code, outlet, at, customer=None, status=Status.NEW, first=None, resolved=None
):
    return Complaint.objects.create(
        merchant=merchant,
        customer=customer,
        outlet=outlet,
        channel="in_person",
        category=category(merchant, code),
        text="x",
        status=status,
        created_at=at,
        first_response_at=first,
        resolved_at=resolved,
    )


@pytest.fixture
def random_care(merchant):
    rng = random.Random(SEED)
    print("seed", SEED)
    CareSettings.objects.create(merchant=merchant, first_response_hours=6, resolution_hours=48)
    outlets = [OutletFactory(merchant=merchant, name=n) for n in ("Melawai", "Kemang")]
    customers = [CustomerFactory(merchant=merchant) for _ in range(8)]
    for _i in range(60):
        at = NOW - timedelta(hours=rng.uniform(1, 24 * 120))
        status = rng.choice(list(Status))
        first = at + timedelta(hours=rng.uniform(0.2, 30)) if rng.random() < 0.8 else None
        resolved = None
        if status in (Status.RESOLVED, Status.CLOSED, Status.REJECTED):
            resolved = at + timedelta(hours=rng.uniform(1, 120))
        _complaint(
            merchant,
            code=rng.choice(("taste", "waiting", "staff")),
            outlet=rng.choice([*outlets, None]),
            at=at,
            customer=rng.choice([*customers, None]),
            status=status,
            first=first,
            resolved=resolved,
        )
    for _i in range(80):
        sale = TransactionFactory(
            merchant=merchant,
            outlet=rng.choice(outlets),
            customer=rng.choice(customers),
            occurred_at=NOW - timedelta(days=rng.uniform(0, 120)),
        )
        Feedback.objects.create(
            merchant=merchant,
            transaction=sale,
            customer=sale.customer,
            outlet=sale.outlet,
            rating=rng.randint(1, 5),
            nps=rng.choice([None, *range(11)]),
            suggestion=rng.choice(["", "", "Tambah colokan"]),
            created_at=sale.occurred_at,
        )
    return merchant


@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_every_figure_of_the_period_equals_a_direct_count(random_care, days):
    merchant = random_care
    f = figures_for(merchant=merchant, days=days, now=NOW)
    start = NOW - timedelta(days=days)
    rows = [c for c in Complaint.objects.filter(merchant=merchant) if start <= c.created_at < NOW]
    assert f.total == len(rows)
    by_category: dict[str, int] = {}
    by_outlet: dict[str, int] = {}
    for c in rows:
        by_category[c.category.name] = by_category.get(c.category.name, 0) + 1
        name = c.outlet.name if c.outlet else ""
        by_outlet[name] = by_outlet.get(name, 0) + 1
    assert dict(f.by_category) == by_category and dict(f.by_outlet) == by_outlet
    assert [n for _name, n in f.by_category] == sorted(by_category.values(), reverse=True)

    response = [
        (c.first_response_at - c.created_at).total_seconds() / 3600
        for c in rows
        if c.first_response_at
    ]
    assert f.first_response.count == len(response)
    if response:
        assert abs(float(f.first_response.median_hours) - statistics.median(response)) <= 0.05
    assert f.first_response.within_target == sum(1 for h in response if h <= 6)
    resolution = [
        (c.resolved_at - c.created_at).total_seconds() / 3600
        for c in rows
        if c.status in (Status.RESOLVED, Status.CLOSED)
    ]
    assert f.resolution.count == len(resolution)
    if resolution:
        assert abs(float(f.resolution.median_hours) - statistics.median(resolution)) <= 0.05
    assert f.resolution.within_target == sum(1 for h in resolution if h <= 48)

    answers = [a for a in Feedback.objects.filter(merchant=merchant) if start <= a.created_at < NOW]
    assert f.scores.answers == len(answers)
    if answers:
        csat = sum(1 for a in answers if a.rating >= 4) / len(answers)
        assert abs(float(f.scores.csat) - csat) < 0.001
        nps = [a.nps for a in answers if a.nps is not None]
        expected_nps = round(100 * (sum(n >= 9 for n in nps) - sum(n <= 6 for n in nps)) / len(nps))
        assert f.scores.nps == expected_nps
    assert sum(point.scores.answers for point in f.trend) == len(answers)
    assert f.trend_unit == ("month" if days == 365 else "week")
    for point in f.trend:
        if f.trend_unit == "week":
            assert point.start.weekday() == 0
        else:
            assert point.start.day == 1
    with_suggestion = sorted(
        (a for a in answers if a.suggestion), key=lambda a: (a.created_at, a.pk), reverse=True
    )
    assert [s.pk for s in f.suggestions] == [a.pk for a in with_suggestion[:10]]


def test_scores_count_4_and_5_as_satisfied_and_nps_as_promoters_minus_detractors():
    scores = scores_of([(5, 10), (4, 9), (3, 6), (2, None), (1, 0), (4, 8)])
    assert scores.answers == 6 and scores.nps_answers == 5
    assert scores.csat == Decimal("0.500")  # 5, 4, 4 of 6
    assert scores.nps == 0  # 2 promoters, 2 detractors of 5
    assert scores.average_rating == Decimal("3.2")
    assert scores_of([]).csat is None


def test_the_period_is_one_of_the_pickers():
    assert [period_days(v) for v in ("7", "90", "365", "12", "x", None)] == [7, 90, 365, 30, 30, 30]


def test_a_rejected_complaint_is_not_counted_as_resolved(merchant):
    at = NOW - timedelta(days=2)
    _complaint(
        merchant,
        code="taste",
        outlet=None,
        at=at,
        status=Status.REJECTED,
        first=at + timedelta(hours=1),
        resolved=at + timedelta(hours=3),
    )
    _complaint(
        merchant,
        code="taste",
        outlet=None,
        at=at,
        status=Status.CLOSED,
        first=at + timedelta(hours=2),
        resolved=at + timedelta(hours=10),
    )
    f = figures_for(merchant=merchant, days=7, now=NOW)
    assert (f.total, f.resolution.count, f.resolution.median_hours) == (2, 1, Decimal("10.0"))
    assert f.first_response.median_hours == Decimal("1.5")


# -- what happened after a complaint ------------------------------------------------------------


def _buys(merchant, outlet, customer, *days_from_anchor, anchor):
    for d in days_from_anchor:
        TransactionFactory(
            merchant=merchant,
            outlet=outlet,
            customer=customer,
            occurred_at=anchor + timedelta(days=d),
        )


def test_complainers_are_compared_with_customers_who_bought_as_often_before(merchant):
    outlet = OutletFactory(merchant=merchant)
    anchor = NOW - timedelta(days=120)
    ani, budi, citra, dewi, eko = (CustomerFactory(merchant=merchant) for _ in range(5))
    # Ani complained (resolved at the anchor): 3 purchases before (band 2-4), 2 after
    _buys(merchant, outlet, ani, -100, -50, -10, 5, 60, anchor=anchor)
    _complaint(
        merchant,
        code="taste",
        outlet=outlet,
        customer=ani,
        at=anchor - timedelta(days=1),
        status=Status.RESOLVED,
        resolved=anchor,
    )
    # similar: 2 and 4 purchases before, then 4 and 0 after (one past the 90 days: not counted)
    _buys(merchant, outlet, budi, -20, -5, 1, 2, 3, 4, 95, anchor=anchor)
    _buys(merchant, outlet, citra, -170, -160, -150, -140, anchor=anchor)
    # not similar: one purchase before (band 1); bought before the 180 days only (no band)
    _buys(merchant, outlet, dewi, -3, 10, anchor=anchor)
    _buys(merchant, outlet, eko, -200, 10, anchor=anchor)
    after = after_complaint(merchant=merchant, start=NOW - timedelta(days=365), now=NOW)
    assert (after.complainers, after.compared, after.similar_customers) == (1, 1, 2)
    assert after.purchases == Decimal("2.00")
    assert after.similar_purchases == Decimal("2.00")  # (4 + 0) / 2
    assert after.returned_share == Decimal("1.000")
    assert after.similar_returned_share == Decimal("0.500")
    # another merchant's complaints and sales change nothing; a refund is not a purchase
    Transaction.objects.create(
        merchant=merchant,
        outlet=outlet,
        customer=ani,
        kind="refund",
        refund_of=Transaction.objects.filter(customer=ani).earliest("occurred_at"),
        occurred_at=anchor + timedelta(days=7),
        total=Decimal("-1"),
        payment_method="cash",
    )
    assert after_complaint(merchant=merchant, start=NOW - timedelta(days=365), now=NOW) == after


def test_a_customer_who_complained_is_never_in_the_comparison(merchant):
    outlet = OutletFactory(merchant=merchant)
    anchor = NOW - timedelta(days=100)
    ani, budi = CustomerFactory(merchant=merchant), CustomerFactory(merchant=merchant)
    _buys(merchant, outlet, ani, -10, 3, anchor=anchor)
    _buys(merchant, outlet, budi, -10, 3, 4, anchor=anchor)
    _complaint(
        merchant,
        code="taste",
        outlet=outlet,
        customer=ani,
        at=anchor,
        status=Status.CLOSED,
        resolved=anchor,
    )
    # Budi's complaint is open: he is no "customer without a complaint"
    _complaint(merchant, code="taste", outlet=outlet, customer=budi, at=anchor)
    after = after_complaint(merchant=merchant, start=NOW - timedelta(days=365), now=NOW)
    assert (after.complainers, after.compared, after.purchases) == (1, 0, None)


def test_after_a_complaint_matches_a_brute_force_count_on_random_histories(merchant):
    rng = random.Random(SEED + 1)
    print("seed", SEED + 1)
    outlet = OutletFactory(merchant=merchant)
    customers = [CustomerFactory(merchant=merchant) for _ in range(25)]
    for customer in customers:
        for _i in range(rng.randint(0, 9)):
            TransactionFactory(
                merchant=merchant,
                outlet=outlet,
                customer=customer,
                occurred_at=NOW - timedelta(days=rng.uniform(0, 400)),
            )
    for customer in customers[:8]:
        at = NOW - timedelta(days=rng.uniform(1, 80))
        _complaint(
            merchant,
            code="staff",
            outlet=outlet,
            customer=customer,
            at=at,
            status=rng.choice((Status.RESOLVED, Status.CLOSED, Status.NEW)),
            resolved=at + timedelta(hours=5),
        )
    start = NOW - timedelta(days=90)
    got = after_complaint(merchant=merchant, start=start, now=NOW)

    def count(customer_id, low, high, *, closed_high):
        qs = Transaction.objects.filter(merchant=merchant, customer_id=customer_id, kind="sale")
        if closed_high:
            return qs.filter(occurred_at__gt=low, occurred_at__lte=high).count()
        return qs.filter(occurred_at__gte=low, occurred_at__lt=high).count()

    complained = set(Complaint.objects.values_list("customer_id", flat=True))
    anchors = {
        c.customer_id: c.resolved_at
        for c in Complaint.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED))
        if start <= c.resolved_at < NOW
    }
    own, similar, own_back, similar_back, compared, pool = 0, 0.0, 0, 0.0, 0, set()
    for customer_id, anchor in anchors.items():
        band = band_of(
            count(customer_id, anchor - timedelta(days=BEFORE_DAYS), anchor, closed_high=False)
        )
        if band is None:
            continue
        until = min(anchor + timedelta(days=AFTER_DAYS), NOW)
        peers = [
            c.pk
            for c in customers
            if c.pk not in complained
            and band_of(
                count(c.pk, anchor - timedelta(days=BEFORE_DAYS), anchor, closed_high=False)
            )
            == band
        ]
        if not peers:
            continue
        compared += 1
        mine = count(customer_id, anchor, until, closed_high=True)
        own += mine
        own_back += 1 if mine else 0
        theirs = [count(p, anchor, until, closed_high=True) for p in peers]
        similar += sum(theirs) / len(theirs)
        similar_back += sum(1 for t in theirs if t) / len(theirs)
        pool |= set(peers)
    assert got.complainers == len(anchors) and got.compared == compared
    assert got.similar_customers == len(pool)
    if compared:
        assert abs(float(got.purchases) - own / compared) < 0.006
        assert abs(float(got.similar_purchases) - similar / compared) < 0.006
        assert abs(float(got.returned_share) - own_back / compared) < 0.0006
        assert abs(float(got.similar_returned_share) - similar_back / compared) < 0.0006
