"""Wrong API keys are throttled per address: 429 problem with Retry-After after the limit,
before any key is looked up; valid keys from other addresses go on, and a valid key costs no
extra query."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from langganan.staff import guard
from langganan.staff.models import SignInFailure

from .conftest import Api

WRONG = "lgk_" + "x" * 40
LIMIT = 20  # API_KEY_FAILURES_PER_ADDRESS
ATTACKER = "10.6.6.6"


def _lookup(api: Api, address: str, phone: str = "+6281200000000"):
    return api.client.get(
        "/api/v1/customers/lookup",
        {"phone": phone},
        headers=api._headers(),
        REMOTE_ADDR=address,
    )


def test_wrong_keys_from_one_address_get_429_after_the_limit(shop):
    wrong = Api(WRONG)
    statuses = [_lookup(wrong, ATTACKER).status_code for _ in range(LIMIT + 5)]
    assert statuses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert set(statuses[LIMIT - 1 :]) == {429}
    response = _lookup(wrong, ATTACKER)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 429 and body["title"] == "Too many requests"
    assert body["code"] == "too_many_wrong_keys"
    assert 9 * 60 < int(response["Retry-After"]) <= 10 * 60


def test_a_locked_address_is_refused_before_any_key_is_looked_up(shop):
    wrong = Api(WRONG)
    for _ in range(LIMIT):
        _lookup(wrong, ATTACKER)
    with CaptureQueriesContext(connection) as queries:
        assert _lookup(Api(shop.raw_key), ATTACKER).status_code == 429
        assert _lookup(wrong, ATTACKER).status_code == 429
    assert len(queries) == 0


def test_valid_keys_from_another_address_are_unaffected(shop):
    wrong = Api(WRONG)
    for _ in range(LIMIT + 3):
        _lookup(wrong, ATTACKER)
    response = _lookup(shop.api, "10.1.2.3", phone=str(shop.customer.phone))
    assert response.status_code == 200


def test_another_worker_finds_the_lock_in_the_database(shop):
    wrong = Api(WRONG)
    for _ in range(LIMIT):
        _lookup(wrong, ATTACKER)
    guard.forget_all()  # a worker process that has not seen this address
    assert _lookup(wrong, ATTACKER).status_code == 429
    assert SignInFailure.objects.count() == LIMIT  # no failure counted while locked


def test_a_valid_key_writes_nothing_and_reads_no_throttle(shop):
    phone = str(shop.customer.phone)
    _lookup(shop.api, "10.1.2.3", phone=phone)  # the key's last use is recorded once a minute
    with CaptureQueriesContext(connection) as queries:
        assert _lookup(shop.api, "10.1.2.3", phone=phone).status_code == 200
    assert not [q for q in queries if "staff_" in q["sql"]]
    assert SignInFailure.objects.count() == 0


def test_wrong_keys_below_the_limit_do_not_lock(shop):
    wrong = Api(WRONG)
    for _ in range(LIMIT - 1):
        assert _lookup(wrong, ATTACKER).status_code == 401
    response = _lookup(shop.api, ATTACKER, phone=str(shop.customer.phone))
    assert response.status_code == 200
