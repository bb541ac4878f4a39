"""Set-up in the browser (issue 18, point 1): the installation's first owner creates the
business, its outlets and the loyalty program from the browser, with no command but
``langganan owner create``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.urls import reverse

from langganan.cli import cli
from langganan.core.models import Membership, Merchant, Outlet, Role
from langganan.loyalty.models import ExpiryPolicy, Program, Voucher
from langganan.loyalty.program import earn_example
from tests.factories import MembershipFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BUSINESS = {
    "name": "Warteg Bu Sri",
    "business_type": "warung",
    "time_zone": "Asia/Makassar",
    "outlet_name": "Warteg Bu Sri Kemang",
    "outlet_city": "Jakarta Selatan",
    "outlet_address": "Jl. Kemang Raya 5",
}
PROGRAM = {
    "name": "Langganan Bu Sri",
    "earn_step": "20000",
    "earn_points": "2",
    "point_value": "50",
    "min_points_to_redeem": "10",
    "signup_bonus": "5",
    "birthday_bonus": "10",
    "expiry_months": "6",
    "welcome_amount": "5000",
    "welcome_min_spend": "20000",
    "welcome_days": "14",
}


@pytest.fixture
def first_owner(client):
    result = CliRunner().invoke(
        cli, ["owner", "create", "--username", "sri", "--password", "rahasia-warteg-1"]
    )
    assert result.exit_code == 0, result.output
    user = get_user_model().objects.get(username="sri")
    assert not user.is_staff and not user.is_superuser
    client.force_login(user)
    return user


def test_the_first_owner_lands_on_the_set_up_and_creates_her_business(client, first_owner):
    home = client.get(reverse("web:home"))
    assert home.status_code == 302 and home["Location"] == reverse("setup:start")
    page = client.get(reverse("setup:start"))
    assert "Siapkan usaha Anda" in page.content.decode()

    response = client.post(reverse("setup:start"), BUSINESS)

    merchant = Merchant.objects.get(name="Warteg Bu Sri")
    assert merchant.slug == "warteg-bu-sri"
    assert (merchant.business_type, merchant.time_zone) == ("warung", "Asia/Makassar")
    outlet = Outlet.objects.get(merchant=merchant)
    assert (outlet.code, outlet.name, outlet.city) == (
        "JAK-01",
        "Warteg Bu Sri Kemang",
        "Jakarta Selatan",
    )
    assert Membership.objects.get(merchant=merchant, user=first_owner).role == Role.OWNER
    assert response["Location"] == reverse("setup:checklist", args=[merchant.slug])
    checklist = client.get(response["Location"]).content.decode()
    assert "Program loyalitas" in checklist and "Belum diatur" in checklist
    # after the set-up her start page is her business
    assert client.get(reverse("web:home"))["Location"] == f"/m/{merchant.slug}/"


def test_a_second_business_of_the_same_name_gets_its_own_address(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    client.post(reverse("setup:start"), BUSINESS)

    assert sorted(Merchant.objects.values_list("slug", flat=True)) == [
        "warteg-bu-sri",
        "warteg-bu-sri-2",
    ]


def test_a_bad_business_form_says_what_is_missing_in_indonesian(client, first_owner):
    response = client.post(reverse("setup:start"), {**BUSINESS, "name": "", "time_zone": "Mars"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Bidang ini tidak boleh kosong" in html
    assert not Merchant.objects.exists()


def test_staff_without_the_right_may_not_create_a_business(client):
    client.force_login(UserFactory())

    assert client.get(reverse("setup:start")).status_code == 403
    assert client.post(reverse("setup:start"), BUSINESS).status_code == 403
    assert not Merchant.objects.exists()
    # their start page is the "no business yet" page, not the set-up
    assert client.get(reverse("web:home")).status_code == 200


def test_outlets_are_added_with_a_free_code(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    merchant = Merchant.objects.get()
    url = reverse("setup:outlet_add", args=[merchant.slug])

    client.post(url, {"name": "Bu Sri Blok M", "city": "Jakarta Selatan"})
    bad = client.post(url, {"name": "", "city": "Depok"})

    assert list(
        Outlet.objects.filter(merchant=merchant).order_by("code").values_list("code", "name")
    ) == [
        ("JAK-01", "Warteg Bu Sri Kemang"),
        ("JAK-02", "Bu Sri Blok M"),
    ]
    assert bad.status_code == 400


def test_the_program_is_set_up_in_plain_words_with_its_welcome_voucher(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    merchant = Merchant.objects.get()
    url = reverse("loyalty:program", args=[merchant.slug])
    page = client.get(url).content.decode()
    # the default rule's example: Rp 50.000 earns 5 points worth Rp 500
    assert "Rp 50.000" in page and "5 poin" in page and "Rp 500" in page

    response = client.post(url, PROGRAM)

    assert response.status_code == 302
    program = Program.objects.get(merchant=merchant)
    assert program.name == "Langganan Bu Sri"
    assert (program.earn_step, program.earn_points, program.point_value) == (
        Decimal("20000"),
        2,
        Decimal("50"),
    )
    assert (program.expiry_policy, program.expiry_months) == (ExpiryPolicy.MONTHS, 6)
    assert (program.signup_bonus, program.birthday_bonus, program.welcome_voucher_days) == (
        5,
        10,
        14,
    )
    voucher = program.welcome_voucher
    assert voucher.is_template and voucher.value == Decimal("5000")
    assert voucher.min_spend == Decimal("20000")
    # the example follows the saved rule: Rp 50.000 → 2 steps × 2 = 4 points × Rp 50
    assert "4 poin" in client.get(url).content.decode()

    # no welcome voucher and no expiry any more
    client.post(url, {**PROGRAM, "welcome_amount": "0", "expiry_months": "0"})
    program.refresh_from_db()
    assert program.welcome_voucher is None
    assert program.expiry_policy == ExpiryPolicy.NEVER
    assert Voucher.objects.filter(merchant=merchant, is_template=True).count() == 1


def test_a_zero_step_is_refused_with_a_reason(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    merchant = Merchant.objects.get()

    response = client.post(
        reverse("loyalty:program", args=[merchant.slug]), {**PROGRAM, "earn_step": "0"}
    )

    assert response.status_code == 400
    assert "Isi jumlah lebih dari Rp 0." in response.content.decode()
    assert not Program.objects.exists()


@pytest.mark.parametrize(
    ("step", "each", "value", "points", "worth"),
    [("10000", 1, "100", 5, "500"), ("20000", 2, "50", 4, "200"), ("60000", 1, "100", 0, "0")],
)
def test_the_example_counts_whole_steps(step, each, value, points, worth):
    assert earn_example(earn_step=Decimal(step), earn_points=each, point_value=Decimal(value)) == (
        points,
        Decimal(worth),
    )


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_the_owner_sets_up(client, role):
    merchant = MerchantFactory()
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)

    assert client.get(reverse("setup:checklist", args=[merchant.slug])).status_code == 403
    assert client.post(reverse("loyalty:program", args=[merchant.slug]), PROGRAM).status_code == 403
    assert not Program.objects.exists()


def test_another_merchants_set_up_is_not_found(client, first_owner):
    other = MerchantFactory()

    assert client.get(reverse("setup:checklist", args=[other.slug])).status_code == 404
    assert client.post(reverse("loyalty:program", args=[other.slug]), PROGRAM).status_code == 404
    assert (
        client.post(reverse("setup:outlet_add", args=[other.slug]), {"name": "X"}).status_code
        == 404
    )


def test_the_owner_adds_a_cashier_who_can_then_sign_in(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    merchant = Merchant.objects.get()
    outlet = Outlet.objects.get(merchant=merchant)

    response = client.post(
        reverse("staff:add", args=[merchant.slug]),
        {"full_name": "Dewi Lestari", "username": "dewi", "role": "cashier", "outlet": outlet.pk},
    )

    assert response.status_code == 200
    password = response.context["created"]["password"]
    assert f'<code id="new-password">{password}</code>' in response.content.decode()
    membership = Membership.objects.get(merchant=merchant, user__username="dewi")
    assert (membership.role, membership.outlet) == (Role.CASHIER, outlet)
    assert membership.user.get_full_name() == "Dewi Lestari"
    assert not membership.user.is_staff
    # the password is not kept anywhere the page could show again
    assert password not in client.get(reverse("staff:list", args=[merchant.slug])).content.decode()
    client.logout()
    login = client.post(reverse("web:login"), {"username": "dewi", "password": password})
    assert login.status_code == 302
    assert client.get(reverse("web:home"))["Location"] == reverse(
        "counter:screen", args=[merchant.slug]
    )


def test_a_taken_or_bad_username_is_refused_in_indonesian(client, first_owner):
    client.post(reverse("setup:start"), BUSINESS)
    merchant = Merchant.objects.get()
    url = reverse("staff:add", args=[merchant.slug])

    taken = client.post(url, {"full_name": "Sri", "username": "sri", "role": "manager"})
    bad = client.post(url, {"full_name": "Budi", "username": "budi santoso", "role": "cashier"})

    assert taken.status_code == bad.status_code == 400
    assert "Nama pengguna ini sudah dipakai" in taken.content.decode()
    assert "tanpa spasi" in bad.content.decode()
    assert Membership.objects.filter(merchant=merchant).count() == 1
