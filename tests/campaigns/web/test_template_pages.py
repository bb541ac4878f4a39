"""Message templates: list, create (errors on the form), detail with a real customer's preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.campaigns.models import MessageTemplate
from tests.campaigns.roi.factories import TemplateFactory
from tests.factories import CustomerFactory, MerchantFactory
from tests.web.helpers import log_in_member

pytestmark = pytest.mark.django_db


def url(name, merchant, **kwargs):
    return reverse(f"campaigns_web:{name}", kwargs={"slug": merchant.slug, **kwargs})


def test_list_shows_templates(client, merchant, member):
    TemplateFactory(merchant=merchant, name="Sapa pagi")

    response = client.get(url("template_list", merchant))

    assert response.status_code == 200
    assert "Sapa pagi" in response.content.decode()
    assert "Template pesan" in response.content.decode()


def test_create_form_renders(client, merchant, member):
    response = client.get(url("template_create", merchant))

    assert response.status_code == 200
    assert "{salutation}" in response.content.decode()


def test_the_create_form_says_what_the_usual_order_and_usual_outlet_fields_say(
    client, merchant, member
):
    page = client.get(url("template_create", merchant)).content.decode()
    assert "{usual_order}" in page and "{usual_outlet}" in page
    assert "menu favoritmu" in page and "paling sering ia kunjungi" in page


def test_create_saves_and_goes_to_the_preview(client, merchant, member):
    response = client.post(
        url("template_create", merchant),
        {"name": "Kangen", "body_id": "Halo {salutation}, kami kangen!", "body_en": "Hi!"},
    )

    template = MessageTemplate.objects.get(merchant=merchant, name="Kangen")
    assert response.status_code == 302
    assert response["Location"] == url("template_detail", merchant, pk=template.pk)


def test_create_refuses_an_unknown_field_on_the_form(client, merchant, member):
    response = client.post(
        url("template_create", merchant), {"name": "Typo", "body_id": "Halo {nmae}!"}
    )

    assert response.status_code == 400
    assert "Unknown field(s) in the template: {nmae}" in response.content.decode()
    assert not MessageTemplate.objects.filter(name="Typo").exists()


def test_create_needs_a_message(client, merchant, member):
    response = client.post(url("template_create", merchant), {"name": "Kosong"})

    assert response.status_code == 400
    assert response.context["form"].errors["body_id"]


def test_detail_previews_for_a_real_customer(client, merchant, member):
    template = TemplateFactory(merchant=merchant, body_id="Halo {salutation}! Mampir ya.")
    customer = CustomerFactory(merchant=merchant, full_name="Dewi Lestari")

    response = client.get(
        url("template_detail", merchant, pk=template.pk), {"customer": customer.pk}
    )

    assert response.status_code == 200
    body = response.context["preview"].body
    assert "Dewi" in body
    assert "{" not in body
    assert "BERHENTI" in body  # the opt-out line is always there


def test_detail_previews_in_english(client, merchant, member):
    template = TemplateFactory(merchant=merchant, body_en="Hi {salutation}!")
    customer = CustomerFactory(merchant=merchant, full_name="Dewi Lestari")

    response = client.get(
        url("template_detail", merchant, pk=template.pk),
        {"customer": customer.pk, "language": "en"},
    )

    assert "STOP" in response.context["preview"].body


def test_cashier_cannot_create(client, merchant):
    log_in_member(client, merchant, role="cashier")

    assert client.get(url("template_create", merchant)).status_code == 403


def test_another_merchants_template_is_404(client, merchant, member):
    foreign = TemplateFactory(merchant=MerchantFactory())

    assert client.get(url("template_detail", merchant, pk=foreign.pk)).status_code == 404
    assert client.get(url("template_list", foreign.merchant)).status_code == 404


@pytest.mark.parametrize("name", ["template_list", "template_create"])
def test_anonymous_is_sent_to_login(client, merchant, name):
    response = client.get(url(name, merchant))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
