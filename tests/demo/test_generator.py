"""Writing the demo café into the database, replacing it, and the demo login."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count

from langganan.core.models import Membership, Merchant, Outlet
from langganan.core.phones import normalize_phone
from langganan.customers.models import ConsentEvent, Customer
from langganan.demo.generator import (
    demo_login_ensure,
    demo_merchant_build,
    demo_merchant_delete,
)
from langganan.sales.models import LineItem, Product, Transaction

END = date(2025, 6, 30)
N = 120
SEED = 3

pytestmark = pytest.mark.django_db


def build(**kwargs):
    options = {"slug": "demo", "n_customers": N, "seed": SEED, "end": END}
    options.update(kwargs)
    return demo_merchant_build(**options)


def test_build_creates_the_cafe_with_two_outlets_and_reports_the_counts():
    result = build()
    merchant = Merchant.objects.get(slug="demo")
    assert result.built and result.merchant == merchant
    assert merchant.name == "Kopi Langganan"
    assert set(Outlet.objects.filter(merchant=merchant).values_list("code", flat=True)) == {
        "JKT-01",
        "JKT-02",
    }
    assert Customer.objects.filter(merchant=merchant).count() == N == result.customers
    assert Transaction.objects.filter(merchant=merchant).count() == result.transactions
    assert LineItem.objects.filter(transaction__merchant=merchant).count() == result.line_items
    assert ConsentEvent.objects.filter(merchant=merchant).count() == result.consent_events > 0
    assert result.transactions > N
    assert Product.objects.filter(merchant=merchant, category__name="Kopi").count() >= 5


def test_phones_are_valid_e164_and_unique_within_the_merchant():
    build()
    phones = list(Customer.objects.filter(phone__isnull=False).values_list("phone", flat=True))
    assert len(phones) > 0.9 * N
    assert len(phones) == len(set(phones))
    assert all(normalize_phone(phone) == phone for phone in phones)


def test_every_total_equals_the_sum_of_its_line_items():
    build()
    amounts: dict[int, Decimal] = {}
    for txn_id, qty, price, discount in LineItem.objects.values_list(
        "transaction_id", "quantity", "unit_price", "discount"
    ):
        amounts[txn_id] = amounts.get(txn_id, Decimal(0)) + qty * price - discount
    totals = dict(Transaction.objects.values_list("id", "total"))
    assert totals.keys() == amounts.keys()
    assert all(totals[i] == amounts[i].quantize(Decimal("0.01")) for i in totals)


def test_walk_ins_exist_and_several_payment_methods_are_used():
    build()
    assert Transaction.objects.filter(customer__isnull=True).exists()
    methods = Counter(Transaction.objects.values_list("payment_method", flat=True))
    assert len(methods) >= 4


def test_each_customer_joined_at_their_first_purchase():
    build()
    customers = Customer.objects.annotate(n=Count("transactions"))
    assert all(c.n >= 1 for c in customers)
    first = {}
    for customer_id, occurred_at in Transaction.objects.filter(customer__isnull=False).values_list(
        "customer_id", "occurred_at"
    ):
        first[customer_id] = min(occurred_at, first.get(customer_id, occurred_at))
    assert all(first[c.id] == c.joined_at for c in customers)


def test_consent_is_recorded_per_channel():
    build()
    channels = set(ConsentEvent.objects.values_list("channel", flat=True))
    assert {"whatsapp", "email"} <= channels
    assert ConsentEvent.objects.filter(granted=False).exists()


def test_an_existing_merchant_is_left_alone_without_replace():
    first = build()
    before = Transaction.objects.count()
    again = build(seed=SEED + 1)
    assert not again.built
    assert again.merchant == first.merchant
    assert Transaction.objects.count() == before


def test_replace_rebuilds_the_merchant_and_the_same_seed_gives_the_same_data():
    def snapshot():
        return (
            sorted(Customer.objects.values_list("member_code", "full_name", "phone")),
            sorted(Transaction.objects.values_list("external_id", "occurred_at", "total")),
        )

    first = build()
    before = snapshot()
    again = build(replace=True)
    assert again.built
    assert again.merchant.pk != first.merchant.pk
    assert Merchant.objects.filter(slug="demo").count() == 1
    assert snapshot() == before
    other = build(replace=True, seed=SEED + 1)
    assert other.built and snapshot() != before


def test_delete_leaves_other_merchants_alone(merchant):
    build()
    build(slug="demo-2")
    demo_merchant_delete(merchant=Merchant.objects.get(slug="demo"))
    assert not Merchant.objects.filter(slug="demo").exists()
    assert Transaction.objects.filter(merchant__slug="demo-2").count() > N
    assert Merchant.objects.filter(pk=merchant.pk).exists()


def test_demo_login_is_an_owner_of_its_cafe_only_with_a_fresh_password_each_time():
    merchant = build().merchant
    user, password = demo_login_ensure(merchant=merchant)
    assert user.username == "demo"
    assert not user.is_superuser and not user.is_staff
    assert list(Membership.objects.filter(user=user).values_list("merchant", flat=True)) == [
        merchant.pk
    ]
    assert Membership.objects.get(user=user, merchant=merchant).role == "owner"
    assert authenticate(username="demo", password=password) == user
    _same_user, new_password = demo_login_ensure(merchant=merchant)
    assert new_password != password
    assert authenticate(username="demo", password=password) is None
    assert authenticate(username="demo", password=new_password) == user


def test_truth_file_has_one_row_per_customer(tmp_path):
    path = tmp_path / "truth.csv"
    result = build(truth_path=path)
    rows = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert result.truth_rows == N
    assert len(rows) == N + 1  # and the column names
    codes = {line.split(",")[0] for line in rows[1:]}
    assert codes == set(Customer.objects.values_list("member_code", flat=True))
