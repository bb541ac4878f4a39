"""Audience filters over customer fields and stored insights, with a live count and a sample."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from langganan.campaigns.audiences import (
    ERR_UNKNOWN_KEY,
    audience_count,
    audience_ids,
    audience_sample,
    filters_clean,
)
from langganan.core.errors import InvalidInput
from langganan.customers.services import consent_record
from langganan.sales.models import LineItem
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, TransactionFactory

from .conftest import NOW, insight_for

pytestmark = pytest.mark.django_db


def ids(merchant, **filters):
    return set(audience_ids(merchant=merchant, filters=filters, now=NOW))


def test_segment_and_lifecycle_filters_read_the_stored_insights(merchant):
    champion = CustomerFactory(merchant=merchant)
    insight_for(champion, segment="champions", lifecycle="loyal")
    lapsed = CustomerFactory(merchant=merchant)
    insight_for(lapsed, segment="hibernating", lifecycle="lapsed")
    CustomerFactory(merchant=merchant)  # never scored
    assert ids(merchant, segments=["champions"]) == {champion.pk}
    assert ids(merchant, lifecycle=["lapsed", "loyal"]) == {champion.pk, lapsed.pk}


def test_gender_age_band_and_city(merchant):
    young = CustomerFactory(
        merchant=merchant, gender="F", birth_date=date(2000, 12, 2), city="Bandung"
    )
    older = CustomerFactory(
        merchant=merchant, gender="F", birth_date=date(1980, 1, 1), city="Jakarta"
    )
    man = CustomerFactory(merchant=merchant, gender="M", birth_date=date(2005, 1, 1))
    assert ids(merchant, gender="F") == {young.pk, older.pk}
    # 26 today (birthday today), so in the 26–30 band and not in 18–25
    assert ids(merchant, age_min=26, age_max=30) == {young.pk}
    assert ids(merchant, age_min=18, age_max=25) == {man.pk}
    assert ids(merchant, cities=["jakarta"]) == {older.pk}


def test_birthday_window_crosses_the_new_year(merchant):
    late_dec = CustomerFactory(merchant=merchant, birth_date=date(1990, 12, 30))
    early_jan = CustomerFactory(merchant=merchant, birth_date=date(1995, 1, 3))
    CustomerFactory(merchant=merchant, birth_date=date(1995, 2, 3))
    # from 2 December, a 32-day window reaches 3 January
    assert ids(merchant, birthday_within_days=32) == {late_dec.pk, early_jan.pk}
    assert ids(merchant, birthday_within_days=28) == {late_dec.pk}


def test_last_purchase_window_clv_p_alive_and_scores(merchant):
    recent = CustomerFactory(merchant=merchant)
    insight_for(recent, last_purchase=NOW - timedelta(days=5), clv=Decimal("900000"), r_score=5)
    old = CustomerFactory(merchant=merchant)
    insight_for(old, last_purchase=NOW - timedelta(days=100), p_alive=0.1, r_score=1)
    assert ids(merchant, last_purchase_min_days=30) == {old.pk}
    assert ids(merchant, last_purchase_max_days=30) == {recent.pk}
    assert ids(merchant, clv_min="600000") == {recent.pk}
    assert ids(merchant, p_alive_max="0.5") == {old.pk}
    assert ids(merchant, r_scores=[1, 2]) == {old.pk}


def test_products_and_categories_bought(merchant, outlet):
    drinks = CategoryFactory(merchant=merchant)
    kopi = ProductFactory(merchant=merchant, category=drinks)
    roti = ProductFactory(merchant=merchant)
    buyer = CustomerFactory(merchant=merchant)
    other = CustomerFactory(merchant=merchant)
    for customer, product in ((buyer, kopi), (other, roti)):
        sale = TransactionFactory(merchant=merchant, outlet=outlet, customer=customer)
        LineItem.objects.create(
            transaction=sale,
            product=product,
            product_name=product.name,
            quantity=1,
            unit_price=product.price,
        )
    assert ids(merchant, products=[kopi.pk]) == {buyer.pk}
    assert ids(merchant, categories=[drinks.pk]) == {buyer.pk}


def test_tags(merchant):
    vip = CustomerFactory(merchant=merchant, tags=["vip", "kantor"])
    CustomerFactory(merchant=merchant, tags=["kantor"])
    assert ids(merchant, tags=["vip"]) == {vip.pk}


def test_consent_uses_the_latest_event_per_channel(merchant):
    yes = CustomerFactory(merchant=merchant)
    withdrawn = CustomerFactory(merchant=merchant)
    CustomerFactory(merchant=merchant)  # never asked
    for customer in (yes, withdrawn):
        consent_record(
            customer=customer,
            channel="whatsapp",
            granted=True,
            source="counter",
            occurred_at=NOW - timedelta(days=9),
        )
    consent_record(
        customer=withdrawn,
        channel="whatsapp",
        granted=False,
        source="link",
        occurred_at=NOW - timedelta(days=1),
    )
    assert ids(merchant, consent="whatsapp") == {yes.pk}
    assert audience_count(merchant=merchant, filters={"consent": "whatsapp"}, now=NOW) == 1
    sample = audience_sample(merchant=merchant, filters={"consent": "whatsapp"}, now=NOW)
    assert [c.pk for c in sample] == [yes.pk]


def test_points_range(merchant):
    from langganan.loyalty.points import points_earn
    from tests.loyalty.factories import MemberFactory, ProgramFactory

    ProgramFactory(merchant=merchant)
    rich = CustomerFactory(merchant=merchant)
    MemberFactory(customer=rich)
    points_earn(customer=rich, points=500, key="t-1", at=NOW, kind="bonus")
    poor = CustomerFactory(merchant=merchant)
    assert ids(merchant, points_min=100) == {rich.pk}
    assert ids(merchant, points_max=100) == {poor.pk}


def test_count_and_sample_agree_and_other_merchants_are_never_included(merchant):
    from tests.factories import MerchantFactory

    mine = [CustomerFactory(merchant=merchant, gender="M") for _ in range(12)]
    CustomerFactory(merchant=MerchantFactory(), gender="M")
    assert audience_count(merchant=merchant, filters={"gender": "M"}, now=NOW) == 12
    sample = audience_sample(merchant=merchant, filters={"gender": "M"}, size=5, now=NOW)
    assert [c.pk for c in sample] == sorted(c.pk for c in mine)[:5]


@pytest.mark.parametrize(
    "filters",
    [
        {"segment": ["x"]},
        {"lifecycle": ["sleepy"]},
        {"gender": "X"},
        {"birthday_within_days": 400},
        {"p_alive_min": "1.5"},
        {"clv_min": "lots"},
        {"consent": "pigeon"},
        {"r_scores": [7]},
        ["not", "a", "dict"],
    ],
)
def test_bad_filters_are_refused_with_the_key_named(filters):
    with pytest.raises(InvalidInput) as err:
        filters_clean(filters)
    if isinstance(filters, dict):
        assert next(iter(filters)) in err.value.message


def test_unknown_keys_are_listed():
    with pytest.raises(InvalidInput) as err:
        filters_clean({"colour": "red", "gender": "F"})
    assert err.value.message == ERR_UNKNOWN_KEY.format(keys="colour")
