"""The demo café's complaints, feedback and suggestions: realistic, through the care services,
the same for a seed, and deleted with the café."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from langganan.care.figures import figures_for
from langganan.care.models import (
    Channel,
    Complaint,
    ComplaintRecovery,
    Feedback,
    RecoveryKind,
    Status,
)
from langganan.care.selectors import overdue_count
from langganan.demo.generator import demo_merchant_build, demo_merchant_delete

END = date(2025, 6, 30)
N = 300
SEED = 3

pytestmark = pytest.mark.django_db


def build(**kwargs):
    options = {"slug": "demo", "n_customers": N, "seed": SEED, "end": END}
    options.update(kwargs)
    return demo_merchant_build(**options)


def test_the_demo_has_complaints_handled_to_the_end_and_feedback_mostly_good():
    merchant = build().merchant
    complaints = list(Complaint.objects.filter(merchant=merchant))
    statuses = {c.status for c in complaints}
    assert {Status.NEW, Status.RESOLVED, Status.CLOSED} <= statuses
    assert len({c.category_id for c in complaints}) >= 3
    assert len({c.outlet_id for c in complaints}) >= 2
    assert {Channel.FEEDBACK, Channel.IN_PERSON} <= {c.channel for c in complaints}
    end_at = datetime.combine(END, time(0), ZoneInfo("Asia/Jakarta"))
    assert all(c.created_at < end_at for c in complaints)
    assert all(c.resolved_at is None or c.resolved_at >= c.created_at for c in complaints)
    # recovered through the loyalty services: an apology voucher for the complaint's customer
    vouchers = ComplaintRecovery.objects.filter(merchant=merchant, kind=RecoveryKind.VOUCHER)
    assert vouchers.exists()
    for recovery in vouchers.select_related("voucher", "complaint"):
        assert recovery.voucher.customer_id == recovery.complaint.customer_id
        assert recovery.cost == recovery.voucher.value
    # the last days' are still open, past their targets now
    assert overdue_count(merchant=merchant, now=end_at + timedelta(days=3)) >= 1

    answers = list(Feedback.objects.filter(merchant=merchant))
    assert len(answers) >= 30
    good = sum(1 for a in answers if a.rating >= 4)
    assert good / len(answers) > 0.7
    assert any(a.suggestion for a in answers)
    for low in (a for a in answers if a.rating <= 2):
        assert low.complaint is not None and low.complaint.channel == Channel.FEEDBACK
    # the figures page has something to show for the last 90 days of the demo
    f = figures_for(merchant=merchant, days=90, now=end_at)
    assert f.total and f.scores.answers and f.suggestions and f.by_category
    assert f.first_response.median_hours is not None and f.resolution.median_hours is not None
    assert f.after is not None and f.after.complainers >= 1


def test_the_same_seed_gives_the_same_complaints_and_feedback_and_replace_deletes_them():
    def snapshot():
        return (
            sorted(Complaint.objects.values_list("text", "status", "created_at", "resolved_at")),
            sorted(Feedback.objects.values_list("created_at", "rating", "suggestion", "comment")),
            sorted(
                ComplaintRecovery.objects.values_list(
                    "at", "kind", "cost", "points", "voucher__value"
                )
            ),
        )

    first = build()
    before = snapshot()
    build(replace=True)
    assert snapshot() == before
    demo_merchant_delete(merchant=Complaint.objects.first().merchant)
    assert not Complaint.objects.exists() and not Feedback.objects.exists()
    assert first.merchant.pk
