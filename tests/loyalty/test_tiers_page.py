"""The member tiers set up in the browser (issue 18, point 1): add, change, rank, delete, and
the refusals a merchant can understand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from langganan.loyalty.models import Member, Program, Tier, TierBasis
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(client):
    merchant = MerchantFactory()
    Program.objects.create(merchant=merchant)
    owner = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(owner.user)
    return merchant


def _post(client, merchant, rows, *, basis="spend", window="365", review="3", initial=None):
    data = {
        "tier_basis": basis,
        "tier_window_days": window,
        "tier_review_months": review,
        "tier-TOTAL_FORMS": str(len(rows)),
        "tier-INITIAL_FORMS": str(initial if initial is not None else 0),
        "tier-MIN_NUM_FORMS": "0",
        "tier-MAX_NUM_FORMS": "12",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"tier-{n}-{key}"] = value
    return client.post(reverse("loyalty:tiers", args=[merchant.slug]), data)


GOLD = {"name": "Gold", "min_spend": "2000000", "earn_multiplier": "2", "cashback_percent": "2"}
SILVER = {"name": "Silver", "min_spend": "500000", "earn_multiplier": "1.5"}


def test_tiers_are_added_ranked_by_what_they_need(client, shop):
    page = client.get(reverse("loyalty:tiers", args=[shop.slug]))
    assert page.status_code == 200
    assert "Belum ada tingkat" in page.content.decode()

    # listed out of order, with an empty extra row: ranked by spend, the empty row ignored
    response = _post(client, shop, [GOLD, SILVER, {"name": ""}], window="180")

    assert response.status_code == 302
    tiers = list(Tier.objects.filter(program__merchant=shop).order_by("rank"))
    assert [(t.name, t.rank) for t in tiers] == [("Silver", 1), ("Gold", 2)]
    gold = tiers[1]
    assert gold.min_spend == Decimal("2000000")
    assert gold.earn_multiplier == Decimal("2")
    assert gold.cashback_rate == Decimal("0.02")
    program = Program.objects.get(merchant=shop)
    assert (program.tier_basis, program.tier_window_days) == (TierBasis.SPEND, 180)
    page = client.get(reverse("loyalty:tiers", args=[shop.slug])).content.decode()
    assert "Rp 2.000.000" in page and "cashback 2%" in page


def test_a_tier_is_renamed_and_moved_without_breaking_the_ranks(client, shop):
    _post(client, shop, [SILVER, GOLD])
    silver, gold = Tier.objects.filter(program__merchant=shop).order_by("rank")

    # Silver now needs more than Gold, and Gold is renamed to Silver's old name's neighbour
    response = _post(
        client,
        shop,
        [
            {**SILVER, "id": str(silver.pk), "min_spend": "3000000"},
            {**GOLD, "id": str(gold.pk), "name": "Perunggu"},
        ],
        initial=2,
    )

    assert response.status_code == 302
    assert [
        (t.pk, t.name, t.rank) for t in Tier.objects.filter(program__merchant=shop).order_by("rank")
    ] == [(gold.pk, "Perunggu", 1), (silver.pk, "Silver", 2)]


def test_a_tier_members_hold_is_not_deleted(client, shop):
    _post(client, shop, [SILVER, GOLD])
    silver, gold = Tier.objects.filter(program__merchant=shop).order_by("rank")
    Member.objects.create(
        merchant=shop, customer=CustomerFactory(merchant=shop), tier=gold, referral_code="R1"
    )
    rows = [{**SILVER, "id": str(silver.pk)}, {**GOLD, "id": str(gold.pk), "delete": "on"}]

    response = _post(client, shop, rows, initial=2)

    assert response.status_code == 400
    assert "tidak bisa dihapus" in response.content.decode()
    assert Tier.objects.filter(pk=gold.pk).exists()

    # a tier nobody holds is deleted
    rows = [{**SILVER, "id": str(silver.pk), "delete": "on"}, {**GOLD, "id": str(gold.pk)}]
    assert _post(client, shop, rows, initial=2).status_code == 302
    assert list(Tier.objects.filter(program__merchant=shop).values_list("name", "rank")) == [
        ("Gold", 1)
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([SILVER, {**GOLD, "min_spend": "500000"}], "ambang"),
        ([SILVER, {**GOLD, "name": "silver"}], "nama yang sama"),
        ([{"name": "Gold", "cashback_percent": "150"}], "100"),
    ],
)
def test_bad_tiers_are_refused_in_indonesian_and_nothing_is_written(client, shop, rows, message):
    response = _post(client, shop, rows)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Tier.objects.exists()


def test_another_merchants_tier_id_changes_nothing(client, shop):
    other = MerchantFactory()
    program = Program.objects.create(merchant=other)
    theirs = Tier.objects.create(program=program, name="VIP", rank=1, min_spend=Decimal(1))

    response = _post(client, shop, [{**GOLD, "id": str(theirs.pk)}], initial=1)

    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.name == "VIP"
    assert client.get(reverse("loyalty:tiers", args=[other.slug])).status_code == 404


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_the_owner_changes_tiers(client, role):
    merchant = MerchantFactory()
    Program.objects.create(merchant=merchant)
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)

    assert client.get(reverse("loyalty:tiers", args=[merchant.slug])).status_code == 403
    assert _post(client, merchant, [GOLD]).status_code == 403
    assert not Tier.objects.exists()


def test_without_a_program_the_owner_is_sent_to_set_it_up(client):
    merchant = MerchantFactory()
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)

    response = client.get(reverse("loyalty:tiers", args=[merchant.slug]))

    assert response.status_code == 302
    assert response["Location"] == reverse("loyalty:program", args=[merchant.slug])
