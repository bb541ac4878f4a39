"""Running campaigns: triggers, guardrails before the holdout draw, offers, the outbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from langganan.campaigns.models import (
    Campaign,
    CampaignStatus,
    Group,
    Message,
    MessagingPolicy,
    Recipient,
)
from langganan.campaigns.services import (
    ERR_HOLIDAY_MISSING,
    ERR_NOT_ACTIVE,
    audience_create,
    campaign_activate,
    campaign_create,
    campaign_pause,
    campaign_run,
    campaigns_run_due,
    in_holdout,
    message_preview,
    template_create,
)
from langganan.core.errors import Conflict, InvalidInput
from langganan.customers.services import consent_record
from tests.factories import CustomerFactory, MerchantFactory

from .conftest import JAKARTA, NOW, consenting_customer, insight_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(merchant):
    return template_create(
        merchant=merchant,
        name="Sapaan",
        body_id="Halo {salutation}! Mau {usual_order} lagi? [[Kode: {voucher_code}]]",
        body_en="Hi {salutation}! Fancy {usual_order} again?",
        whatsapp_template="sapaan_v1",
    )


def make(merchant, template, kind="broadcast", **options):
    options.setdefault("holdout_percent", 0)
    started = options.pop("started", NOW - timedelta(days=1))
    campaign = campaign_create(
        merchant=merchant,
        name=f"{kind}-{Campaign.objects.count()}",
        kind=kind,
        channel=options.pop("channel", "whatsapp"),
        template=template,
        **options,
    )
    return campaign_activate(campaign=campaign, now=started)


def test_a_broadcast_queues_one_personalised_message_per_consenting_customer(merchant, template):
    rina = consenting_customer(
        merchant, full_name="Rina Wati", gender="F", birth_date=date(2001, 5, 5)
    )
    insight_for(rina)
    CustomerFactory(merchant=merchant)  # no consent: never messaged
    campaign = make(merchant, template)
    report = campaign_run(campaign=campaign, now=NOW)
    assert (report.due, report.no_consent, report.treated, report.queued) == (2, 1, 1, 1)
    message = Message.objects.get()
    assert message.body.startswith("Halo Mbak Rina! Mau Es Kopi Susu lagi?")
    assert "Kode" not in message.body and "{" not in message.body
    assert message.to == rina.phone and message.template_name == "sapaan_v1"
    assert message.template_params == ["Mbak Rina", "Es Kopi Susu"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


def test_a_customer_never_gets_the_same_campaign_twice(merchant, template):
    consenting_customer(merchant)
    campaign = make(merchant, template, kind="winback")
    customer = Customer = None  # noqa: F841
    for c in campaign.merchant.customers.all():
        insight_for(c, lifecycle="lapsed", last_purchase=NOW - timedelta(days=120))
    first = campaign_run(campaign=campaign, now=NOW)
    again = campaign_run(campaign=campaign, now=NOW + timedelta(days=1))
    assert (first.queued, again.queued, again.already) == (1, 0, 1)
    assert Recipient.objects.count() == Message.objects.count() == 1


def test_the_holdout_is_drawn_after_the_guardrails_at_about_the_asked_share(merchant, template):
    for _ in range(400):
        consenting_customer(merchant)
    for _ in range(100):
        CustomerFactory(merchant=merchant)  # not eligible: in neither group
    campaign = make(merchant, template, holdout_percent=20)
    report = campaign_run(campaign=campaign, now=NOW)
    assert report.treated + report.holdout == 400
    # binomial(400, 0.2): mean 80, sd 8 -> 4 sd either side
    assert 48 <= report.holdout <= 112
    holdout = Recipient.objects.filter(group=Group.HOLDOUT)
    assert not Message.objects.filter(recipient__in=holdout).exists()
    assert Message.objects.count() == report.treated
    for r in holdout[:20]:
        assert in_holdout(
            campaign_id=campaign.pk, customer_id=r.customer_id, occasion="", percent=Decimal("20")
        )


def test_customers_over_the_frequency_cap_or_without_an_address_are_left_out(merchant, template):
    MessagingPolicy.objects.create(merchant=merchant, cap_messages=1, cap_days=7)
    busy = consenting_customer(merchant)
    no_phone = CustomerFactory(merchant=merchant, phone=None)
    consent_record(customer=no_phone, channel="whatsapp", granted=True, source="counter")
    first = make(merchant, template)
    campaign_run(campaign=first, now=NOW - timedelta(days=2))
    second = make(merchant, template)
    report = campaign_run(campaign=second, now=NOW)
    assert (report.capped, report.no_address, report.queued) == (1, 1, 0)
    assert Message.objects.filter(customer=busy).count() == 1


def test_messages_decided_in_quiet_hours_wait_until_they_end(merchant, template):
    consenting_customer(merchant)
    campaign = make(merchant, template)
    late = datetime(2026, 12, 2, 22, 30, tzinfo=JAKARTA)
    campaign_run(campaign=campaign, now=late)
    message = Message.objects.get()
    assert message.next_attempt_at == datetime(2026, 12, 3, 8, 0, tzinfo=JAKARTA)


def test_a_voucher_offer_gives_each_treated_customer_a_personal_code(merchant, template):
    from tests.loyalty.factories import VoucherFactory

    voucher = VoucherFactory(merchant=merchant, is_template=True, kind="shared", max_uses=None)
    customers = [consenting_customer(merchant) for _ in range(3)]
    for c in customers:
        insight_for(c, lifecycle="lapsed", last_purchase=NOW - timedelta(days=200))
    campaign = make(
        merchant, template, kind="winback", voucher_template=voucher, voucher_valid_days=10
    )
    campaign_run(campaign=campaign, now=NOW)
    recipients = list(Recipient.objects.select_related("voucher", "message"))
    assert len({r.voucher.code for r in recipients}) == 3
    for r in recipients:
        assert f"Kode: {r.voucher.code}" in r.message.body
        assert r.voucher.customer_id == r.customer_id


def test_bonus_points_are_credited_once_to_members(merchant, template):
    from langganan.loyalty.points import points_balance
    from tests.loyalty.factories import MemberFactory, ProgramFactory

    ProgramFactory(merchant=merchant)
    member = consenting_customer(merchant, birth_date=date(1990, 12, 4))
    MemberFactory(customer=member)
    campaign = make(merchant, template, kind="birthday", days_before=3, bonus_points=50)
    campaign_run(campaign=campaign, now=NOW)
    campaign_run(campaign=campaign, now=NOW + timedelta(hours=1))
    assert points_balance(customer=member, at=NOW) == 50
    assert Recipient.objects.get().occasion == "2026"


def test_birthday_greetings_go_days_before_and_once_a_year(merchant, template):
    soon = consenting_customer(merchant, birth_date=date(1990, 12, 5))
    consenting_customer(merchant, birth_date=date(1990, 12, 20))
    campaign = make(merchant, template, kind="birthday", days_before=3)
    assert campaign_run(campaign=campaign, now=NOW).queued == 1
    assert Recipient.objects.get().customer_id == soon.pk
    assert campaign_run(campaign=campaign, now=NOW + timedelta(days=2)).queued == 0
    # next year: a new occasion
    assert campaign_run(campaign=campaign, now=NOW + timedelta(days=365)).queued == 1


def test_holiday_greetings_use_the_holiday_calendar(merchant, template):
    consenting_customer(merchant)
    campaign = make(merchant, template, kind="holiday", holiday="natal", days_before=7)
    assert campaign_run(campaign=campaign, now=NOW).queued == 0  # Christmas is 23 days away
    christmas_eve_week = datetime(2026, 12, 20, 10, tzinfo=JAKARTA)
    assert campaign_run(campaign=campaign, now=christmas_eve_week).queued == 1
    assert Recipient.objects.get().occasion == "2026-12-25"
    with pytest.raises(InvalidInput) as err:
        make(merchant, template, kind="holiday")
    assert err.value.message == ERR_HOLIDAY_MISSING


def test_idul_fitri_is_found_in_the_calendar():
    from langganan.campaigns.holidays_calendar import holiday_dates

    assert holiday_dates("idul_fitri", [2026]) == [date(2026, 3, 21)]
    assert holiday_dates("hut_ri", [2027]) == [date(2027, 8, 17)]


def test_reminders_follow_each_customers_predicted_next_purchase(merchant, template):
    due = consenting_customer(merchant)
    insight_for(due, next_purchase_date=date(2026, 12, 1), last_purchase=NOW - timedelta(days=6))
    later = consenting_customer(merchant)
    insight_for(later, next_purchase_date=date(2026, 12, 9))
    lapsed = consenting_customer(merchant)
    insight_for(lapsed, next_purchase_date=date(2026, 12, 1), lifecycle="lapsed")
    campaign = make(merchant, template, kind="reminder")
    assert campaign_run(campaign=campaign, now=NOW).queued == 1
    recipient = Recipient.objects.get()
    assert (recipient.customer_id, recipient.occasion) == (due.pk, "2026-12-01")
    assert "Es Kopi Susu" in recipient.message.body


def test_points_expiry_reminders_name_the_points_and_the_date(merchant):
    from langganan.loyalty.points import points_earn
    from tests.loyalty.factories import MemberFactory, ProgramFactory

    ProgramFactory(merchant=merchant)
    member = consenting_customer(merchant)
    MemberFactory(customer=member)
    points_earn(
        customer=member,
        points=120,
        key="x",
        at=NOW - timedelta(days=300),
        kind="bonus",
        expires_at=NOW + timedelta(days=3),
    )
    template = template_create(
        merchant=merchant,
        name="Poin",
        body_id="{salutation}, {expiring_points} poin hangus {expiry_date}.",
    )
    campaign = make(merchant, template, kind="points_expiry", days_before=7)
    campaign_run(campaign=campaign, now=NOW)
    assert "120 poin hangus 5 Desember 2026." in Message.objects.get().body


def test_tier_upgrades_and_welcome_are_counted_from_the_campaign_start(merchant, template):
    from langganan.loyalty.models import TierChange
    from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory

    program = ProgramFactory(merchant=merchant)
    gold = TierFactory(program=program, name="Emas")
    member = MemberFactory(
        customer=consenting_customer(merchant), enrolled_at=NOW - timedelta(hours=1)
    )
    TierChange.objects.create(
        member=member, to_tier=gold, reason="qualified", changed_at=NOW - timedelta(hours=2)
    )
    congrats = template_create(merchant=merchant, name="Naik", body_id="Selamat, kamu {tier}!")
    tier_campaign = make(merchant, congrats, kind="tier_upgrade", started=NOW - timedelta(days=1))
    campaign_run(campaign=tier_campaign, now=NOW)
    assert Message.objects.get().body.startswith("Selamat, kamu Emas!")
    welcome = make(merchant, template, kind="welcome", started=NOW - timedelta(days=1))
    assert campaign_run(campaign=welcome, now=NOW).queued == 1


def test_only_active_campaigns_run(merchant, template):
    campaign = make(merchant, template)
    campaign_pause(campaign=campaign)
    with pytest.raises(Conflict) as err:
        campaign_run(campaign=campaign, now=NOW)
    assert err.value.message == ERR_NOT_ACTIVE
    assert campaigns_run_due(merchant=merchant, now=NOW) == []


def test_an_audience_narrows_who_a_campaign_reaches(merchant, template):
    women = consenting_customer(merchant, gender="F")
    consenting_customer(merchant, gender="M")
    audience = audience_create(merchant=merchant, name="Ibu-ibu", filters={"gender": "F"})
    campaign = make(merchant, template, audience=audience)
    campaign_run(campaign=campaign, now=NOW)
    assert list(Recipient.objects.values_list("customer_id", flat=True)) == [women.pk]


def test_another_merchants_template_or_audience_is_refused(merchant, template):
    other = MerchantFactory()
    with pytest.raises(InvalidInput):
        campaign_create(
            merchant=other, name="x", kind="broadcast", channel="sms", template=template
        )


def test_preview_renders_a_real_customer_in_either_language(merchant, template):
    budi = CustomerFactory(
        merchant=merchant, full_name="Budi Santoso", gender="M", birth_date=date(1970, 1, 1)
    )
    campaign = make(merchant, template)
    assert message_preview(campaign=campaign, customer=budi, now=NOW).body.startswith(
        "Halo Pak Budi! Mau menu favoritmu lagi?"
    )
    english = message_preview(campaign=campaign, customer=budi, language="en", now=NOW)
    assert english.body.startswith("Hi Pak Budi! Fancy your favourite again?")
    assert "Reply STOP" in english.body


def test_email_messages_carry_an_opt_out_link(merchant):
    template = template_create(
        merchant=merchant, name="Surat", subject_id="Promo {merchant}", body_id="Halo {salutation}"
    )
    consenting_customer(merchant, channel="email", email="rina@example.id")
    campaign = make(merchant, template, channel="email")
    campaign_run(campaign=campaign, now=NOW)
    message = Message.objects.get()
    assert message.subject == f"Promo {merchant.name}"
    assert "/c/optout/" in message.body and message.to == "rina@example.id"


def test_an_english_campaign_sends_the_english_text(merchant, template):
    consenting_customer(merchant, full_name="Ana Lee")
    campaign = make(merchant, template, language="en")
    campaign_run(campaign=campaign, now=NOW)
    message = Message.objects.get()
    assert message.language == "en"
    assert message.body.startswith("Hi Kak Ana! Fancy your favourite again?")
    assert "Reply STOP" in message.body


def test_winback_leaves_out_customers_gone_for_more_than_a_year(merchant, template):
    lapsing = consenting_customer(merchant)
    insight_for(lapsing, lifecycle="lapsed", last_purchase=NOW - timedelta(days=90))
    lost = consenting_customer(merchant)
    insight_for(lost, lifecycle="lapsed", last_purchase=NOW - timedelta(days=400))
    campaign = make(merchant, template, kind="winback")
    campaign_run(campaign=campaign, now=NOW)
    assert list(Recipient.objects.values_list("customer_id", flat=True)) == [lapsing.pk]


def test_an_opt_out_reply_finds_the_customer_from_any_phone_form(merchant):
    from langganan.campaigns.guardrails import consented
    from langganan.campaigns.optout import opt_out_by_address

    for form in ("081234567890", "6281234567890", "+6281234567890"):
        customer = consenting_customer(merchant, phone="+6281234567890")
        assert (
            opt_out_by_address(
                merchant_id=merchant.pk, channel="whatsapp", address=form, source="reply STOP"
            )
            == 1
        )
        assert not consented(customer=customer, channel="whatsapp")
        customer.delete()
