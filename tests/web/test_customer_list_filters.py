"""The customer list's filters, sort, export and "save as an audience" (issue 17, point 2).

The list of any filter is exactly the audience of that filter (so a count on the overview that
links here, a saved audience and a campaign's recipients are one set); it sorts by any column;
its export holds exactly its rows, is the owner's and is audited; another merchant's list,
export and audiences are a 404.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from langganan.campaigns.audiences import audience_ids
from langganan.campaigns.models import Audience
from langganan.customers.listing import list_query
from langganan.loyalty.models import Member
from langganan.privacy.models import AuditEvent
from tests.campaigns.core.conftest import insight_for
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def list_url(merchant) -> str:
    return reverse("customers:customer_list", kwargs={"slug": merchant.slug})


def export_url(merchant, fmt: str, filters: dict, **extra) -> str:
    url = reverse("customers:customer_list_export", kwargs={"slug": merchant.slug, "fmt": fmt})
    return f"{url}?{list_query(filters, **extra)}"


@pytest.fixture
def shop(merchant):
    """Twelve customers of ``merchant`` across the six stages, members or not, two cities."""
    people = {}
    rows = [
        ("Ani", "loyal", 0.95, "champions", Decimal("900000"), "Jakarta", {"30": "loyal"}),
        ("Budi", "loyal", 0.9, "loyal", Decimal("700000"), "Bandung", {"30": "active"}),
        ("Citra", "at_risk", 0.5, "at_risk", Decimal("300000"), "Jakarta", {"30": "loyal"}),
        ("Dedi", "at_risk", 0.45, "at_risk", Decimal("250000"), "Jakarta", {"30": "active"}),
        ("Eka", "lapsed", 0.3, "hibernating", Decimal("90000"), "Bandung", {"30": "loyal"}),
        ("Fajar", "lapsed", 0.02, "lost", Decimal("10000"), "Jakarta", {"30": "lapsed"}),
        ("Gita", "new", 0.99, "new", Decimal("120000"), "Jakarta", {}),
        ("Hadi", "active", 0.8, "potential_loyalist", Decimal("400000"), "Bandung", {"30": "new"}),
        ("Indah", "active", 0.85, "potential_loyalist", None, "Jakarta", {"30": "active"}),
        ("Joko", "lapsed", 0.04, "lost", Decimal("5000"), "Bandung", {"30": "at_risk"}),
        ("Kiki", "loyal", 0.97, "champions", Decimal("1200000"), "Jakarta", {"30": "loyal"}),
    ]
    for name, stage, p_alive, segment, clv, city, before in rows:
        customer = CustomerFactory(merchant=merchant, full_name=name, city=city)
        insight_for(
            customer,
            lifecycle=stage,
            p_alive=p_alive,
            segment=segment,
            clv=clv,
            stages_before=before,
        )
        people[name] = customer
    # one customer the analysis has not seen yet
    people["Lina"] = CustomerFactory(merchant=merchant, full_name="Lina", city="Jakarta")
    for name in ("Ani", "Citra", "Kiki", "Lina"):
        Member.objects.create(merchant=merchant, customer=people[name], referral_code=f"R{name}")
    return people


def shown(client, merchant, filters: dict, **extra) -> list[str]:
    response = client.get(f"{list_url(merchant)}?{list_query(filters, **extra)}")
    assert response.status_code == 200, response.content.decode()[:500]
    return [c.full_name for c in response.context["customers"]]


FILTERS = [
    {"stage": ["loyal"]},
    {"stage": ["lost"]},
    {"stage": ["lapsed"]},
    {"stage": ["at_risk", "lapsed", "lost"]},
    {"moved_from": "loyal", "stage": ["at_risk"], "period": 30},
    {"moved_from": "loyal", "period": 30},
    {"segments": ["champions", "potential_loyalist"]},
    {"member": True},
    {"member": False, "cities": ["Jakarta"]},
    {"clv_min": "250000", "clv_max": "700000"},
    {"p_alive_max": "0.5"},
    {},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: list_query(f) or "all")
def test_the_list_of_a_filter_is_exactly_its_audience(client, member, merchant, shop, filters):
    expected = {
        c.full_name
        for c in shop.values()
        if c.pk in set(audience_ids(merchant=merchant, filters=filters))
    }
    names = shown(client, merchant, filters)

    assert set(names) == expected
    assert len(names) == len(expected)  # each once
    response = client.get(f"{list_url(merchant)}?{list_query(filters)}")
    assert response.context["page_obj"].paginator.count == len(expected)


def test_each_filter_keeps_the_customers_an_owner_expects(client, member, merchant, shop):
    assert set(shown(client, merchant, {"stage": ["lost"]})) == {"Fajar", "Joko"}
    assert set(shown(client, merchant, {"stage": ["lapsed"]})) == {"Eka"}
    moved = {"moved_from": "loyal", "stage": ["at_risk"], "period": 30}
    assert shown(client, merchant, moved) == ["Citra"]
    assert set(shown(client, merchant, {"member": True})) == {"Ani", "Citra", "Kiki", "Lina"}


def test_the_overviews_link_keys_and_the_market_pages_keys_are_read(client, member, merchant, shop):
    # age bands and the market page's "bought in the last N days" arrive as these keys
    response = client.get(list_url(merchant) + "?last_purchase_days=30&stage=loyal")

    assert response.status_code == 200
    assert set(c.full_name for c in response.context["customers"]) == {"Ani", "Budi", "Kiki"}
    assert response.context["filters"]["last_purchase_max_days"] == 30


def test_sorting_by_a_column_and_back(client, member, merchant, shop):
    by_value = shown(client, merchant, {"stage": ["loyal"]}, sort="-clv")
    assert by_value == ["Kiki", "Ani", "Budi"]
    assert shown(client, merchant, {"stage": ["loyal"]}, sort="clv") == ["Budi", "Ani", "Kiki"]
    # no value sorts last both ways
    active = shown(client, merchant, {"stage": ["active"]}, sort="-clv")
    assert active == ["Hadi", "Indah"]
    assert shown(client, merchant, {"stage": ["active"]}, sort="clv") == ["Hadi", "Indah"]
    # an unknown sort is the name order, not an error
    assert shown(client, merchant, {"stage": ["loyal"]}, sort="password") == [
        "Ani",
        "Budi",
        "Kiki",
    ]


def test_a_header_sorts_and_a_second_click_reverses(client, member, merchant, shop):
    response = client.get(list_url(merchant) + "?stage=loyal")
    columns = {c["header"]: c for c in response.context["columns"]}
    value = columns["Nilai pelanggan"]
    assert "sort=-clv" in value["url"] and "stage=loyal" in value["url"]

    response = client.get(list_url(merchant) + value["url"])
    columns = {c["header"]: c for c in response.context["columns"]}
    assert columns["Nilai pelanggan"]["current"] == "descending"
    assert "sort=clv" in columns["Nilai pelanggan"]["url"]
    assert 'aria-sort="descending"' in response.content.decode()


def test_a_bad_filter_says_what_is_wrong_and_shows_nobody(client, member, merchant, shop):
    for query in ("stage=loyal&stage=bukan-tahap", "p_alive_min=2", "period=30&moved_from=x"):
        response = client.get(f"{list_url(merchant)}?{query}")

        assert response.status_code == 400, query
        assert response.context["customers"] == []
        html = response.content.decode()
        assert "tidak dapat dibaca" in html
        assert "Traceback" not in html


def test_chips_name_each_filter_and_remove_only_it(client, member, merchant, shop):
    response = client.get(list_url(merchant) + "?stage=loyal&stage=at_risk&member=1")
    chips = {(c.label, c.value): c for c in response.context["chips"]}

    assert set(chips) == {("Tahap", "Setia"), ("Tahap", "Berisiko"), ("Keanggotaan", "Member")}
    remove_loyal = chips[("Tahap", "Setia")].remove_url
    after = client.get(list_url(merchant) + remove_loyal)
    assert after.context["filters"] == {"stage": ["at_risk"], "member": True}


def test_the_export_holds_exactly_the_list_with_indonesian_headers_and_is_audited(
    client, member, merchant, shop
):
    shop["Ani"].full_name = "+cmd|' /C calc'!A0"
    shop["Ani"].save()
    filters = {"stage": ["loyal"]}

    response = client.post(export_url(merchant, "csv", filters, sort="-clv"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="pelanggan-')
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Nama", "Sapaan", "Telepon"]
    assert [r[0] for r in rows[1:]] == ["Kiki", "'+cmd|' /C calc'!A0", "Budi"]
    assert rows[1][6] == "Setia"
    event = AuditEvent.objects.get(merchant=merchant, action="export.table")
    assert event.detail["rows"] == 3
    assert event.detail["filters"] == ["stage"]
    assert event.user == member

    workbook = load_workbook(io.BytesIO(client.post(export_url(merchant, "xlsx", filters)).content))
    sheet = workbook.active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["Kiki", "'+cmd|' /C calc'!A0", "Budi"])
    assert AuditEvent.objects.filter(merchant=merchant, action="export.table").count() == 2


def test_only_the_owner_may_export_and_only_by_post(client, merchant, shop):
    manager = MembershipFactory(merchant=merchant, role="manager")
    client.force_login(manager.user)
    assert client.post(export_url(merchant, "csv", {})).status_code == 403
    owner = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(owner.user)
    assert client.get(export_url(merchant, "csv", {})).status_code == 405
    assert client.post(export_url(merchant, "pdf", {})).status_code == 404
    assert not AuditEvent.objects.filter(action="export.table").exists()


def test_another_merchants_list_export_and_audience_are_not_found(client, member, merchant, shop):
    other = MerchantFactory()
    CustomerFactory(merchant=other, full_name="Orang Lain")

    assert client.get(list_url(other) + "?stage=loyal").status_code == 404
    assert client.post(export_url(other, "csv", {"stage": ["loyal"]})).status_code == 404
    audience = Audience.objects.create(merchant=other, name="Mereka", filters={})
    create = reverse("campaigns_web:campaign_create", kwargs={"slug": merchant.slug})
    assert client.get(f"{create}?audience={audience.pk}").status_code == 404


def test_save_the_list_as_an_audience_then_write_a_campaign(client, member, merchant, shop):
    filters = {"moved_from": "loyal", "stage": ["at_risk", "lapsed"], "period": 30, "member": True}
    listed = set(shown(client, merchant, filters))
    create = reverse("campaigns_web:audience_create", kwargs={"slug": merchant.slug})

    builder = client.get(f"{create}?{list_query(filters)}&then=campaign")
    assert builder.status_code == 200
    assert builder.context["count"] == len(listed)

    params = dict(builder.context["save_params"])
    post = [
        *builder.context["save_params"],
        ("name", "Setia yang mulai jarang"),
        ("then", "campaign"),
    ]
    assert params["moved_from"] == "loyal"
    data: dict[str, list[str]] = {}
    for key, value in post:
        data.setdefault(key, []).append(value)
    response = client.post(create, data)

    audience = Audience.objects.get(merchant=merchant, name="Setia yang mulai jarang")
    assert audience.filters == {
        "moved_from": "loyal",
        "stage": ["at_risk", "lapsed"],
        "period": 30,
        "member": True,
    }
    saved = {
        c.full_name
        for c in shop.values()
        if c.pk in audience_ids(merchant=merchant, filters=audience.filters)
    }
    assert saved == listed == {"Citra"}
    assert response.status_code == 302
    assert response["Location"].endswith(f"/campaigns/new/?audience={audience.pk}")
    form = client.get(response["Location"]).context["form"]
    assert form["audience"].value() == audience.pk


def test_editing_a_saved_audience_keeps_the_new_keys(client, member, merchant, shop):
    audience = Audience.objects.create(
        merchant=merchant,
        name="Member Jakarta",
        filters={"member": True, "cities": ["Jakarta"], "age_min": "25", "age_max": "34"},
    )
    edit = reverse("campaigns_web:audience_edit", kwargs={"slug": merchant.slug, "pk": audience.pk})

    page = client.get(edit)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["member"].value() == "1"
    assert form["age_band"].value() == "25_34"
    assert page.context["count"] == len(audience_ids(merchant=merchant, filters=audience.filters))


def test_the_list_and_the_customers_page_name_a_stage_alike(client, member, merchant, shop):
    # a lapsed customer the model gives up on is "Hilang" everywhere, not "Tidur" on her page
    response = client.get(list_url(merchant) + "?stage=lost")
    html = response.content.decode()
    assert html.count('data-label="Tahap">Hilang</td>') == 2
    detail = reverse(
        "customers:customer_detail", kwargs={"slug": merchant.slug, "pk": shop["Fajar"].pk}
    )
    page = client.get(detail).content.decode()
    assert "Hilang" in page and ">Tidur<" not in page
