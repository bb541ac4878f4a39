"""Admin: endpoints editable with the secret read-only; deliveries read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from langganan.webhooks.services import webhook_emit, webhook_endpoint_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_adding_an_endpoint_in_the_admin_generates_its_secret(admin_client, merchant):
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "merchant": merchant.pk,
            "url": "https://pos.example.id/h",
            "events": ["customer.created"],
            "is_active": "on",
            "secret": "chosen-by-the-user",
        },
    )

    assert response.status_code == 302, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["customer.created"]


def test_the_secret_cannot_be_changed_in_the_admin(admin_client, merchant):
    endpoint = webhook_endpoint_create(merchant=merchant, url="https://pos.example.id/h")
    url = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])

    page = admin_client.get(url)
    admin_client.post(url, {"url": "https://pos.example.id/new", "events": [], "secret": "mine"})

    endpoint.refresh_from_db()
    assert page.status_code == 200
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.url == "https://pos.example.id/new"
    assert endpoint.events == []


def test_deliveries_are_read_only_filterable_and_failed_ones_can_be_retried(admin_client, merchant):
    webhook_endpoint_create(merchant=merchant, url="https://pos.example.id/h")
    [made] = webhook_emit(merchant=merchant, event="customer.created", payload={})
    WebhookDelivery.objects.filter(pk=made.pk).update(status=DeliveryStatus.FAILED)
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")

    assert admin_client.get(changelist, {"status__exact": "failed"}).status_code == 200
    assert admin_client.get(changelist, {"q": "x"}).status_code == 200
    change = reverse("admin:webhooks_webhookdelivery_change", args=[made.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"status": "delivered"}).status_code == 403
    delete = reverse("admin:webhooks_webhookdelivery_delete", args=[made.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403

    admin_client.post(changelist, {"action": "retry_deliveries", "_selected_action": [made.pk]})
    made.refresh_from_db()
    assert made.status == DeliveryStatus.PENDING
