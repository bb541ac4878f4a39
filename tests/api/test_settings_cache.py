"""Merchant settings kept per process (``langganan.core.settings_cache``): any change to a
program, tier, earning or cashback rule or webhook endpoint, however it is made, gives the
merchant a new stamp (database triggers), and the next request sees the change."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection

from langganan.core import settings_cache
from langganan.core.models import Merchant
from langganan.loyalty.ledger import system_accounts
from langganan.loyalty.models import CashbackRule, EarnRule, Program, Tier
from langganan.webhooks.models import WebhookDelivery, WebhookEndpoint
from langganan.webhooks.services import webhook_emit
from tests.api.conftest import sale_body
from tests.loyalty.factories import TierFactory

pytestmark = pytest.mark.django_db


def stamp(merchant) -> int:
    return Merchant.objects.values_list("settings_version", flat=True).get(pk=merchant.pk)


def test_every_kind_of_change_to_a_setting_row_gives_a_new_stamp(shop):
    program = shop.program
    seen = {stamp(shop.merchant)}

    def changed() -> None:
        now = stamp(shop.merchant)
        assert now not in seen
        seen.add(now)

    rule = EarnRule.objects.create(program=program, name="Kopi x2", multiplier=Decimal("2"))
    changed()
    EarnRule.objects.filter(pk=rule.pk).update(multiplier=Decimal("3"))  # no signals
    changed()
    rule.delete()
    changed()
    cashback = CashbackRule.objects.create(
        program=program, name="5 %", min_spend=Decimal("50000"), rate=Decimal("0.05")
    )
    changed()
    CashbackRule.objects.filter(pk=cashback.pk).update(is_active=False)
    changed()
    tier = TierFactory(program=program)
    changed()
    Tier.objects.filter(pk=tier.pk).delete()
    changed()
    Program.objects.filter(pk=program.pk).update(earn_points=5)
    changed()
    endpoint = WebhookEndpoint.objects.create(
        merchant=shop.merchant, url="https://pos.example/hook", secret="s"
    )
    changed()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    changed()


def test_other_merchants_keep_their_stamp(shop, other):
    before = stamp(other.merchant)
    EarnRule.objects.create(program=shop.program, name="Kopi x2", multiplier=Decimal("2"))
    assert stamp(other.merchant) == before


def _points_of_a_quote(shop) -> int:
    response = shop.api.post("/checkout/quote", sale_body(shop))
    assert response.status_code == 200, response.content
    return response.json()["points_earned"]


def test_a_rule_changed_between_two_requests_applies_to_the_second(shop):
    base = _points_of_a_quote(shop)
    assert base > 0
    assert _points_of_a_quote(shop) == base  # from the process's copy now
    rule = EarnRule.objects.create(program=shop.program, name="Semua x2", multiplier=Decimal("2"))
    doubled = _points_of_a_quote(shop)
    assert doubled > base
    EarnRule.objects.filter(pk=rule.pk).update(is_active=False)
    assert _points_of_a_quote(shop) == base


def test_cashback_and_webhooks_follow_changes_at_once(shop):
    def sale() -> dict:
        response = shop.api.post(
            "/transactions", sale_body(shop, quantity=4), idempotency_key=str(uuid.uuid4())
        )
        assert response.status_code == 201, response.content
        return response.json()

    assert sale()["cashback"] == "0.00"
    CashbackRule.objects.create(
        program=shop.program, name="Rp 1.000", min_spend=Decimal("50000"), amount=Decimal("1000")
    )
    assert sale()["cashback"] == "1000.00"
    assert WebhookDelivery.objects.filter(merchant=shop.merchant).count() == 0
    WebhookEndpoint.objects.create(merchant=shop.merchant, url="https://pos.example/h", secret="s")
    sale()
    assert WebhookDelivery.objects.filter(merchant=shop.merchant).count() == 1


def test_a_fresh_merchant_reads_its_settings_once(shop, django_assert_num_queries):
    settings_cache.clear()
    merchant = Merchant.objects.get(pk=shop.merchant.pk)
    settings_cache.mark_fresh(merchant)
    WebhookEndpoint.objects.create(merchant=merchant, url="https://pos.example/h", secret="s")
    merchant.settings_version = stamp(merchant)
    with django_assert_num_queries(2):  # the endpoints, then the delivery
        webhook_emit(merchant=merchant, event="transaction.recorded", payload={"n": 1})
    with django_assert_num_queries(1):  # the delivery only
        webhook_emit(merchant=merchant, event="transaction.recorded", payload={"n": 2})


def test_a_merchant_object_not_read_in_this_request_always_reads_the_database(
    shop, django_assert_num_queries
):
    merchant = Merchant.objects.get(pk=shop.merchant.pk)
    for _ in range(2):
        with django_assert_num_queries(1):
            webhook_emit(merchant=merchant, event="transaction.recorded", payload={})


def test_each_call_gets_its_own_objects(shop):
    merchant = Merchant.objects.get(pk=shop.merchant.pk)
    settings_cache.mark_fresh(merchant)
    first = system_accounts(merchant=merchant, codes=["points_issued"])["points_issued"]
    first.balance = Decimal("-123")
    again = system_accounts(merchant=merchant, codes=["points_issued"])["points_issued"]
    assert again is not first and again.pk == first.pk
    assert again.balance != Decimal("-123")


def test_saving_a_merchant_read_earlier_does_not_bring_back_its_old_stamp(shop):
    stale = Merchant.objects.get(pk=shop.merchant.pk)
    EarnRule.objects.create(program=shop.program, name="Kopi x2", multiplier=Decimal("2"))
    current = stamp(shop.merchant)
    assert stale.settings_version != current
    stale.name = "Kopi Kenangan Senja"
    stale.save()
    assert stamp(shop.merchant) == current
    assert Merchant.objects.get(pk=shop.merchant.pk).name == "Kopi Kenangan Senja"


SETTINGS_TABLES = (
    "loyalty_program",
    "loyalty_tier",
    "loyalty_earnrule",
    "loyalty_cashbackrule",
    "webhooks_webhookendpoint",
)


def test_every_settings_table_has_its_triggers():
    """A later migration that rebuilds one of these tables (SQLite does for most field changes)
    drops its triggers, and the process copies would never be renewed: this catches it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT tbl_name, COUNT(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE '%settings%' GROUP BY tbl_name"
            )
            expected = 3  # after insert, update, delete
        else:
            cursor.execute(
                "SELECT c.relname, COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE '%settings%' GROUP BY c.relname"
            )
            expected = 1  # one trigger for the three events
        found = dict(cursor.fetchall())
    assert {table: found.get(table) for table in SETTINGS_TABLES} == dict.fromkeys(
        SETTINGS_TABLES, expected
    )


def test_a_counter_account_made_in_a_transaction_is_not_kept_if_it_rolls_back(shop):
    from django.db import transaction

    from langganan.loyalty.models import Account

    merchant = Merchant.objects.get(pk=shop.merchant.pk)
    settings_cache.mark_fresh(merchant)
    Account.objects.filter(merchant=merchant, customer=None, code="points_expired").delete()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        made = system_accounts(merchant=merchant, codes=["points_expired"])["points_expired"]
        assert not settings_cache.is_fresh(merchant)  # reads the database from now on
        assert (
            system_accounts(merchant=merchant, codes=["points_expired"])["points_expired"].pk
            == made.pk
        )
        raise Undo
    assert not Account.objects.filter(pk=made.pk).exists()
    fresh = Merchant.objects.get(pk=shop.merchant.pk)
    settings_cache.mark_fresh(fresh)
    again = system_accounts(merchant=fresh, codes=["points_expired"])["points_expired"]
    assert Account.objects.filter(pk=again.pk).exists()  # made again, not a phantom copy
