"""API keys: Bearer auth, only a hash stored, CLI and admin."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from django.urls import reverse

from langganan.api.models import ApiKey
from langganan.api.services import api_key_create, api_key_revoke
from langganan.cli import cli
from tests.api.conftest import Api, assert_problem
from tests.factories import UserFactory


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer lg_\x7f"],
)
def test_a_request_without_a_valid_key_is_a_401_problem(shop, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = Api(None).client.get(
        "/api/v1/customers/lookup", {"phone": shop.customer.phone}, headers=headers
    )
    body = assert_problem(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"]


def test_a_revoked_key_stops_working_at_once(shop):
    assert shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).status_code == 200
    api_key_revoke(prefix=shop.raw_key[:11])
    response = shop.api.get("/customers/lookup", {"phone": shop.customer.phone})
    assert_problem(response, 401, "unauthorized")


def test_a_key_of_an_inactive_outlet_is_refused(shop):
    shop.outlet.is_active = False
    shop.outlet.save()
    assert_problem(shop.api.get("/customers/lookup", {"phone": shop.customer.phone}), 401)


def test_only_the_hash_of_a_key_is_stored_and_its_use_is_recorded(shop):
    key = ApiKey.objects.get(merchant=shop.merchant)
    assert key.key_hash == hashlib.sha256(shop.raw_key.encode()).hexdigest()
    assert key.prefix == shop.raw_key[:11] and key.prefix.startswith("lg_")
    stored = [str(v) for v in ApiKey.objects.values_list(flat=False).get(pk=key.pk)]
    assert shop.raw_key not in stored
    assert key.last_used_at is None
    shop.api.get("/customers/lookup", {"phone": shop.customer.phone})
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_key_cannot_be_made_for_another_merchants_outlet(shop, other):
    from langganan.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        api_key_create(merchant=shop.merchant, outlet=other.outlet)


def test_cli_creates_a_key_prints_it_once_lists_and_revokes_it(shop):
    created = run(
        "apikey",
        "create",
        "--merchant",
        shop.merchant.slug,
        "--outlet",
        shop.outlet.code,
        "--name",
        "Kasir 2",
    )
    assert created.exit_code == 0, created.output
    raw = created.output.strip().splitlines()[-1]
    assert raw.startswith("lg_") and len(raw) > 40
    assert Api(raw).get("/customers/lookup", {"phone": shop.customer.phone}).status_code == 200

    listed = run("apikey", "list", "--merchant", shop.merchant.slug, "--json")
    rows = json.loads(listed.output)
    assert {r["name"] for r in rows} == {"Kasir 1", "Kasir 2"}
    assert raw not in listed.output
    assert raw[:11] in listed.output
    assert run("apikey", "list", "--merchant", shop.merchant.slug).exit_code == 0

    revoked = run("apikey", "revoke", raw[:11])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert Api(raw).get("/customers/lookup", {"phone": shop.customer.phone}).status_code == 401
    again = run("apikey", "revoke", raw[:11])
    assert again.exit_code == 1 and "already revoked" in again.output


def test_cli_reports_an_unknown_merchant_outlet_or_prefix(shop):
    assert run("apikey", "create", "--merchant", "nope", "--outlet", "X").exit_code == 1
    result = run("apikey", "create", "--merchant", shop.merchant.slug, "--outlet", "NOPE")
    assert result.exit_code == 1 and "outlet" in result.output
    assert run("apikey", "revoke", "lg_nothing").exit_code == 1


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_shows_keys_read_only_and_revokes_them(admin_client, shop):
    key = ApiKey.objects.get(merchant=shop.merchant)
    changelist = reverse("admin:api_apikey_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "lg_"}).status_code == 200
    change = admin_client.get(reverse("admin:api_apikey_change", args=[key.pk]))
    assert change.status_code == 200
    assert 'name="key_hash"' not in change.content.decode()  # shown, not editable
    assert admin_client.get(reverse("admin:api_apikey_add")).status_code == 403
    response = admin_client.post(
        changelist, {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert shop.api.get("/customers/lookup", {"phone": shop.customer.phone}).status_code == 401
