"""The loyalty admin: every model is there, the ledger is read-only, a tab limit is checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from langganan.loyalty.admin import ProgramAdmin
from langganan.loyalty.ledger import customer_account
from langganan.loyalty.models import (
    Account,
    CheckoutRecord,
    Referral,
    VoucherRedemption,
)
from langganan.loyalty.tab import ERR_LIMIT_BELOW_OWED, tab_balance, tab_charge, tab_set_limit
from langganan.loyalty.tab_payments import tab_payment_record
from tests.factories import CustomerFactory, TransactionFactory, UserFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory, VoucherFactory

pytestmark = pytest.mark.django_db

READ_ONLY = {
    "Entry",
    "Journal",
    "LotUse",
    "TierChange",
    "VoucherRedemption",
    "CheckoutRecord",
    "PointLot",
    "TabPayment",
}


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def ledger(merchant):
    """One of everything: a program with a tier, members, a referral, points with a lot and
    a use, a tab charge, a voucher redemption and a checkout record."""
    from langganan.loyalty.points import points_earn, points_redeem

    program = ProgramFactory(merchant=merchant)
    gold = TierFactory(program=program, name="Gold")
    program.earn_rules.create(name="Kopi x2")
    program.cashback_rules.create(name="Belanja 100rb", min_spend=100000, rate=Decimal("0.02"))
    program.rewards.create(name="Es teh gratis", points_cost=50)
    rina = CustomerFactory(merchant=merchant, full_name="Rina", member_code="LG0001")
    member = MemberFactory(customer=rina, tier=gold)
    friend = MemberFactory(customer=CustomerFactory(merchant=merchant))
    Referral.objects.create(merchant=merchant, referrer=member, referred=friend)
    member.tier_changes.create(to_tier=gold, reason="manual")
    now = timezone.now()
    points_earn(customer=rina, points=100, key="earn", at=now)
    points_redeem(customer=rina, points=30, key="redeem", at=now)
    tab_set_limit(customer=rina, limit=Decimal("50000"), at=now)
    tab_charge(customer=rina, amount=Decimal("20000"), key="tab", at=now)
    budi = CustomerFactory(merchant=merchant, full_name="Budi")
    tab_set_limit(customer=budi, limit=Decimal("50000"), at=now)
    tab_charge(customer=budi, amount=Decimal("20000"), key="tab-budi", at=now)
    tab_payment_record(
        merchant=merchant,
        customer_id=budi.pk,
        amount=Decimal("5000"),
        method="cash",
        idempotency_key="pay-1",
    )
    sale = TransactionFactory(merchant=merchant, customer=rina)
    voucher = VoucherFactory(merchant=merchant)
    VoucherRedemption.objects.create(
        voucher=voucher, customer=rina, transaction=sale, discount=Decimal("5000")
    )
    CheckoutRecord.objects.create(
        merchant=merchant, key="k1", operation="checkout", request_hash="x", response={}
    )
    return rina


def loyalty_models():
    return list(apps.get_app_config("loyalty").get_models())


def url(model, action: str, *args) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)


def test_every_loyalty_model_is_registered():
    missing = [m.__name__ for m in loyalty_models() if m not in admin.site._registry]
    assert missing == []


def test_list_search_and_change_pages_render(admin_client, ledger):
    for model in loyalty_models():
        changelist = url(model, "changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        assert admin_client.get(changelist, {"q": "Rina"}).status_code == 200, changelist
        obj = model.objects.first()
        assert obj is not None, model.__name__
        change = url(model, "change", obj.pk)
        assert admin_client.get(change).status_code == 200, change


def test_lists_filter_by_merchant(admin_client, ledger, merchant):
    for model in loyalty_models():
        model_admin = admin.site._registry[model]
        names = [f if isinstance(f, str) else f[0] for f in model_admin.list_filter]
        assert any(name.split("__")[-1] == "merchant" for name in names), model.__name__
    response = admin_client.get(url(Account, "changelist"), {"merchant__id__exact": merchant.pk})
    assert response.status_code == 200


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_ledger_history_cannot_be_added_changed_or_deleted(admin_client, ledger, name, rf):
    model = apps.get_model("loyalty", name)
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    obj = model.objects.first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_the_program_page_edits_tiers_rules_and_rewards_inline(admin_client, ledger):
    inlines = {inline.model.__name__ for inline in ProgramAdmin.inlines}
    assert inlines == {"Tier", "EarnRule", "CashbackRule", "Reward"}
    program = ledger.merchant.loyalty_program
    html = admin_client.get(url(type(program), "change", program.pk)).content.decode()
    for prefix in ("tiers", "earn_rules", "cashback_rules", "rewards"):
        assert f'name="{prefix}-TOTAL_FORMS"' in html, prefix


def test_an_accounts_balance_is_shown_but_not_editable(admin_client, ledger):
    account = customer_account(customer=ledger, kind="points")
    html = admin_client.get(url(Account, "change", account.pk)).content.decode()
    assert 'name="balance"' not in html
    assert 'name="floor"' not in html  # only a tab's floor can change
    assert admin_client.get(url(Account, "add")).status_code == 403
    assert admin_client.post(url(Account, "delete", account.pk), {"post": "yes"}).status_code == 403


def test_a_tab_limit_changed_in_the_admin_goes_through_the_checks(admin_client, ledger):
    tab = customer_account(customer=ledger, kind="tab")
    change = url(Account, "change", tab.pk)
    html = admin_client.get(change).content.decode()
    assert 'name="floor"' in html
    assert 'name="balance"' not in html

    refused = admin_client.post(change, {"floor": "-19999.99"})
    assert refused.status_code == 200
    message = ERR_LIMIT_BELOW_OWED.format(owed="Rp 20.000", limit="Rp 19.999,99")
    assert message in refused.content.decode()
    assert tab_balance(customer=ledger) == (Decimal("20000"), Decimal("50000"))

    raised = admin_client.post(change, {"floor": "-75000"})
    assert raised.status_code == 302
    assert tab_balance(customer=ledger) == (Decimal("20000"), Decimal("75000"))
    assert Account.objects.get(pk=tab.pk).balance == Decimal("-20000")
