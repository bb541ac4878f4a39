"""The audience builder: live count and sample from GET, save and edit with POST."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.campaigns.models import Audience
from langganan.campaigns.services import ERR_NAME_TAKEN
from langganan.insights.models import InsightRun
from tests.campaigns.core.conftest import insight_for
from tests.campaigns.roi.factories import AudienceFactory
from tests.factories import CustomerFactory, MerchantFactory
from tests.web.helpers import log_in_member

pytestmark = pytest.mark.django_db


def url(name, merchant, **kwargs):
    return reverse(f"campaigns_web:{name}", kwargs={"slug": merchant.slug, **kwargs})


@pytest.fixture
def customers(merchant):
    """Twelve customers in Bandung, three in Jakarta; two of the Bandung ones scored lapsed."""
    bandung = [CustomerFactory(merchant=merchant, city="Bandung") for _ in range(12)]
    jakarta = [CustomerFactory(merchant=merchant, city="Jakarta") for _ in range(3)]
    run = InsightRun.objects.create(merchant=merchant, status="done")
    for customer in bandung[:2]:
        insight_for(customer, run=run, segment="hibernating", lifecycle="lapsed")
    return bandung, jakarta


def test_builder_renders_with_indonesian_labels(client, merchant, member, customers):
    response = client.get(url("audience_create", merchant))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Tidur" in html  # lifecycle stage "lapsed"
    assert "Juara" in html  # segment "champions"
    assert response.context["count"] == 15  # no filter: everyone


def test_get_with_filters_shows_the_count_and_ten_customers(client, merchant, member, customers):
    response = client.get(url("audience_create", merchant), {"cities": "bandung"})

    assert response.status_code == 200
    assert response.context["count"] == 12
    assert len(response.context["sample"]) == 10
    assert "12 pelanggan" in response.content.decode()


def test_get_with_a_lifecycle_filter(client, merchant, member, customers):
    response = client.get(url("audience_create", merchant), {"lifecycle": ["lapsed"]})

    assert response.context["count"] == 2
    assert {c.pk for c in response.context["sample"]} == {c.pk for c in customers[0][:2]}


def test_bad_filter_values_show_errors_not_a_count(client, merchant, member, customers):
    response = client.get(url("audience_create", merchant), {"birthday_within_days": "99"})

    assert response.status_code == 400
    assert response.context["count"] is None
    assert response.context["form"].errors["birthday_within_days"]


def test_save_creates_the_audience(client, merchant, member, customers):
    response = client.post(
        url("audience_create", merchant), {"name": "Bandung tidur", "cities": "Bandung"}
    )

    assert response.status_code == 302
    audience = Audience.objects.get(merchant=merchant, name="Bandung tidur")
    assert audience.filters == {"cities": ["Bandung"]}


def test_save_needs_a_name_and_a_free_one(client, merchant, member):
    AudienceFactory(merchant=merchant, name="Semua")

    nameless = client.post(url("audience_create", merchant), {"cities": "Bandung"})
    taken = client.post(url("audience_create", merchant), {"name": "Semua", "gender": "F"})

    assert nameless.status_code == 400
    assert nameless.context["form"].errors["name"]
    assert taken.status_code == 400
    assert ERR_NAME_TAKEN.format(what="audience") in taken.content.decode()
    assert Audience.objects.filter(merchant=merchant).count() == 1


def test_edit_shows_the_saved_filters_and_updates_them(client, merchant, member, customers):
    audience = AudienceFactory(merchant=merchant, name="Kota", filters={"cities": ["Jakarta"]})

    page = client.get(url("audience_edit", merchant, pk=audience.pk))
    saved = client.post(
        url("audience_edit", merchant, pk=audience.pk), {"name": "Kota", "cities": "Bandung"}
    )

    assert page.status_code == 200
    assert page.context["count"] == 3
    assert 'value="Jakarta"' in page.content.decode()
    assert saved.status_code == 302
    audience.refresh_from_db()
    assert audience.filters == {"cities": ["Bandung"]}


def test_list_shows_audiences(client, merchant, member):
    AudienceFactory(merchant=merchant, name="Pelanggan tidur")

    response = client.get(url("audience_list", merchant))

    assert response.status_code == 200
    assert "Pelanggan tidur" in response.content.decode()


def test_cashier_may_neither_count_nor_see_a_sample_nor_save(client, merchant, customers):
    log_in_member(client, merchant, role="cashier")

    response = client.get(url("audience_create", merchant), {"cities": "Jakarta"})
    assert response.status_code == 403
    assert "sample" not in (response.context or {})
    response = client.post(url("audience_create", merchant), {"name": "X", "cities": "Jakarta"})
    assert response.status_code == 403


def test_another_merchants_audience_is_404(client, merchant, member):
    foreign = AudienceFactory(merchant=MerchantFactory())

    assert client.get(url("audience_edit", merchant, pk=foreign.pk)).status_code == 404
    assert client.get(url("audience_list", foreign.merchant)).status_code == 404
    assert client.get(url("audience_create", foreign.merchant)).status_code == 404


@pytest.mark.parametrize("name", ["audience_list", "audience_create"])
def test_anonymous_is_sent_to_login(client, merchant, name):
    response = client.get(url(name, merchant))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_the_list_names_each_audiences_filters_in_words_and_counts_it(client, merchant, member):
    """Issue 20, point 6: no raw filter key (``lifecycle``) and a customer count."""
    from langganan.campaigns.models import Audience
    from tests.campaigns.core.conftest import insight_for
    from tests.factories import CustomerFactory

    for stage in ("lapsed", "lapsed", "loyal"):
        insight_for(CustomerFactory(merchant=merchant), lifecycle=stage, p_alive=0.5)
    Audience.objects.create(merchant=merchant, name="Tidur", filters={"lifecycle": ["lapsed"]})

    response = client.get(reverse("campaigns_web:audience_list", args=[merchant.slug]))

    html = response.content.decode()
    assert "<code>lifecycle</code>" not in html
    assert "Tidur</strong>" in html
    assert [a.size for a in response.context["audiences"]] == [2]
