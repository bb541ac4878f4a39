"""Campaign pages: list with counts, detail with the ROI report, create, activate, preview."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from langganan.campaigns.models import Campaign
from langganan.campaigns.services import ERR_NAME_TAKEN
from tests.campaigns.roi.factories import (
    AudienceFactory,
    CampaignFactory,
    ChannelAccountFactory,
    MessageFactory,
    RecipientFactory,
    TemplateFactory,
)
from tests.factories import CustomerFactory, MerchantFactory, OutletFactory, TransactionFactory
from tests.web.helpers import log_in_member

pytestmark = pytest.mark.django_db


def url(name, merchant, **kwargs):
    return reverse(f"campaigns_web:{name}", kwargs={"slug": merchant.slug, **kwargs})


@pytest.fixture
def campaign(merchant):
    """A win-back with 3 treated (2 messages sent, 1 buyer) and 1 held out."""
    ChannelAccountFactory(merchant=merchant, channel="whatsapp", price_per_message="350")
    campaign = CampaignFactory(merchant=merchant, name="Kangen Kamu", kind="winback")
    assigned = timezone.now() - timedelta(days=3)
    treated = [RecipientFactory(campaign=campaign, assigned_at=assigned) for _ in range(3)]
    RecipientFactory(campaign=campaign, group="holdout", assigned_at=assigned)
    MessageFactory(recipient=treated[0], status="delivered", body="Halo Kak Rina, kami kangen!")
    MessageFactory(recipient=treated[1], status="read")
    MessageFactory(recipient=treated[2], status="failed")
    TransactionFactory(
        merchant=merchant,
        outlet=OutletFactory(merchant=merchant),
        customer=treated[0].customer,
        occurred_at=assigned + timedelta(days=1),
        total=Decimal("45000"),
    )
    return campaign


def test_list_shows_counts_and_conversion(client, merchant, member, campaign):
    response = client.get(url("campaign_list", merchant))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kangen Kamu" in html
    assert "Kampanye" in html  # Indonesian first
    assert "33%" in html  # 1 of 3 treated bought
    assert "0%" in html
    row = response.context["rows"][0]
    assert (row[0].treated, row[0].holdout, row[0].sent) == (3, 1, 2)


def test_list_queries_do_not_grow_with_campaigns(
    client, merchant, member, campaign, django_assert_max_num_queries
):
    for _ in range(5):
        other = CampaignFactory(merchant=merchant, attribution_days=7)
        MessageFactory(recipient=RecipientFactory(campaign=other))
    with django_assert_max_num_queries(10):
        response = client.get(url("campaign_list", merchant))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 6


def test_detail_shows_the_report(client, merchant, member, campaign):
    response = client.get(url("campaign_detail", merchant, pk=campaign.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sementara" in html  # the window is still open: provisional
    assert "Rp 700" in html  # 2 messages × Rp 350
    assert "Rp 45.000" in html
    assert "Kami kangen" in html or "kami kangen" in html
    report = response.context["report"]
    assert report.treated.n == 3
    assert report.cost.total == Decimal("700")
    assert report.incremental_revenue == Decimal("45000")


def test_the_report_shows_phone_numbers_as_the_customer_list_does(
    client, merchant, member, campaign
):
    """One display format everywhere (issue 20, point 7): 0812-3456-7890, never +62…"""
    from langganan.campaigns.models import Message
    from langganan.core.phones import format_phone

    html = client.get(url("campaign_detail", merchant, pk=campaign.pk)).content.decode()

    phones = [m.to for m in Message.objects.filter(campaign=campaign) if m.to.startswith("+62")]
    assert phones
    for phone in phones:
        assert phone not in html
        assert format_phone(phone) in html


def test_owner_sees_activate_and_cashier_not_even_the_campaign(client, merchant, campaign):
    log_in_member(client, merchant, role="cashier")
    response = client.get(url("campaign_detail", merchant, pk=campaign.pk))
    assert response.status_code == 403
    html = response.content.decode()
    assert url("campaign_activate", merchant, pk=campaign.pk) not in html
    assert "Kami kangen" not in html

    log_in_member(client, merchant, role="owner")
    html = client.get(url("campaign_detail", merchant, pk=campaign.pk)).content.decode()
    assert url("campaign_activate", merchant, pk=campaign.pk) in html


def test_activate_then_pause(client, merchant, member, campaign):
    response = client.post(url("campaign_activate", merchant, pk=campaign.pk))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert campaign.started_at is not None

    client.post(url("campaign_pause", merchant, pk=campaign.pk))
    campaign.refresh_from_db()
    assert campaign.status == "paused"


def test_activate_needs_post_and_a_manager(client, merchant, campaign):
    log_in_member(client, merchant, role="manager")
    assert client.get(url("campaign_activate", merchant, pk=campaign.pk)).status_code == 405

    log_in_member(client, merchant, role="cashier")
    assert client.get(url("campaign_activate", merchant, pk=campaign.pk)).status_code == 403
    assert client.post(url("campaign_activate", merchant, pk=campaign.pk)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_manager_may_activate(client, merchant, campaign):
    log_in_member(client, merchant, role="manager")

    client.post(url("campaign_activate", merchant, pk=campaign.pk))

    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_preview_with_a_chosen_customer(client, merchant, member, campaign):
    customer = CustomerFactory(merchant=merchant, full_name="Rina Wati")

    response = client.get(
        url("campaign_preview", merchant, pk=campaign.pk), {"customer": customer.pk}
    )

    assert response.status_code == 200
    assert "Rina" in response.context["preview"].body
    assert "Rina" in response.content.decode()


def test_preview_by_search_takes_the_first_match(client, merchant, member, campaign):
    CustomerFactory(merchant=merchant, full_name="Budi Santoso")

    response = client.get(url("campaign_preview", merchant, pk=campaign.pk), {"q": "budi"})

    assert response.status_code == 200
    assert response.context["preview_customer"].full_name == "Budi Santoso"


def test_preview_with_another_merchants_customer_is_404(client, merchant, member, campaign):
    stranger = CustomerFactory(merchant=MerchantFactory())

    response = client.get(
        url("campaign_preview", merchant, pk=campaign.pk), {"customer": stranger.pk}
    )

    assert response.status_code == 404


def test_create_form_renders(client, merchant, member):
    TemplateFactory(merchant=merchant, name="Sapa")

    response = client.get(url("campaign_create", merchant))

    assert response.status_code == 200
    assert "Sapa" in response.content.decode()


def form_data(template, **overrides):
    data = {
        "name": "Ulang Tahun",
        "kind": "birthday",
        "channel": "whatsapp",
        "language": "id",
        "template": template.pk,
        "voucher_valid_days": "14",
        "bonus_points": "50",
        "days_before": "3",
        "holdout_percent": "10",
        "attribution_days": "14",
    }
    data.update(overrides)
    return data


def test_create_saves_a_draft(client, merchant, member):
    template = TemplateFactory(merchant=merchant)
    audience = AudienceFactory(merchant=merchant)

    response = client.post(
        url("campaign_create", merchant), form_data(template, audience=audience.pk)
    )

    campaign = Campaign.objects.get(merchant=merchant, name="Ulang Tahun")
    assert response.status_code == 302
    assert response["Location"] == url("campaign_detail", merchant, pk=campaign.pk)
    assert (campaign.kind, campaign.status, campaign.audience) == ("birthday", "draft", audience)
    assert (campaign.bonus_points, campaign.days_before) == (50, 3)
    assert campaign.holdout_percent == Decimal("10")


def test_the_form_speaks_indonesian_dates_and_names_vouchers_by_what_they_give(
    client, merchant, member
):
    """Issue 20, points 6 and 8: no mm/dd/yyyy, no voucher codes in the form."""
    from langganan.loyalty.models import Voucher

    template = TemplateFactory(merchant=merchant)
    Voucher.objects.create(
        merchant=merchant,
        code="TPL-ULTAH",
        name="Ulang tahun: potongan Rp 15.000",
        is_template=True,
        value=Decimal("15000"),
    )

    page = client.get(url("campaign_create", merchant)).content.decode()

    assert "Ulang tahun: potongan Rp 15.000" in page
    assert "TPL-ULTAH" not in page
    assert 'type="datetime-local"' not in page
    assert 'placeholder="31/12/2026 09:00"' in page

    client.post(
        url("campaign_create", merchant),
        form_data(template, name="Siaran", kind="broadcast", send_at="05/01/2027 09:30"),
    )
    campaign = Campaign.objects.get(merchant=merchant, name="Siaran")
    local = timezone.localtime(campaign.send_at, ZoneInfo("Asia/Jakarta"))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2027, 1, 5, 9, 30)


def test_create_shows_domain_errors_on_the_form(client, merchant, member):
    template = TemplateFactory(merchant=merchant)
    CampaignFactory(merchant=merchant, name="Ulang Tahun")

    taken = client.post(url("campaign_create", merchant), form_data(template))
    no_holiday = client.post(
        url("campaign_create", merchant), form_data(template, name="Lebaran", kind="holiday")
    )

    assert taken.status_code == 400
    assert ERR_NAME_TAKEN.format(what="campaign") in taken.content.decode()
    assert no_holiday.status_code == 400
    assert "A holiday campaign needs a holiday." in no_holiday.content.decode()
    assert not Campaign.objects.filter(name="Lebaran").exists()


def test_create_shows_field_errors(client, merchant, member):
    template = TemplateFactory(merchant=merchant)

    response = client.post(
        url("campaign_create", merchant), form_data(template, holdout_percent="100")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["holdout_percent"]


def test_create_offers_only_this_merchants_templates(client, merchant, member):
    foreign = TemplateFactory(merchant=MerchantFactory())

    response = client.post(url("campaign_create", merchant), form_data(foreign))

    assert response.status_code == 400
    assert "template" in response.context["form"].errors


def test_cashier_cannot_create(client, merchant):
    log_in_member(client, merchant, role="cashier")

    assert client.get(url("campaign_create", merchant)).status_code == 403


@pytest.mark.parametrize(
    "name", ["campaign_detail", "campaign_preview", "campaign_activate", "campaign_pause"]
)
def test_another_merchants_campaign_is_404(client, merchant, member, name):
    foreign = CampaignFactory(merchant=MerchantFactory())

    response = client.post(url(name, merchant, pk=foreign.pk))
    if name in ("campaign_detail", "campaign_preview"):
        response = client.get(url(name, merchant, pk=foreign.pk))

    assert response.status_code == 404
    assert client.get(url("campaign_list", foreign.merchant)).status_code == 404


@pytest.mark.parametrize("name", ["campaign_list", "campaign_create"])
def test_anonymous_is_sent_to_login(client, merchant, name):
    response = client.get(url(name, merchant))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_anonymous_detail_is_sent_to_login(client, merchant, campaign):
    response = client.get(url("campaign_detail", merchant, pk=campaign.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_a_manual_whatsapp_campaign_links_to_its_wa_me_list(client, merchant):
    from django.urls import reverse

    from langganan.campaigns.services import campaign_create, template_create
    from tests.factories import MembershipFactory

    membership = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(membership.user)
    template = template_create(merchant=merchant, name="Pengingat", body_id="Halo {salutation}")
    campaign = campaign_create(
        merchant=merchant,
        name="Manual",
        kind="reminder",
        channel="whatsapp",
        template=template,
        manual_whatsapp=True,
    )
    page = client.get(
        reverse("campaigns_web:campaign_detail", args=[merchant.slug, campaign.pk])
    ).content.decode()
    manual = reverse("campaigns:manual_list", args=[merchant.slug])
    assert f'href="{manual}?campaign={campaign.pk}"' in page
