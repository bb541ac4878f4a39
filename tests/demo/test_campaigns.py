"""The demo café's campaigns: birthday, win-back and reminder, with history and results."""

from datetime import date

import pytest

from langganan.campaigns.models import Campaign, Group, Message, Recipient
from langganan.campaigns.roi import campaign_report
from langganan.demo.generator import demo_merchant_build, demo_merchant_delete

END = date(2025, 6, 30)
N = 400
SEED = 5

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_merchant_build(slug="demo", n_customers=N, seed=SEED, end=END).merchant


def test_the_demo_has_a_birthday_a_winback_and_a_reminder_campaign_with_history(demo):
    kinds = set(Campaign.objects.filter(merchant=demo).values_list("kind", flat=True))
    assert kinds == {"birthday", "winback", "reminder"}
    for campaign in Campaign.objects.filter(merchant=demo):
        groups = set(Recipient.objects.filter(campaign=campaign).values_list("group", flat=True))
        assert groups == {Group.TREATED, Group.HOLDOUT}, campaign.name
        treated = Recipient.objects.filter(campaign=campaign, group=Group.TREATED).count()
        assert Message.objects.filter(campaign=campaign).count() == treated
    assert not Message.objects.filter(recipient__group=Group.HOLDOUT).exists()


def test_demo_messages_are_personal_and_only_to_consenting_customers(demo):
    from langganan.customers.models import ConsentEvent

    for message in Message.objects.filter(merchant=demo).select_related("customer")[:200]:
        assert "{" not in message.body and "[[" not in message.body
        first_name = message.customer.full_name.split(" ")[0]
        assert first_name in message.body
        assert message.to == message.customer.phone
    for message in Message.objects.filter(merchant=demo).select_related("recipient")[:100]:
        latest = (
            ConsentEvent.objects.filter(
                customer_id=message.customer_id,
                channel="whatsapp",
                occurred_at__lte=message.recipient.assigned_at,
            )
            .order_by("-occurred_at", "-id")
            .first()
        )
        assert latest is not None and latest.granted


def test_demo_reports_show_treated_against_holdout(demo):
    winback = Campaign.objects.get(merchant=demo, kind="winback")
    report = campaign_report(campaign=winback)
    assert report.lift.treated.n > 0 and report.lift.holdout.n > 0
    # the demo's treated customers answer with visits the holdout does not make
    assert report.lift.treated.conversion_rate > report.lift.holdout.conversion_rate
    assert report.cost.messages > 0 and report.cost.discounts > 0


def test_the_demo_merchant_with_its_campaigns_can_be_deleted(demo):
    demo_merchant_delete(merchant=demo)
    assert not Campaign.objects.exists() and not Message.objects.exists()


def test_the_last_weeks_reminders_wait_on_the_manual_whatsapp_list(demo):
    from langganan.campaigns.channels.manual import manual_queue

    waiting = manual_queue(merchant=demo)
    assert waiting and all(m.manual and m.status == "queued" for m in waiting)
    assert all(m.body.startswith("Halo ") for m in waiting)
