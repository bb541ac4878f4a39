"""Logging in and out, the start page, and what anonymous visitors are allowed to see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_in_indonesian_for_an_anonymous_visitor(client):
    response = client.get(reverse("web:login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Masuk" in html
    assert "Kata sandi" in html
    assert "/static/web/app.css" in html


def test_correct_password_logs_in_and_lands_on_the_first_merchants_overview(client):
    membership = MembershipFactory(merchant__name="Warteg Bu Sri", merchant__slug="warteg-bu-sri")

    response = client.post(
        reverse("web:login"),
        {"username": membership.user.username, "password": "rahasia-123"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/m/warteg-bu-sri/"
    assert response.status_code == 200
    assert "Warteg Bu Sri" in response.content.decode()


def test_wrong_password_shows_an_error_and_does_not_log_in(client):
    user = UserFactory()

    response = client.post(
        reverse("web:login"), {"username": user.username, "password": "salah-sandi"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Nama pengguna dan kata sandi tidak cocok" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("name", ["customers:customer_list", "customers:customer_detail"])
def test_anonymous_visitor_is_sent_to_the_login_page(client, merchant, name):
    customer = CustomerFactory(merchant=merchant)
    kwargs = {"slug": merchant.slug}
    if name == "customers:customer_detail":
        kwargs["pk"] = customer.pk
    url = reverse(name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_start_page_sends_an_anonymous_visitor_to_login(client):
    response = client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")


def test_start_page_sends_a_member_to_their_first_merchant_by_name(client):
    user = UserFactory()
    MembershipFactory(user=user, merchant__name="Zebra Kopi", merchant__slug="zebra")
    MembershipFactory(user=user, merchant__name="Apotek Ayu", merchant__slug="apotek-ayu")
    client.force_login(user)

    response = client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"] == "/m/apotek-ayu/"


def test_start_page_tells_a_user_without_a_merchant_so(client):
    client.force_login(UserFactory(username="budi"))

    response = client.get(reverse("web:home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Belum ada usaha" in html
    assert "Halo budi" in html


def test_logged_in_user_visiting_login_is_sent_on(client, merchant, member):
    response = client.get(reverse("web:login"))

    assert response.status_code == 302


def test_logout_is_a_post_and_ends_the_session(client, merchant, member):
    assert client.get(reverse("web:logout")).status_code == 405

    response = client.post(reverse("web:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert "_auth_user_id" not in client.session


def test_pages_show_the_user_and_a_logout_button(client, merchant, member):
    response = client.get(reverse("customers:customer_list", kwargs={"slug": merchant.slug}))

    html = response.content.decode()
    assert member.username in html
    assert f'action="{reverse("web:logout")}" method="post"' in html
    assert "Keluar" in html
