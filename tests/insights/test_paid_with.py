"""The payment methods kept on each customer's insight (langganan.insights.paid_with) filter the
customer list exactly as the payments themselves do: after the analysis, after a sale (at once),
after an import, and as the migration fills them."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import timezone

from langganan.campaigns.audiences import audience_ids
from langganan.customers.models import Customer
from langganan.demo.generator import demo_merchant_build
from langganan.insights import live, paid_with
from langganan.insights.models import CustomerInsight
from langganan.insights.services import insights_refresh
from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest
from langganan.sales.importing import transactions_import
from langganan.sales.models import PaymentMethod

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    live._cache.clear()
    yield
    live._cache.clear()


@pytest.fixture
def cafe(db):
    today = timezone.now().astimezone(JAKARTA).date()
    merchant = demo_merchant_build(slug="kafe-bayar", n_customers=150, seed=11, end=today).merchant
    insights_refresh(merchant=merchant)
    return merchant


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def by_payments(merchant, methods) -> set[int]:
    """The filter's definition: customers with a payment row of one of ``methods``."""
    return set(
        Customer.objects.filter(merchant=merchant)
        .filter(paid_with.paid_with_exists(methods))
        .values_list("pk", flat=True)
    )


def listed(merchant, methods, **more) -> set[int]:
    return set(audience_ids(merchant=merchant, filters={"payment_methods": methods, **more}))


def test_every_method_is_one_stable_bit():
    assert set(paid_with.METHODS) == set(PaymentMethod.values)
    assert paid_with.BITS["cash"] == 1 and paid_with.BITS["qris"] == 2
    mask = paid_with.mask_of(["qris", "tab", "gold"])
    assert paid_with.methods_of(mask) == ["qris", "tab"]


def test_after_the_analysis_the_filter_equals_the_payments_for_every_method(cafe):
    merchant = cafe
    used = 0
    for method in PaymentMethod.values:
        expected = by_payments(merchant, [method])
        used += bool(expected)
        assert listed(merchant, [method]) == expected, method
    assert used >= 3  # the demo pays in several ways, so the comparison means something
    both = ["qris", "e_wallet"]
    assert listed(merchant, both) == by_payments(merchant, both)
    members = set(
        Customer.objects.filter(merchant=merchant, loyalty_member__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert listed(merchant, ["qris"], member=True) == by_payments(merchant, ["qris"]) & members


def test_a_sale_makes_its_method_filterable_at_once(cafe, commits):
    merchant = cafe
    qris = by_payments(merchant, ["qris"])
    customer = (
        Customer.objects.filter(merchant=merchant, insight__isnull=False)
        .exclude(pk__in=qris)
        .first()
    )
    assert customer is not None and customer.pk not in listed(merchant, ["qris"])

    with commits():
        co.checkout(
            merchant=merchant,
            outlet=merchant.outlets.first(),
            idempotency_key="bayar-qris",
            request=CheckoutRequest(
                lines=[BasketLine(name="Kopi", unit_price=Decimal(25000), quantity=Decimal(1))],
                customer_id=customer.pk,
                payment_method="qris",
            ),
        )

    assert customer.pk in listed(merchant, ["qris"])
    assert listed(merchant, ["qris"]) == by_payments(merchant, ["qris"])


def test_an_import_makes_its_methods_filterable_for_old_and_new_customers(cafe, commits, tmp_path):
    merchant = cafe
    old = (
        Customer.objects.filter(merchant=merchant, insight__isnull=False)
        .exclude(pk__in=by_payments(merchant, ["bank_transfer"]))
        .first()
    )
    today = timezone.now().astimezone(JAKARTA).date().isoformat()
    path = tmp_path / "sales.csv"
    path.write_text(
        "phone,date,time,total,payment_method\n"
        f"{old.phone},{today},09:15,27000,bank_transfer\n"
        f"+6281399990002,{today},09:30,18000,bank_transfer\n"
    )

    with commits():
        report = transactions_import(merchant=merchant, path=path)

    assert report.committed
    found = listed(merchant, ["bank_transfer"])
    assert old.pk in found
    assert Customer.objects.get(merchant=merchant, phone="+6281399990002").pk in found
    assert found == by_payments(merchant, ["bank_transfer"])


def test_before_the_first_analysis_the_filter_reads_the_payments(db):
    today = timezone.now().astimezone(JAKARTA).date()
    merchant = demo_merchant_build(slug="kafe-baru", n_customers=40, seed=3, end=today).merchant
    assert not CustomerInsight.objects.filter(merchant=merchant).exists()
    expected = by_payments(merchant, ["cash"])
    assert expected and listed(merchant, ["cash"]) == expected


def test_the_migration_fills_the_methods_from_the_payments(cafe):
    from importlib import import_module

    merchant = cafe
    stored = dict(
        CustomerInsight.objects.filter(merchant=merchant).values_list("customer_id", "paid_with")
    )
    assert any(stored.values())
    CustomerInsight.objects.filter(merchant=merchant).update(paid_with=0)

    migration = import_module("langganan.insights.migrations.0006_market_groups_paid_with_sorts")
    assert migration.METHODS == paid_with.METHODS
    migration.paid_with_fill(apps, None)

    filled = dict(
        CustomerInsight.objects.filter(merchant=merchant).values_list("customer_id", "paid_with")
    )
    assert filled == stored
