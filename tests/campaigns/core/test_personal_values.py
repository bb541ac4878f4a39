"""What a message knows of its customer: her usual order and her own outlet, read from her sales
when the message is rendered, with the fallbacks only when nothing is known."""

from __future__ import annotations

from datetime import timedelta

import pytest

from langganan.campaigns.models import Campaign, MessageTemplate
from langganan.campaigns.personalise import customer_values, usual_order_text
from langganan.campaigns.templating import FIELD_HELP, FIELDS, field_help, render_text
from tests.factories import CustomerFactory, LineItemFactory, OutletFactory, TransactionFactory

from .conftest import NOW, insight_for

pytestmark = pytest.mark.django_db

BODY = "Halo {salutation}! Mau {usual_order} lagi? Kami tunggu di {usual_outlet} ya."


@pytest.fixture
def outlets(merchant):
    return {
        "sudirman": OutletFactory(merchant=merchant, code="JKT-01", name="Sudirman"),
        "kemang": OutletFactory(merchant=merchant, code="JKT-02", name="Kemang"),
    }


@pytest.fixture
def campaign(merchant):
    template = MessageTemplate.objects.create(merchant=merchant, name="Pengingat", body_id=BODY)
    return Campaign.objects.create(
        merchant=merchant, name="Pengingat", kind="reminder", channel="whatsapp", template=template
    )


def visit(customer, outlet, days_ago: int, *items: str):
    sale = TransactionFactory(
        merchant=customer.merchant,
        outlet=outlet,
        customer=customer,
        occurred_at=NOW - timedelta(days=days_ago),
    )
    for item in items:
        LineItemFactory(transaction=sale, product_name=item)
    return sale


def values_of(campaign, customer, language="id"):
    return customer_values(campaign=campaign, customers=[customer], now=NOW, language=language)[
        customer.pk
    ]


def test_the_usual_order_names_the_item_bought_most_often(campaign, outlets):
    rina = CustomerFactory(merchant=campaign.merchant, full_name="Rina Wati", greeting="Mbak")
    for days in (30, 20, 10, 5):
        visit(rina, outlets["kemang"], days, "Es Kopi Susu", *(["Roti Bakar"] if days < 15 else []))
    values = values_of(campaign, rina)
    assert values["usual_order"] == "Es Kopi Susu"
    assert (
        render_text(BODY, values)
        == "Halo Mbak Rina! Mau Es Kopi Susu lagi? Kami tunggu di Kemang ya."
    )


def test_items_bought_equally_often_are_named_as_either(campaign, outlets):
    rina = CustomerFactory(merchant=campaign.merchant)
    for days in (30, 20, 10):
        visit(rina, outlets["kemang"], days, "Es Kopi Susu", "Teh Manis")
    assert values_of(campaign, rina)["usual_order"] == "Es Kopi Susu atau Teh Manis"
    assert values_of(campaign, rina, "en")["usual_order"] == "Es Kopi Susu or Teh Manis"


def test_without_enough_evidence_the_usual_order_falls_back_to_menu_favoritmu(campaign, outlets):
    new = CustomerFactory(merchant=campaign.merchant)
    visit(new, outlets["kemang"], 10, "Es Kopi Susu")
    visit(new, outlets["kemang"], 5, "Es Kopi Susu")  # two orders: too few to call it usual
    scattered = CustomerFactory(merchant=campaign.merchant)
    for days, item in ((30, "A"), (20, "B"), (10, "C"), (5, "D")):
        visit(scattered, outlets["kemang"], days, item)  # no item twice
    for customer in (new, scattered):
        values = values_of(campaign, customer)
        assert values["usual_order"] == ""
        assert "Mau menu favoritmu lagi?" in render_text(BODY, values)


def test_the_usual_order_is_read_from_sales_the_last_analysis_has_not_seen(campaign, outlets):
    rina = CustomerFactory(merchant=campaign.merchant)
    insight_for(rina, usual_order=[])  # analysed when she had too few orders
    for days in (3, 2, 1):
        visit(rina, outlets["kemang"], days, "Kopi Tubruk")
    assert values_of(campaign, rina)["usual_order"] == "Kopi Tubruk"


def test_a_customer_without_line_items_keeps_the_stored_usual_order(campaign):
    rina = CustomerFactory(merchant=campaign.merchant)
    insight_for(rina, usual_order=[{"item": "Es Teh", "rank": 1, "times": 3, "share": 1.0}])
    assert values_of(campaign, rina)["usual_order"] == "Es Teh"


def test_sales_after_the_moment_of_rendering_are_not_known_yet(campaign, outlets):
    rina = CustomerFactory(merchant=campaign.merchant)
    for days in (-1, -2, -3):  # after NOW
        visit(rina, outlets["kemang"], days, "Es Kopi Susu")
    values = values_of(campaign, rina)
    assert values["usual_order"] == "" and values["usual_outlet"] == "Sudirman"


def test_the_stored_usual_order_text_follows_the_ranks():
    tie = [
        {"item": "Es Kopi Susu", "rank": 1, "times": 4, "share": 0.8},
        {"item": "Teh Manis", "rank": 1, "times": 4, "share": 0.8},
        {"item": "Roti Bakar", "rank": 2, "times": 2, "share": 0.4},
    ]
    assert usual_order_text(tie) == "Es Kopi Susu atau Teh Manis"
    three = [{"item": x, "rank": 1, "times": 3} for x in ("A", "B", "C")]
    assert usual_order_text(three) == "A, B atau C"
    unranked = [{"item": "Kopi", "times": 2}, {"item": "Teh", "times": 5}]
    assert usual_order_text(unranked) == "Teh"
    assert usual_order_text([]) == usual_order_text(None) == ""


def test_the_usual_outlet_is_where_most_visits_were(campaign, outlets):
    dewi = CustomerFactory(merchant=campaign.merchant)
    visit(dewi, outlets["sudirman"], 1, "Kopi")  # the latest, but only one of three
    visit(dewi, outlets["kemang"], 20, "Kopi")
    visit(dewi, outlets["kemang"], 10, "Kopi")
    values = values_of(campaign, dewi)
    assert values["usual_outlet"] == values["outlet"] == "Kemang"


def test_an_outlet_tie_goes_to_the_one_visited_last(campaign, outlets):
    dewi = CustomerFactory(merchant=campaign.merchant)
    visit(dewi, outlets["kemang"], 30, "Kopi")
    visit(dewi, outlets["sudirman"], 20, "Kopi")
    visit(dewi, outlets["kemang"], 10)
    visit(dewi, outlets["sudirman"], 5)
    assert values_of(campaign, dewi)["usual_outlet"] == "Sudirman"


def test_a_closed_outlet_is_not_named(campaign, outlets):
    dewi = CustomerFactory(merchant=campaign.merchant)
    visit(dewi, outlets["kemang"], 30, "Kopi")
    visit(dewi, outlets["kemang"], 20, "Kopi")
    visit(dewi, outlets["sudirman"], 10, "Kopi")
    outlets["kemang"].is_active = False
    outlets["kemang"].save()
    assert values_of(campaign, dewi)["usual_outlet"] == "Sudirman"


def test_a_customer_who_never_visited_gets_the_merchants_first_outlet(campaign, outlets):
    nobody = CustomerFactory(merchant=campaign.merchant)
    values = values_of(campaign, nobody)
    assert values["usual_outlet"] == values["outlet"] == "Sudirman"


def test_a_campaigns_own_outlet_is_its_outlet_field_but_not_the_usual_outlet(campaign, outlets):
    campaign.outlet = outlets["sudirman"]
    campaign.save()
    dewi = CustomerFactory(merchant=campaign.merchant)
    visit(dewi, outlets["kemang"], 10, "Kopi")
    values = values_of(campaign, dewi)
    assert (values["outlet"], values["usual_outlet"]) == ("Sudirman", "Kemang")


def test_an_old_template_with_outlet_names_the_customers_own_outlet(campaign, outlets):
    campaign.template.body_id = "Kami tunggu di {outlet} ya."
    campaign.template.save()
    dewi = CustomerFactory(merchant=campaign.merchant)
    visit(dewi, outlets["kemang"], 10, "Kopi")
    assert values_of(campaign, dewi)["outlet"] == "Kemang"


def test_every_field_is_described_for_the_template_form():
    assert set(FIELD_HELP) == set(FIELDS)
    assert [name for name, _help in field_help("en")] == list(FIELDS)
    assert "menu favoritmu" in dict(field_help("id"))["usual_order"]
