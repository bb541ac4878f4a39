"""Feedback after a visit: the signed per-sale token, one answer per sale, a low rating opens
a complaint, the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from langganan.care.feedback import (
    ERR_ANSWERED,
    ERR_RATING,
    POLICY,
    feedback_allowed,
    feedback_sale,
    feedback_submit,
    feedback_token,
)
from langganan.care.models import CareSettings, Channel, Complaint, Feedback, Status
from langganan.core.errors import Conflict, InvalidInput
from tests.care.helpers import T0
from tests.factories import CustomerFactory, MerchantFactory, TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(merchant):
    return TransactionFactory(merchant=merchant, customer=CustomerFactory(merchant=merchant))


def test_the_token_names_the_sale_and_a_forged_one_nothing(sale):
    token = feedback_token(sale)
    assert feedback_sale(token) == sale
    assert feedback_sale(token[:-2] + "xx") is None
    assert feedback_sale("nonsense") is None
    sale_id = sale.pk
    sale.delete()
    assert feedback_sale(token) is None and sale_id


def test_a_good_rating_is_kept_and_opens_no_complaint(sale):
    feedback = feedback_submit(sale=sale, rating=4, nps=9, comment="Enak", suggestion="Es teh")
    assert (feedback.rating, feedback.nps, feedback.customer) == (4, 9, sale.customer)
    assert feedback.complaint is None and not Complaint.objects.exists()


@pytest.mark.parametrize("rating", [1, 2])
def test_a_rating_at_or_below_the_threshold_opens_a_complaint(sale, rating):
    feedback = feedback_submit(sale=sale, rating=rating, comment="Lama sekali", at=T0)
    complaint = Complaint.objects.get()
    assert feedback.complaint == complaint
    assert complaint.channel == Channel.FEEDBACK and complaint.status == Status.NEW
    assert complaint.customer == sale.customer and complaint.transaction == sale
    assert "Lama sekali" in complaint.text
    assert complaint.category.code == "other"


def test_the_threshold_is_the_merchants(sale):
    CareSettings.objects.create(merchant=sale.merchant, low_rating=3)
    feedback_submit(sale=sale, rating=3)
    assert Complaint.objects.count() == 1


def test_one_answer_per_sale(sale):
    feedback_submit(sale=sale, rating=5)
    with pytest.raises(Conflict) as info:
        feedback_submit(sale=sale, rating=1)
    assert info.value.message == ERR_ANSWERED
    assert Feedback.objects.get().rating == 5 and not Complaint.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, None])
def test_a_rating_outside_1_to_5_is_refused(sale, rating):
    with pytest.raises(InvalidInput) as info:
        feedback_submit(sale=sale, rating=rating)
    assert info.value.message == ERR_RATING
    assert not Feedback.objects.exists()


def test_the_rate_limit_per_address(db):
    for _ in range(POLICY.per_address):
        assert feedback_allowed(address="10.0.0.1", at=T0)
    assert not feedback_allowed(address="10.0.0.1", at=T0)
    assert feedback_allowed(address="10.0.0.2", at=T0)
    assert feedback_allowed(address="10.0.0.1", at=T0 + POLICY.window + timedelta(seconds=1))


def test_the_scores_are_the_average_rating_and_the_net_promoter_score(merchant):
    from decimal import Decimal

    from langganan.care.selectors import feedback_scores

    answers = [(5, 10), (4, 9), (3, 6), (4, None), (2, 0)]
    for rating, nps in answers:
        feedback_submit(sale=TransactionFactory(merchant=merchant), rating=rating, nps=nps, at=T0)
    old = TransactionFactory(merchant=merchant)
    feedback_submit(sale=old, rating=1, nps=0, at=T0 - timedelta(days=40))

    scores = feedback_scores(merchant=merchant, since=T0 - timedelta(days=30))

    assert scores.answers == 5
    assert scores.average_rating == Decimal("3.6")  # 18 / 5
    assert (scores.nps_answers, scores.nps) == (4, 0)  # 2 promoters, 2 detractors of 4
    assert feedback_scores(merchant=MerchantFactory(), since=T0).nps is None
