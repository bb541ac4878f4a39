"""Staff login cannot be brute-forced: wrong passwords lock the account and the address,
locked attempts are refused before any password is checked, the owner lifts a lock."""

from __future__ import annotations

from unittest import mock

import pytest
from click.testing import CliRunner
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.test.utils import override_settings

from langganan.cli import cli
from langganan.staff import guard
from langganan.staff.models import SignInLock
from tests.factories import MembershipFactory
from tests.web.helpers import log_in_member

PASSWORD = "rahasia-123"
LOGIN = "/login/"
LOCKED_ID = (
    "Terlalu banyak percobaan masuk. Coba lagi dalam 15 menit, atau minta pemilik usaha "
    "membuka kunci akun Anda."
)
ADDRESS_LOCKED_ID = "Terlalu banyak percobaan masuk dari alamat ini. Coba lagi dalam 15 menit."
BUSY_ID = "Server sedang sibuk memeriksa percobaan masuk lain. Coba lagi sebentar lagi."


def _post(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def cashier(merchant):
    return MembershipFactory(merchant=merchant, role="cashier").user


def test_a_hundred_wrong_passwords_then_the_right_one_does_not_log_in(client, cashier):
    statuses = [_post(client, cashier.username, f"salah-{i}").status_code for i in range(100)]
    response = _post(client, cashier.username, PASSWORD)
    assert not _logged_in(client)
    assert statuses[:4] == [200] * 4  # the form again, "username and password do not match"
    assert set(statuses[4:]) == {429}
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 14 * 60


def test_the_lock_says_in_indonesian_when_to_try_again(client, cashier):
    for i in range(4):
        _post(client, cashier.username, f"salah-{i}")
    response = _post(client, cashier.username, "salah-lagi")
    assert response.status_code == 429
    assert LOCKED_ID in response.content.decode()
    assert 'name="password"' in response.content.decode()  # still the login page


def test_the_lock_in_english_when_english_was_chosen(client, cashier):
    client.cookies["django_language"] = "en"
    for i in range(5):
        response = _post(client, cashier.username, f"wrong-{i}")
    assert "Too many login attempts. Try again in 15 minutes" in response.content.decode()


def test_a_locked_attempt_checks_no_password(client, cashier):
    for i in range(5):
        _post(client, cashier.username, f"salah-{i}")
    with mock.patch("langganan.web.forms.authenticate") as authenticate:
        for _ in range(10):
            assert _post(client, cashier.username, PASSWORD).status_code == 429
    authenticate.assert_not_called()


def test_the_lock_holds_in_every_worker(client, cashier):
    """The count and the lock are in the database, not in one process's memory."""
    for i in range(5):
        _post(client, cashier.username, f"salah-{i}")
    guard.forget_all()  # another worker process remembers nothing
    assert _post(Client(), cashier.username, PASSWORD).status_code == 429


def test_wrong_passwords_below_the_limit_then_the_right_one_logs_in(client, cashier):
    for i in range(4):
        _post(client, cashier.username, f"salah-{i}")
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)
    client.logout()
    for i in range(4):  # the success cleared the count
        _post(client, cashier.username, f"salah-{i}")
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)


def test_one_address_is_locked_across_accounts(client, cashier):
    attacker = "10.9.8.7"
    for i in range(20):  # one wrong password each for twenty usernames
        response = _post(client, f"tebakan{i}", "salah", address=attacker)
    assert response.status_code == 429
    assert ADDRESS_LOCKED_ID in response.content.decode()
    # the right password of a real account, from that address: refused unchecked
    response = _post(client, cashier.username, PASSWORD, address=attacker)
    assert response.status_code == 429
    assert ADDRESS_LOCKED_ID in response.content.decode()
    assert not _logged_in(client)
    # the same account from another address is not locked
    _post(client, cashier.username, PASSWORD, address="10.1.1.1")
    assert _logged_in(client)


def test_another_worker_refuses_a_locked_address_from_the_database(client, cashier):
    for i in range(20):
        _post(client, f"tebakan{i}", "salah", address="10.9.8.7")
    guard.forget_all()
    response = _post(Client(), cashier.username, PASSWORD, address="10.9.8.7")
    assert response.status_code == 429
    assert ADDRESS_LOCKED_ID in response.content.decode()


def test_the_owner_lifts_the_lock(client, merchant, cashier):
    for i in range(5):
        _post(Client(), cashier.username, f"salah-{i}")
    membership = cashier.memberships.get()
    owner = Client()
    log_in_member(owner, merchant, role="owner")
    page = owner.get(f"/m/{merchant.slug}/staff/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Terkunci 15 menit lagi" in text and "Buka kunci" in text
    response = owner.post(f"/m/{merchant.slug}/staff/{membership.pk}/unlock/", follow=True)
    assert "Kunci dibuka" in response.content.decode()
    lock = SignInLock.objects.get()
    assert lock.lifted_by is not None and lock.lifted_at is not None
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)


@pytest.mark.parametrize("role", ["cashier", "manager"])
def test_only_the_owner_lifts_a_lock(client, merchant, cashier, role):
    for i in range(5):
        _post(Client(), cashier.username, f"salah-{i}")
    membership = cashier.memberships.get()
    staff = Client()
    log_in_member(staff, merchant, role=role)
    assert staff.get(f"/m/{merchant.slug}/staff/").status_code == 403
    response = staff.post(f"/m/{merchant.slug}/staff/{membership.pk}/unlock/")
    assert response.status_code == 403
    assert guard.login_lock_get(username=cashier.username, address="127.0.0.1") is not None


def test_another_merchants_owner_cannot_lift_it(client, merchant, cashier):
    from tests.factories import MerchantFactory

    for i in range(5):
        _post(Client(), cashier.username, f"salah-{i}")
    membership = cashier.memberships.get()
    elsewhere = MerchantFactory()
    owner = Client()
    log_in_member(owner, elsewhere, role="owner")
    response = owner.post(f"/m/{elsewhere.slug}/staff/{membership.pk}/unlock/")
    assert response.status_code == 404
    assert owner.post(f"/m/{merchant.slug}/staff/{membership.pk}/unlock/").status_code == 404
    assert guard.login_lock_get(username=cashier.username, address="127.0.0.1") is not None


def test_the_command_line_lifts_a_lock(client, cashier):
    for i in range(5):
        _post(Client(), cashier.username, f"salah-{i}")
    result = CliRunner().invoke(cli, ["user", "unlock", cashier.username])
    assert result.exit_code == 0, result.output
    assert f"Unlocked {cashier.username}" in result.output
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)


def test_the_command_line_lifts_an_address_lock(client, cashier):
    for i in range(20):
        _post(Client(), f"tebakan{i}", "salah", address="10.9.8.7")
    result = CliRunner().invoke(cli, ["user", "unlock", "--address", "10.9.8.7"])
    assert result.exit_code == 0, result.output
    _post(client, cashier.username, PASSWORD, address="10.9.8.7")
    assert _logged_in(client)


@override_settings(LOGIN_PASSWORD_CHECK_WAIT=0)
def test_a_login_that_finds_every_password_check_slot_taken_is_asked_to_retry(client, cashier):
    with guard.password_check_slot() as held:  # another login is being checked
        assert held
        response = _post(client, cashier.username, PASSWORD)
    assert response.status_code == 429
    assert BUSY_ID in response.content.decode()
    assert not _logged_in(client)
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, cashier):
    with override_settings(TRUSTED_PROXIES=1):
        for i in range(20):
            client.post(
                LOGIN,
                {"username": f"tebakan{i}", "password": "salah"},
                HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2",
            )
        assert guard.login_lock_get(username="x", address="10.0.0.2") is not None
    assert guard.login_lock_get(username="x", address="127.0.0.1") is None


def test_passwords_are_hashed_with_argon2id_at_the_documented_cost(db):
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0] == "langganan.staff.hashers.StaffArgon2PasswordHasher"
    assert make_password("kata-sandi").startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_old_pbkdf2_hash_is_upgraded_at_login(client, cashier):
    cashier.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    cashier.save(update_fields=["password"])
    _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)
    cashier.refresh_from_db()
    assert cashier.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_logins_password_check_runs_at_the_lowest_cpu_priority(client, cashier):
    import os
    import threading

    from langganan.staff import hashers

    priorities = []
    real = hashers.at_low_priority

    def spy(function, *args):
        def measured(*inner):
            priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return function(*inner)

        return real(measured, *args)

    with mock.patch.object(hashers, "at_low_priority", spy):
        _post(client, cashier.username, "salah")  # a known username: verify
        _post(client, "tidak-ada", "salah")  # an unknown one: Django hashes once anyway
        _post(client, cashier.username, PASSWORD)
    assert _logged_in(client)
    assert priorities == [19, 19, 19]
