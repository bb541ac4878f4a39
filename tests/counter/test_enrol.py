"""Enrolling a member at the counter (issue 16, point 4): the service and the page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from langganan.core.errors import InvalidInput
from langganan.counter.enrolment import (
    COUNTER_WORDING,
    card_customer,
    card_token,
    counter_enrol,
)
from langganan.customers.models import ConsentEvent, Customer
from langganan.loyalty.models import Member, Voucher
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, OutletFactory
from tests.loyalty.factories import ProgramFactory, VoucherFactory

pytestmark = pytest.mark.django_db

PHONE_FORMS = [
    "0812-3456-7890",
    "081234567890",
    "6281234567890",
    "+62 812-3456-7890",
    "8123456789 0",
]


@pytest.fixture
def program(merchant):
    welcome = VoucherFactory(
        merchant=merchant,
        code="SELAMATDATANG",
        name="Selamat datang",
        is_template=True,
        kind="shared",
        max_uses=None,
        value=10000,
    )
    return ProgramFactory(
        merchant=merchant, signup_bonus=50, welcome_voucher=welcome, welcome_voucher_days=30
    )


def _enrol(merchant, outlet, phone="0812-3456-7890", **extra):
    return counter_enrol(
        merchant=merchant,
        outlet=outlet,
        phone=phone,
        full_name=extra.pop("full_name", "Rina Wati"),
        greeting=extra.pop("greeting", "Mbak"),
        **extra,
    )


# -- the service ---------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", PHONE_FORMS)
def test_every_indonesian_form_of_a_phone_number_is_stored_in_e164(merchant, outlet, phone):
    done = _enrol(merchant, outlet, phone=phone)
    assert done.created
    assert done.customer.phone == "+6281234567890"


def test_a_known_phone_number_is_recognised_and_not_duplicated(merchant, outlet, program):
    first = _enrol(merchant, outlet, phone="081234567890")
    again = _enrol(merchant, outlet, phone="+62 812 3456 7890", full_name="Someone Else")

    assert not again.created
    assert again.customer.pk == first.customer.pk
    assert Customer.objects.filter(merchant=merchant).count() == 1
    assert Customer.objects.get().full_name == "Rina Wati"


def test_the_greeting_gives_the_gender_and_the_optional_fields_are_kept(merchant, outlet):
    from datetime import date

    done = _enrol(
        merchant,
        outlet,
        greeting="Pak",
        birth_date=date(1980, 5, 17),
        city="Bandung",
        email="budi@contoh.id",
    )
    customer = Customer.objects.get(pk=done.customer.pk)
    assert (customer.greeting, customer.gender) == ("Pak", "M")
    assert customer.birth_date == date(1980, 5, 17)
    assert customer.city == "Bandung"
    assert customer.email == "budi@contoh.id"
    assert customer.acquisition_source == "counter"


def test_consent_is_recorded_per_channel_with_source_time_and_wording(merchant, outlet):
    done = _enrol(merchant, outlet, consents={"whatsapp": True, "sms": False})

    events = {e.channel: e for e in ConsentEvent.objects.filter(customer=done.customer)}
    assert set(events) == {"whatsapp", "sms", "email"}
    assert events["whatsapp"].granted is True
    assert events["sms"].granted is False and events["email"].granted is False
    for event in events.values():
        assert event.source == f"counter:{outlet.code}"
        assert event.wording_version == COUNTER_WORDING
        assert event.occurred_at is not None


def test_the_welcome_voucher_is_issued_once(merchant, outlet, program):
    done = _enrol(merchant, outlet)
    _enrol(merchant, outlet)  # the same customer again, at the counter

    assert isinstance(done.member, Member)
    assert done.welcome_voucher is not None
    assert done.welcome_voucher.customer_id == done.customer.pk
    assert Voucher.objects.filter(customer=done.customer, is_template=False).count() == 1


def test_without_a_program_the_customer_is_registered_without_membership(merchant, outlet):
    done = _enrol(merchant, outlet)
    assert done.created and done.member is None and done.welcome_voucher is None


@pytest.mark.parametrize(
    ("phone", "name"), [("", "Rina"), ("12345", "Rina"), ("0812-3456-7890", "  ")]
)
def test_a_missing_name_or_a_wrong_phone_is_refused(merchant, outlet, phone, name):
    with pytest.raises(InvalidInput):
        _enrol(merchant, outlet, phone=phone, full_name=name)
    assert not Customer.objects.exists()


def test_the_card_link_names_only_its_customer(merchant, outlet):
    done = _enrol(merchant, outlet)
    token = card_token(done.customer)
    assert card_customer(token).pk == done.customer.pk
    assert card_customer(token[:-2] + "xx") is None
    assert card_customer("nonsense") is None


# -- the page ------------------------------------------------------------------------------------


def _staff(merchant, role="cashier", outlet=None) -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role, outlet=outlet).user)
    return client


def _form(**extra):
    return {
        "phone": "0812 3456 7890",
        "full_name": "Rina Wati",
        "greeting": "Mbak",
        "birth_date": "",
        "city": "",
        "consent_whatsapp": "on",
        **extra,
    }


def test_a_cashier_enrols_a_member_and_sees_the_card_and_the_whatsapp_link(
    merchant, outlet, program
):
    cashier = _staff(merchant, outlet=outlet)
    url = reverse("counter:enrol", kwargs={"slug": merchant.slug})

    assert cashier.get(url).status_code == 200
    response = cashier.post(url, _form())

    customer = Customer.objects.get(merchant=merchant)
    done = reverse("counter:enrol_done", kwargs={"slug": merchant.slug, "pk": customer.pk})
    assert response.status_code == 302 and response["Location"] == done
    html = cashier.get(done).content.decode()
    assert "Mbak Rina" in html and customer.member_code in html
    assert "<svg" in html and "viewBox" in html  # the QR code, scaled whole by the page
    assert "https://wa.me/6281234567890?text=" in html
    assert "SELAMATDATANG" not in html  # the member's own code, not the template's
    voucher = Voucher.objects.get(customer=customer)
    assert voucher.code in html and "Rp 10.000" in html
    assert ConsentEvent.objects.get(customer=customer, channel="whatsapp").granted


def test_an_existing_phone_shows_that_customer_instead_of_a_duplicate(merchant, outlet):
    known = CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6281234567890")
    cashier = _staff(merchant)
    url = reverse("counter:enrol", kwargs={"slug": merchant.slug})

    response = cashier.post(url, _form(phone="62812-3456-7890", full_name="Budi S"))

    assert response.status_code == 302
    assert response["Location"].endswith(f"/{known.pk}/?known=1")
    html = cashier.get(response["Location"]).content.decode()
    assert "sudah terdaftar" in html and "Budi" in html
    assert Customer.objects.filter(merchant=merchant).count() == 1
    assert not ConsentEvent.objects.filter(customer=known).exists()


def test_the_phone_check_says_whether_the_number_is_known(merchant):
    CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6281234567890")
    cashier = _staff(merchant)
    url = reverse("counter:enrol_check", kwargs={"slug": merchant.slug})

    assert cashier.get(url, {"phone": "0812-3456-7890"}).json()["known"] is True
    assert cashier.get(url, {"phone": "0812-9999-0000"}).json() == {"valid": True, "known": False}
    assert cashier.get(url, {"phone": "123"}).json()["valid"] is False


def test_a_bad_phone_number_is_answered_in_indonesian_and_nothing_is_saved(merchant, outlet):
    cashier = _staff(merchant)
    url = reverse("counter:enrol", kwargs={"slug": merchant.slug})

    response = cashier.post(url, _form(phone="12345"))

    assert response.status_code == 400
    assert "Nomor HP Indonesia tidak valid" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_cashier_opens_only_the_card_of_the_member_they_enrolled(merchant, outlet):
    other = CustomerFactory(merchant=merchant)
    cashier = _staff(merchant)
    cashier.post(reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form())

    url = reverse("counter:enrol_done", kwargs={"slug": merchant.slug, "pk": other.pk})
    assert cashier.get(url).status_code == 403


def test_another_merchants_enrolment_page_is_a_404(merchant, outlet):
    stranger = _staff(MerchantFactory(), role="owner")
    assert stranger.get(reverse("counter:enrol", kwargs={"slug": merchant.slug})).status_code == 404


def test_the_public_card_page_shows_the_members_card(merchant, outlet):
    done = _enrol(merchant, outlet)
    response = Client().get(reverse("counter:card", kwargs={"token": card_token(done.customer)}))
    html = response.content.decode()
    assert response.status_code == 200
    assert done.customer.member_code in html and "<svg" in html
    assert Client().get(reverse("counter:card", kwargs={"token": "x"})).status_code == 404


def test_a_merchant_without_an_outlet_gets_a_clear_refusal(merchant):
    cashier = _staff(merchant)
    response = cashier.post(reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form())
    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_the_cashier_outlet_is_the_consent_source(merchant):
    OutletFactory(merchant=merchant, code="A")
    second = OutletFactory(merchant=merchant, code="B")
    cashier = _staff(merchant, outlet=second)
    cashier.post(reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form())
    assert ConsentEvent.objects.filter(source="counter:B").count() == 3


def test_a_new_member_is_recorded_with_the_outlet_and_the_cashier(merchant, outlet):
    from langganan.counter.models import MemberSignup

    membership = MembershipFactory(merchant=merchant, role="cashier", outlet=outlet)
    cashier = Client()
    cashier.force_login(membership.user)
    url = reverse("counter:enrol", kwargs={"slug": merchant.slug})
    cashier.post(url, _form())
    cashier.post(url, _form(full_name="Again"))  # a known number: nothing more

    signup = MemberSignup.objects.get()
    assert signup.customer.phone == "+6281234567890"
    assert (signup.outlet, signup.staff, signup.source) == (outlet, membership.user, "counter")
    assert signup.at == signup.customer.joined_at


def test_a_known_customer_who_is_not_a_member_is_enrolled_and_keeps_their_details(
    merchant, outlet, program
):
    imported = CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6281234567890")
    cashier = _staff(merchant, outlet=outlet)

    response = cashier.post(
        reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form(full_name="B")
    )

    assert response["Location"].endswith(f"/{imported.pk}/?known=member")
    html = cashier.get(response["Location"]).content.decode()
    assert "sekarang sudah jadi member" in html
    imported.refresh_from_db()
    assert imported.full_name == "Budi Santoso"
    assert Member.objects.filter(customer=imported).exists()
    assert Voucher.objects.filter(customer=imported).count() == 1
    # the next time, nothing more
    again = cashier.post(reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form())
    assert again["Location"].endswith("?known=1")
    assert Voucher.objects.filter(customer=imported).count() == 1


def test_after_enrolling_the_cashier_continues_at_the_counter_with_the_new_member(merchant, outlet):
    cashier = _staff(merchant, outlet=outlet)
    done = cashier.post(reverse("counter:enrol", kwargs={"slug": merchant.slug}), _form())

    html = cashier.get(done["Location"]).content.decode()

    screen = reverse("counter:screen", kwargs={"slug": merchant.slug})
    assert f'href="{screen}"' in html and "Lanjut ke kasir" in html
