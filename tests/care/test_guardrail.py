"""A customer with an open complaint gets no promotion until it is resolved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from langganan.campaigns.guardrails import open_complaint_ids
from langganan.campaigns.models import Message
from langganan.campaigns.services import (
    campaign_activate,
    campaign_create,
    campaign_run,
    template_create,
)
from langganan.care.models import Status
from langganan.care.services import complaint_set_status
from tests.campaigns.core.conftest import NOW, consenting_customer
from tests.care.helpers import complaint
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def _broadcast(merchant):
    template = template_create(merchant=merchant, name="Promo", body_id="Halo {salutation}!")
    campaign = campaign_create(
        merchant=merchant,
        name=f"promo-{template.pk}",
        kind="broadcast",
        channel="whatsapp",
        template=template,
        holdout_percent=0,
    )
    return campaign_activate(campaign=campaign, now=NOW - timedelta(days=1))


def test_exactly_the_customers_with_an_open_complaint_are_left_out_and_counted(merchant):
    calm = consenting_customer(merchant)
    new_one = consenting_customer(merchant)
    handled = consenting_customer(merchant)
    resolved = consenting_customer(merchant)
    complaint(merchant, customer=new_one)
    c = complaint(merchant, customer=handled)
    complaint_set_status(complaint=c, status=Status.IN_PROGRESS, by=None)
    done = complaint(merchant, customer=resolved)
    complaint_set_status(complaint=done, status=Status.IN_PROGRESS, by=None)
    complaint_set_status(complaint=done, status=Status.RESOLVED, by=None)

    report = campaign_run(campaign=_broadcast(merchant), now=NOW)

    assert report.open_complaint == 2
    assert report.queued == 2
    assert set(Message.objects.values_list("customer_id", flat=True)) == {calm.pk, resolved.pk}


def test_once_resolved_the_customer_is_sent_promotions_again(merchant):
    customer = consenting_customer(merchant)
    c = complaint(merchant, customer=customer)
    assert open_complaint_ids(merchant=merchant, customer_ids=[customer.pk]) == {customer.pk}
    complaint_set_status(complaint=c, status=Status.REJECTED, by=None)
    assert open_complaint_ids(merchant=merchant, customer_ids=[customer.pk]) == set()
    report = campaign_run(campaign=_broadcast(merchant), now=NOW)
    assert (report.open_complaint, report.queued) == (0, 1)


def test_another_merchants_complaint_does_not_hold_back_this_merchants_customer(merchant):
    customer = consenting_customer(merchant)
    other = MerchantFactory()
    complaint(other, customer=consenting_customer(other))
    assert open_complaint_ids(merchant=merchant, customer_ids=[customer.pk]) == set()
    assert open_complaint_ids(merchant=other, customer_ids=[customer.pk]) == set()
