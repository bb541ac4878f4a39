"""Every model has a working Django admin: list, search and add pages render."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MembershipFactory,
    UserFactory,
)

DOMAIN_APPS = {"core", "customers", "sales", "campaigns"}


@pytest.fixture
def admin_client(client, db):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def domain_models():
    return [m for m in admin.site._registry if m._meta.app_label in DOMAIN_APPS]


def test_every_domain_model_is_registered():
    names = {m.__name__ for m in domain_models()}
    assert names >= {
        "Merchant",
        "Outlet",
        "Membership",
        "Customer",
        "ConsentEvent",
        "ProductCategory",
        "Product",
        "Transaction",
        "LineItem",
        "Audience",
        "MessageTemplate",
        "Campaign",
        "Recipient",
        "Message",
        "ChannelAccount",
        "MessagingPolicy",
    }


def test_admin_list_search_and_change_pages_render(admin_client):
    MembershipFactory()
    LineItemFactory(transaction__customer=CustomerFactory())
    for model in domain_models():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        assert admin_client.get(changelist, {"q": "x"}).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change


def test_consent_history_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    from langganan.customers.services import consent_record

    event = consent_record(customer=CustomerFactory(), channel="sms", granted=True, source="x")
    delete = reverse("admin:customers_consentevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
