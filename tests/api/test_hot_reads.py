"""The hand-joined reads of the hot paths (``langganan.core.rows``) give exactly what the ORM
gives: the same field values with the same Python types, and the relations cached as
``select_related`` leaves them (reading them costs no query)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from langganan.api.models import ApiKey
from langganan.api.selectors import api_key_authenticate
from langganan.api.services import api_key_create, api_key_revoke
from langganan.customers.models import Customer
from langganan.insights.models import CustomerInsight
from langganan.loyalty.customer_rows import (
    customer_accounts_of,
    customer_with_member,
    personal_vouchers_of,
)
from langganan.loyalty.members import program_of
from langganan.loyalty.models import Account, Member, Referral, Voucher
from tests.api.test_customers import insight_for
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, TierFactory, VoucherFactory

pytestmark = pytest.mark.django_db


def assert_same(ours: Model, orm: Model) -> None:
    """Every concrete field equal, with the same type (Decimal, date, dict …)."""
    assert type(ours) is type(orm)
    for field in orm._meta.concrete_fields:
        mine, theirs = getattr(ours, field.attname), getattr(orm, field.attname)
        assert mine == theirs, field.attname
        assert type(mine) is type(theirs), field.attname
        if isinstance(mine, datetime):  # the same instant is not enough: the same zone too
            assert mine.tzinfo == theirs.tzinfo, field.attname


def test_the_key_check_reads_the_key_outlet_merchant_and_program_as_the_orm(
    shop, django_assert_num_queries
):
    with django_assert_num_queries(1):
        key = api_key_authenticate(raw_key=shop.raw_key)
    with django_assert_num_queries(0):
        merchant, outlet, program = key.merchant, key.outlet, program_of(key.merchant)
        assert outlet.merchant is merchant and program.merchant is merchant
    orm = ApiKey.objects.select_related("merchant", "outlet", "merchant__loyalty_program").get(
        pk=key.pk
    )
    assert_same(key, orm)
    assert_same(outlet, orm.outlet)
    assert_same(merchant, orm.merchant)
    assert_same(program, orm.merchant.loyalty_program)


def test_a_merchant_without_a_program_is_known_to_have_none(django_assert_num_queries):
    outlet = OutletFactory()
    _key, raw = api_key_create(merchant=outlet.merchant, outlet=outlet, name="Kasir")
    key = api_key_authenticate(raw_key=raw)
    with django_assert_num_queries(0):
        assert program_of(key.merchant) is None


def test_revoked_keys_and_closed_outlets_do_not_authenticate(shop):
    key = api_key_authenticate(raw_key=shop.raw_key)
    shop.outlet.is_active = False
    shop.outlet.save()
    assert api_key_authenticate(raw_key=shop.raw_key) is None
    shop.outlet.is_active = True
    shop.outlet.save()
    assert api_key_authenticate(raw_key=shop.raw_key) is not None
    api_key_revoke(prefix=key.prefix)
    assert api_key_authenticate(raw_key=shop.raw_key) is None
    assert api_key_authenticate(raw_key=shop.raw_key + "x") is None


def test_a_member_comes_with_tier_referral_and_insight_as_the_orm_reads_them(
    shop, django_assert_num_queries
):
    tier = TierFactory(program=shop.program, name="Gold", rank=2)
    friend = MemberFactory(customer=CustomerFactory(merchant=shop.merchant))
    member = shop.customer.loyalty_member
    member.tier = tier
    member.save()
    Referral.objects.create(merchant=shop.merchant, referrer=friend, referred=member)
    insight_for(
        shop.customer,
        total_spend=Decimal("250000.50"),
        next_purchase_date=date(2026, 12, 24),
        usual_order=[{"item": "Kopi Susu", "times": 4}],
    )
    customer = Customer.objects.get(pk=shop.customer.pk)
    customer.birth_date = date(1990, 2, 28)
    customer.save()

    with django_assert_num_queries(1):
        ours = customer_with_member(
            shop.merchant, by="phone", value=shop.customer.phone, insight=True
        )
    orm = Customer.objects.select_related(
        "loyalty_member__tier", "loyalty_member__referral_received", "insight"
    ).get(pk=shop.customer.pk)
    with django_assert_num_queries(0):
        assert_same(ours, orm)
        assert_same(ours.loyalty_member, orm.loyalty_member)
        assert_same(ours.loyalty_member.tier, orm.loyalty_member.tier)
        assert_same(ours.loyalty_member.referral_received, orm.loyalty_member.referral_received)
        assert_same(ours.insight, orm.insight)
        assert ours.insight.usual_order == [{"item": "Kopi Susu", "times": 4}]
        assert ours.loyalty_member.customer is ours
    for by, value in (("pk", shop.customer.pk), ("member_code", shop.customer.member_code)):
        assert customer_with_member(shop.merchant, by=by, value=value).pk == shop.customer.pk
    # again without counting queries (which turns preparing off): on PostgreSQL these are
    # prepared statements, and after five runs PostgreSQL may switch to a generic plan
    for _ in range(7):
        for by, value in (
            ("phone", shop.customer.phone),
            ("member_code", shop.customer.member_code),
            ("pk", shop.customer.pk),
        ):
            again = customer_with_member(shop.merchant, by=by, value=value, insight=True)
            assert_same(again, orm)
            assert_same(again.loyalty_member, orm.loyalty_member)
            assert_same(again.loyalty_member.tier, orm.loyalty_member.tier)
            assert_same(
                again.loyalty_member.referral_received, orm.loyalty_member.referral_received
            )
            assert_same(again.insight, orm.insight)


def test_a_customer_without_membership_or_insight_has_none_without_a_query(
    shop, django_assert_num_queries
):
    walk_in = CustomerFactory(merchant=shop.merchant)
    found = customer_with_member(shop.merchant, by="pk", value=walk_in.pk, insight=True)
    with django_assert_num_queries(0):
        with pytest.raises(Member.DoesNotExist):
            found.loyalty_member  # noqa: B018
        with pytest.raises(CustomerInsight.DoesNotExist):
            found.insight  # noqa: B018
    member = customer_with_member(shop.merchant, by="pk", value=shop.customer.pk)
    with django_assert_num_queries(0):
        assert member.loyalty_member.tier is None
        with pytest.raises(Referral.DoesNotExist):
            member.loyalty_member.referral_received  # noqa: B018


def test_another_merchants_customer_or_an_impossible_id_is_not_found(shop, other):
    assert customer_with_member(shop.merchant, by="pk", value=other.customer.pk) is None
    assert customer_with_member(shop.merchant, by="phone", value=other.customer.phone) is None
    assert customer_with_member(shop.merchant, by="pk", value=2**63) is None
    assert customer_with_member(shop.merchant, by="pk", value=-(2**63) - 1) is None
    assert customer_with_member(shop.merchant, by="pk", value="1") is None


def test_accounts_and_personal_vouchers_read_as_the_orm(shop):
    shop.api.post(
        "/transactions",
        {"lines": [{"product_id": shop.coffee.pk, "quantity": 2}], "customer_id": shop.customer.pk},
        idempotency_key="first",
    )
    ours = customer_accounts_of(shop.customer)
    orm = list(Account.objects.filter(customer=shop.customer).order_by("pk"))
    assert ours and len(ours) == len(orm)
    for mine, theirs in zip(ours, orm, strict=True):
        assert_same(mine, theirs)
        assert isinstance(mine.balance, Decimal)
    with transaction.atomic():
        locked = customer_accounts_of(shop.customer, lock=True)
    assert [a.pk for a in locked] == [a.pk for a in orm]
    later = timezone.now() + timedelta(days=9)
    soon = timezone.now() + timedelta(days=2)
    for code, until in (("B", later), ("A", None), ("C", soon), ("D", later)):
        VoucherFactory(merchant=shop.merchant, customer=shop.customer, code=code, valid_until=until)
    VoucherFactory(merchant=shop.merchant, customer=shop.customer, code="E", is_active=False)
    VoucherFactory(merchant=shop.merchant, customer=None, code="F")
    for _ in range(7):  # past PostgreSQL's five custom plans of a prepared statement
        vouchers = personal_vouchers_of(shop.customer)
        assert [v.code for v in vouchers] == ["C", "B", "D", "A"]
        for mine in vouchers:
            assert_same(mine, Voucher.objects.get(pk=mine.pk))
        with transaction.atomic():
            locked = customer_accounts_of(shop.customer, lock=True)
        for mine, theirs in zip(locked, orm, strict=True):
            assert_same(mine, theirs)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("prepared", [True, False])
def test_hot_reads_run_again_and_again_read_as_the_orm(shop, settings, prepared):
    """Seven runs: PostgreSQL plans a prepared statement for each of its first five runs,
    then may switch to one generic plan; the answers must not change when it does. On
    PostgreSQL the reads are prepared statements (unless HOT_READS_PREPARED is off)."""
    settings.HOT_READS_PREPARED = prepared
    others = CustomerFactory.create_batch(3, merchant=shop.merchant)
    for _ in range(7):
        for customer in [shop.customer, *others]:
            ours = customer_with_member(shop.merchant, by="pk", value=customer.pk)
            assert_same(ours, Customer.objects.get(pk=customer.pk))
            assert customer_accounts_of(customer) == list(
                Account.objects.filter(customer=customer).order_by("pk")
            )
        key = api_key_authenticate(raw_key=shop.raw_key)
        assert key is not None and key.merchant == shop.merchant
    if connection.vendor == "postgresql":
        statements = _prepared_statements()
        hot = [s for s in statements if 'FROM "customers_customer" c' in s or '"k"."key_hash"' in s]
        assert (len(hot) >= 2) is prepared, statements


def _column_type(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = %s",
            [table, column],
        )
        return cursor.fetchone()[0]


def _alter_elsewhere(table: str, column: str, to: str) -> None:
    """ALTER from another connection, as a migration run beside the server does (psycopg
    forgets its prepared statements after DDL on its own connection)."""
    import psycopg

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {to}')


@pytest.mark.django_db(transaction=True)
def test_a_column_changing_type_under_prepared_reads_costs_no_request(shop):
    """A migration run beside a serving process changes a column's type: PostgreSQL refuses
    the statements prepared before ("cached plan must not change result type"). A read
    outside a transaction gets a new connection and its answer; inside one the error goes
    up and the rollback clears the prepared statements for the next read."""
    for _ in range(3):
        assert customer_accounts_of(shop.customer) is not None
    if connection.vendor != "postgresql":  # SQLite prepares nothing between calls
        assert customer_with_member(shop.merchant, by="pk", value=shop.customer.pk) is not None
        return
    table, column = Account._meta.db_table, "code"
    original = _column_type(table, column)
    shop.api.post(
        "/transactions",
        {"lines": [{"product_id": shop.coffee.pk, "quantity": 1}], "customer_id": shop.customer.pk},
        idempotency_key="before",
    )
    try:
        for _ in range(3):
            before = customer_accounts_of(shop.customer)
        _alter_elsewhere(table, column, "varchar(250)")
        after = customer_accounts_of(shop.customer)  # outside a transaction: answered
        assert [a.pk for a in after] == [a.pk for a in before]
        _alter_elsewhere(table, column, original)
        with pytest.raises(NotSupportedError), transaction.atomic():
            customer_accounts_of(shop.customer)  # inside one: refused, then rolled back
        assert [a.pk for a in customer_accounts_of(shop.customer)] == [a.pk for a in before]
    finally:
        if _column_type(table, column) != original:
            _alter_elsewhere(table, column, original)


def test_points_left_by_expiry_reads_as_the_orm(shop):
    """One row per expiry time with the points left, soonest first; spent lots and lots that
    never expire left out; values of the same types as the ORM's aggregate."""
    from django.db.models import Sum

    from langganan.loyalty.customer_rows import points_left_by_expiry
    from langganan.loyalty.models import PointLot

    shop.api.post(
        "/transactions",
        {"lines": [{"product_id": shop.coffee.pk, "quantity": 1}], "customer_id": shop.customer.pk},
        idempotency_key="first",
    )
    account = Account.objects.get(customer=shop.customer, kind="points")
    first = PointLot.objects.filter(account=account).first()
    soon = timezone.now() + timedelta(days=3)
    later = timezone.now() + timedelta(days=40)
    for expires_at, amount, remaining in (
        (later, 5, 5),
        (soon, 7, 2),
        (soon, 3, 3),
        (later, 4, 0),  # spent
        (None, 9, 9),  # never expires
    ):
        PointLot.objects.create(
            account=account,
            journal=first.journal,
            earned_at=timezone.now(),
            expires_at=expires_at,
            amount=amount,
            remaining=remaining,
        )
    orm = [
        (row["expires_at"], row["total"])
        for row in PointLot.objects.filter(
            account=account, remaining__gt=0, expires_at__isnull=False
        )
        .values("expires_at")
        .annotate(total=Sum("remaining"))
        .order_by("expires_at")
    ]
    for _ in range(7):  # prepared on PostgreSQL, past its five custom plans
        ours = points_left_by_expiry(account)
        assert ours == orm
        for (mine_at, mine_total), (orm_at, orm_total) in zip(ours, orm, strict=True):
            assert type(mine_at) is type(orm_at) and mine_at.tzinfo == orm_at.tzinfo
            assert type(mine_total) is type(orm_total)
    totals = dict(ours)
    assert ours[0][0] == soon and totals[soon] == 5  # 2 + 3, soonest first
    assert totals[later] == 5  # the spent lot adds nothing
    assert len(ours) == 3  # with the sale's own lot; the lot that never expires left out


def test_products_by_id_reads_the_merchants_own_as_the_orm(shop, other):
    from langganan.loyalty.customer_rows import products_by_id
    from langganan.sales.models import Product

    retired = ProductFactory(merchant=shop.merchant, is_active=False)
    mine = list(Product.objects.filter(merchant=shop.merchant).order_by("pk"))
    asked = [p.pk for p in mine] + [other.coffee.pk, 2**63, -(2**70), 987654321]
    for _ in range(7):  # prepared on PostgreSQL, past its five custom plans
        found = products_by_id(shop.merchant, asked)
        assert sorted(found) == [p.pk for p in mine]  # another merchant's: absent
        for product in mine:
            assert_same(found[product.pk], product)
        assert found[retired.pk].is_active is False  # the caller decides what an old item costs
    assert products_by_id(shop.merchant, []) == {}
    assert products_by_id(shop.merchant, [2**64]) == {}
