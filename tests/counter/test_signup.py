"""Self sign-up by QR (issue 16, point 5): the poster, the public page and its protections."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from langganan.counter.enrolment import (
    SIGNUP_WORDING,
    signup_link_get,
    signup_link_renew,
    signup_submit,
)
from langganan.counter.models import SignupAttempt, SignupLink
from langganan.customers.models import ConsentEvent, Customer
from langganan.loyalty.models import Member, Voucher
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, OutletFactory
from tests.loyalty.factories import ProgramFactory, VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(outlet):
    return signup_link_get(outlet=outlet)


@pytest.fixture
def program(merchant):
    welcome = VoucherFactory(
        merchant=merchant, code="HALO", is_template=True, kind="shared", max_uses=None
    )
    return ProgramFactory(merchant=merchant, welcome_voucher=welcome, welcome_voucher_days=30)


def _url(link, name="counter:signup") -> str:
    return reverse(name, kwargs={"token": link.token})


def _form(**extra):
    return {
        "phone": "0812-3456-7890",
        "full_name": "Dewi Lestari",
        "birth_date": "1995-04-12",
        "email": "",
        "consent_whatsapp": "on",
        "website": "",
        **extra,
    }


def _client(address="10.0.0.1") -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address)


def _post(client: Client, link, **extra):
    """Open the page (as a phone would: it sets the CSRF cookie), then send the form."""
    page = client.get(_url(link))
    assert page.status_code == 200
    token = page.context["csrf_token"]
    return client.post(_url(link), {**_form(**extra), "csrfmiddlewaretoken": str(token)})


def _page_text(response) -> str:
    """The page without its CSRF token (different for each visitor)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


# -- the link ------------------------------------------------------------------------------------


def test_each_outlet_has_one_unguessable_token(outlet):
    first = signup_link_get(outlet=outlet)
    assert signup_link_get(outlet=outlet).pk == first.pk
    assert len(first.token) >= 22
    assert str(outlet.pk) != first.token and outlet.code not in first.token
    other = signup_link_get(outlet=OutletFactory(merchant=outlet.merchant))
    assert other.token != first.token


def test_a_bad_token_is_a_404(link):
    client = Client()
    for token in ("tidak-ada", link.token[:-1], str(link.outlet_id)):
        for name in ("counter:signup", "counter:signup_thanks", "counter:signup_privacy"):
            assert client.get(reverse(name, kwargs={"token": token})).status_code == 404


def test_a_renewed_link_makes_the_old_poster_a_404(link, outlet):
    old = link.token
    renewed = signup_link_renew(outlet=outlet)
    assert renewed.token != old
    assert Client().get(reverse("counter:signup", kwargs={"token": old})).status_code == 404
    assert Client().get(_url(renewed)).status_code == 200


def test_an_inactive_outlets_link_is_a_404(link, outlet):
    outlet.is_active = False
    outlet.save()
    assert Client().get(_url(link)).status_code == 404


# -- signing up ----------------------------------------------------------------------------------


def test_a_new_phone_becomes_a_member_with_its_consent(link, program):
    response = _post(_client(), link, email="dewi@contoh.id")

    assert response.status_code == 302
    assert response["Location"] == _url(link, "counter:signup_thanks")
    customer = Customer.objects.get(phone="+6281234567890")
    assert customer.full_name == "Dewi Lestari"
    assert customer.birth_date.isoformat() == "1995-04-12"
    assert customer.acquisition_source == "signup"
    assert customer.email == "dewi@contoh.id"
    assert Member.objects.filter(customer=customer).exists()
    assert Voucher.objects.filter(customer=customer).count() == 1
    events = {e.channel: e for e in ConsentEvent.objects.filter(customer=customer)}
    assert events["whatsapp"].granted and not events["sms"].granted
    assert {e.source for e in events.values()} == {f"signup:{link.outlet.code}"}
    assert {e.wording_version for e in events.values()} == {SIGNUP_WORDING}


def test_an_existing_phone_is_not_duplicated_and_the_answer_is_the_same(link, program):
    known = CustomerFactory(
        merchant=link.merchant, full_name="Dewi Lama", phone="+6281234567890", birth_date=None
    )
    new_answer = _post(_client("10.0.0.2"), link, phone="0813-1111-2222")
    known_answer = _post(_client("10.0.0.3"), link, phone="62 812 3456 7890", full_name="X")

    assert known_answer.status_code == new_answer.status_code == 302
    assert known_answer["Location"] == new_answer["Location"]
    assert Customer.objects.filter(merchant=link.merchant, phone="+6281234567890").count() == 1
    known.refresh_from_db()
    assert known.full_name == "Dewi Lama" and known.birth_date is None  # the profile unchanged
    thanks_new = _page_text(_client("10.0.0.2").get(new_answer["Location"]))
    thanks_known = _page_text(_client("10.0.0.3").get(known_answer["Location"]))
    assert thanks_new == thanks_known
    assert "Dewi" not in thanks_known


def test_an_existing_phone_gets_only_the_consent_ticked_now(link):
    known = CustomerFactory(merchant=link.merchant, phone="+6281234567890")
    ConsentEvent.objects.create(
        merchant=link.merchant, customer=known, channel="sms", granted=True, source="import"
    )

    signup_submit(
        link=link,
        phone="081234567890",
        full_name="Whoever",
        consents={"whatsapp": True, "sms": False, "email": False},
    )

    events = list(ConsentEvent.objects.filter(customer=known).order_by("id"))
    assert [(e.channel, e.granted) for e in events] == [("sms", True), ("whatsapp", True)]
    assert events[-1].source == f"signup:{link.outlet.code}"
    # a second sign-up with the same ticks adds nothing
    signup_submit(link=link, phone="081234567890", full_name="Whoever", consents={"whatsapp": True})
    assert ConsentEvent.objects.filter(customer=known).count() == 2


def test_the_honeypot_filled_creates_nothing_and_looks_the_same(link):
    response = _post(_client(), link, website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == _url(link, "counter:signup_thanks")
    assert not Customer.objects.exists()


def test_a_wrong_phone_is_shown_again_in_indonesian(link):
    response = _post(_client(), link, phone="12345")
    assert response.status_code == 400
    assert "Nomor HP Indonesia tidak valid" in response.content.decode()
    assert not Customer.objects.exists()


def test_the_form_needs_its_csrf_token(link):
    client = _client()
    response = client.post(_url(link), _form())
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_another_merchants_customer_with_the_phone_is_left_alone(link):
    stranger = CustomerFactory(merchant=MerchantFactory(), phone="+6281234567890")
    _post(_client(), link)
    assert Customer.objects.filter(phone="+6281234567890").count() == 2
    assert not ConsentEvent.objects.filter(customer=stranger).exists()


def test_the_page_shows_no_customer_data(link):
    CustomerFactory(merchant=link.merchant, full_name="Rahasia Sekali", phone="+6281234567890")
    html = Client().get(_url(link)).content.decode()
    assert "Rahasia" not in html and "6281234567890" not in html
    assert _url(link, "counter:signup_privacy") in html
    response = _post(_client(), link, phone="0812-3456-7890", full_name="")
    assert "Rahasia" not in response.content.decode()


def test_the_privacy_notice_names_the_merchant_purposes_and_rights(link):
    html = Client().get(_url(link, "counter:signup_privacy")).content.decode()
    assert link.merchant.name in html
    assert "Pemberitahuan privasi" in html and "Hak Anda" in html and "BERHENTI" in html


# -- rate limits ---------------------------------------------------------------------------------


def test_too_many_sign_ups_from_one_address_are_refused(link, settings):
    settings.SIGNUP_PER_ADDRESS = 3
    client = _client("10.9.9.9")
    for n in range(3):
        assert _post(client, link, phone=f"0812-3456-700{n}").status_code == 302
    refused = _post(client, link, phone="0812-3456-7009")

    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert "coba lagi" in refused.content.decode().lower()
    assert Customer.objects.count() == 3
    # another address still signs up
    assert _post(_client("10.9.9.10"), link, phone="0812-3456-7010").status_code == 302


def test_too_many_sign_ups_through_one_outlet_are_refused(link, settings):
    settings.SIGNUP_PER_OUTLET = 2
    for n in range(2):
        assert _post(_client(f"10.1.1.{n}"), link, phone=f"0812-3456-710{n}").status_code == 302
    assert _post(_client("10.1.1.9"), link, phone="0812-3456-7109").status_code == 429
    # the outlet next door has its own count
    other = signup_link_get(outlet=OutletFactory(merchant=link.merchant))
    assert _post(_client("10.1.1.8"), other, phone="0812-3456-7108").status_code == 302


def test_sign_ups_older_than_the_window_do_not_count(link, settings):
    from django.utils import timezone

    settings.SIGNUP_PER_ADDRESS = 1
    old = timezone.now() - timedelta(hours=2)
    SignupAttempt.objects.create(link=link, address="10.2.2.2", at=old)
    assert _post(_client("10.2.2.2"), link).status_code == 302


def test_the_honeypot_counts_toward_the_limit(link, settings):
    settings.SIGNUP_PER_ADDRESS = 1
    client = _client("10.3.3.3")
    _post(client, link, website="spam")
    assert _post(client, link).status_code == 429
    assert not Customer.objects.exists()


# -- the poster ----------------------------------------------------------------------------------


def _staff(merchant, role) -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def test_the_poster_shows_the_qr_code_of_the_outlets_sign_up_page(merchant, outlet):
    manager = _staff(merchant, "manager")
    url = reverse("counter:poster", kwargs={"slug": merchant.slug, "outlet_id": outlet.pk})

    html = manager.get(url).content.decode()

    link = SignupLink.objects.get(outlet=outlet)
    assert f"/daftar/{link.token}/" in html
    assert "<svg" in html and "Jadi member" in html
    listing = manager.get(reverse("counter:poster_list", kwargs={"slug": merchant.slug}))
    assert url in listing.content.decode()


def test_another_merchants_outlet_poster_is_a_404(merchant):
    foreign = OutletFactory(merchant=MerchantFactory())
    owner = _staff(merchant, "owner")
    for name, method in (("counter:poster", "get"), ("counter:poster_renew", "post")):
        url = reverse(name, kwargs={"slug": merchant.slug, "outlet_id": foreign.pk})
        assert getattr(owner, method)(url).status_code == 404
    assert not SignupLink.objects.exists()


def test_a_cashier_gets_403_on_the_poster(merchant, outlet):
    cashier = _staff(merchant, "cashier")
    for url in (
        reverse("counter:poster", kwargs={"slug": merchant.slug, "outlet_id": outlet.pk}),
        reverse("counter:poster_list", kwargs={"slug": merchant.slug}),
    ):
        assert cashier.get(url).status_code == 403
    renew = reverse("counter:poster_renew", kwargs={"slug": merchant.slug, "outlet_id": outlet.pk})
    assert cashier.post(renew).status_code == 403


def test_a_manager_renews_the_link_from_the_poster(merchant, outlet, link):
    manager = _staff(merchant, "manager")
    old = link.token
    url = reverse("counter:poster_renew", kwargs={"slug": merchant.slug, "outlet_id": outlet.pk})
    assert manager.post(url).status_code == 302
    assert SignupLink.objects.get(outlet=outlet).token != old


def test_the_public_pages_are_not_indexed_cached_or_referred_elsewhere(link):
    for name in ("counter:signup", "counter:signup_thanks", "counter:signup_privacy"):
        response = Client().get(_url(link, name))
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        # not "no-referrer": the form's POST would carry Origin: null and fail the CSRF check
        assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in Client().get(_url(link))["Cache-Control"]


def test_a_self_sign_up_is_recorded_with_its_outlet_and_no_cashier(link):
    from langganan.counter.models import MemberSignup

    _post(_client("10.4.4.4"), link)
    _post(_client("10.4.4.5"), link, full_name="Again")  # a known number: nothing more

    signup = MemberSignup.objects.get()
    assert (signup.outlet, signup.staff, signup.source) == (link.outlet, None, "signup")


def test_the_sign_up_page_reads_in_english_too(link):
    from django.conf import settings

    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switcher's choice
    html = english.get(_url(link)).content.decode()
    assert "Become a member" in html
    assert "Yes, send me promos and reminders by WhatsApp." in html
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get(_url(link)).content.decode()
    assert "Jadi member" in html and "Become a member" not in html  # Indonesian first


def test_a_known_customer_who_is_not_a_member_becomes_one_by_signing_up(link, program):
    imported = CustomerFactory(merchant=link.merchant, phone="+6281234567890")

    response = _post(_client("10.5.5.5"), link)

    assert response["Location"] == _url(link, "counter:signup_thanks")
    assert Member.objects.filter(customer=imported).exists()
    assert Voucher.objects.filter(customer=imported).count() == 1
