"""Optional two-step login for owners: after the password, the authenticator's current code;
a wrong code is a failed login of that account."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from langganan.staff.two_factor import totp_confirm, totp_device_pending
from tests.factories import MembershipFactory

PASSWORD = "rahasia-123"
WRONG_CODE_ID = "Kode itu salah. Ketik kode yang sedang tampil di aplikasi autentikator Anda."


def _code(device: TOTPDevice, shift: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + shift * device.step
    return f"{totp.token():0{device.digits}d}"


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def owner(merchant):
    user = MembershipFactory(merchant=merchant, role="owner").user
    device = totp_device_pending(user=user)
    totp_confirm(user=user, code=_code(device))
    return user


def _password(client, user):
    return client.post("/login/", {"username": user.username, "password": PASSWORD})


def test_the_owner_with_two_step_login_is_asked_for_the_code(client, owner):
    response = _password(client, owner)
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert not _logged_in(client)
    page = client.get("/login/code/")
    assert "aplikasi autentikator" in page.content.decode()
    device = TOTPDevice.objects.get(user=owner)
    # the next step's code: the one that turned it on cannot be used twice
    response = client.post("/login/code/", {"code": _code(device, shift=1)})
    assert response.status_code == 302
    assert _logged_in(client)


def test_a_wrong_code_does_not_log_in_and_counts_as_a_failed_login(client, owner):
    _password(client, owner)
    device = TOTPDevice.objects.get(user=owner)
    wrong = _code(device, shift=20)
    response = client.post("/login/code/", {"code": wrong})
    assert response.status_code == 200
    assert WRONG_CODE_ID in response.content.decode()
    assert not _logged_in(client)
    for _ in range(4):
        response = client.post("/login/code/", {"code": wrong})
    assert response.status_code == 429
    assert "Terlalu banyak percobaan masuk" in response.content.decode()
    # the account is locked: the password is refused unchecked now
    assert _password(Client(), owner).status_code == 429


def test_the_code_page_without_a_right_password_goes_back_to_the_login(client, owner):
    response = client.post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not _logged_in(client)


def test_a_cashier_without_an_authenticator_logs_in_with_the_password(client, merchant):
    cashier = MembershipFactory(merchant=merchant, role="cashier").user
    _password(client, cashier)
    assert _logged_in(client)


def test_the_owner_turns_it_on_with_the_first_code_and_off_with_a_current_one(client, merchant):
    owner = MembershipFactory(merchant=merchant, role="owner").user
    client.force_login(owner)
    url = f"/m/{merchant.slug}/staff/two-factor/"
    page = client.get(url).content.decode()
    assert "<svg" in page and "Pindai kode ini" in page
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    response = client.post(url, {"action": "enable", "code": _code(device, shift=30)})
    assert WRONG_CODE_ID in response.content.decode()
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait a second after a wrong one
    client.post(url, {"action": "enable", "code": _code(device)})
    assert TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    assert "Verifikasi dua langkah aktif." in client.get(url).content.decode()
    client.post(url, {"action": "disable", "code": _code(device, shift=1)})
    assert not TOTPDevice.objects.filter(user=owner).exists()


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_owners_open_the_two_step_page(client, merchant, role):
    user = MembershipFactory(merchant=merchant, role=role).user
    client.force_login(user)
    assert client.get(f"/m/{merchant.slug}/staff/two-factor/").status_code == 403


def test_the_right_password_does_not_clear_the_wrong_codes(client, owner):
    _password(client, owner)
    device = TOTPDevice.objects.get(user=owner)
    wrong = _code(device, shift=20)
    for _ in range(4):
        client.post("/login/code/", {"code": wrong})
    _password(client, owner)  # the password again: the four wrong codes still count
    response = client.post("/login/code/", {"code": wrong})
    assert response.status_code == 429
    assert not _logged_in(client)
