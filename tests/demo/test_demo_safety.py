"""`langganan demo` against a database that is not empty: it takes over no account, replaces no
real merchant, and its owner login reaches its own café only — not the Django admin."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate, get_user_model
from django.test import Client

from langganan.cli import cli
from langganan.core.models import Membership, Merchant, Role
from langganan.core.services import staff_user_create
from langganan.customers.models import Customer
from langganan.demo.generator import (
    demo_cashier_ensure,
    demo_login_ensure,
    demo_merchant_build,
    demo_usernames,
)
from langganan.demo.models import DemoLogin, DemoMerchant
from tests.factories import CustomerFactory, MerchantFactory, UserFactory

DEMO_ARGS = ["demo", "--customers", "40", "--seed", "4", "--end", "2025-06-30", "--no-hint"]

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(cli, [*DEMO_ARGS, *args])


def _login(output: str, role: str) -> tuple[str, str]:
    match = re.search(rf"^\s*{role}\s+(\S+).*\n\s*Password\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, output
    return match.group(1), match.group(2)


def test_demo_refuses_a_database_with_real_merchants():
    real = MerchantFactory(slug="warung-bu-sri")
    result = run()
    assert result.exit_code == 1, result.output
    assert "Error: this database holds 1 merchant(s) not built by `langganan demo`" in result.output
    assert "warung-bu-sri" in result.output and "--allow-existing-data" in result.output
    assert list(Merchant.objects.all()) == [real]
    assert not get_user_model().objects.exists()


def test_demo_builds_beside_real_merchants_when_told_and_touches_none_of_them():
    real = MerchantFactory(slug="warung-bu-sri")
    CustomerFactory(merchant=real, full_name="Bu Sri")
    boss = UserFactory(username="bos")
    Membership.objects.create(merchant=real, user=boss, role=Role.OWNER)
    result = run("--allow-existing-data")
    assert result.exit_code == 0, result.output
    owner, password = _login(result.output, "Owner")
    user = authenticate(username=owner, password=password)
    assert owner == "demo" and user is not None
    assert not Membership.objects.filter(user=user, merchant=real).exists()
    assert Membership.objects.filter(merchant=real).get().user == boss
    assert Customer.objects.filter(merchant=real).count() == 1


def test_the_demo_owner_is_no_superuser_and_works_at_its_cafe_only():
    result = run()
    assert result.exit_code == 0, result.output
    owner, password = _login(result.output, "Owner")
    user = authenticate(username=owner, password=password)
    assert not user.is_superuser and not user.is_staff
    memberships = Membership.objects.filter(user=user)
    assert [(m.merchant.slug, m.role) for m in memberships] == [("demo", Role.OWNER)]
    assert "admin" not in result.output.lower()


def test_the_demo_owner_cannot_open_the_admin_nor_another_merchants_customers():
    real = MerchantFactory(slug="warung-bu-sri")
    stranger = CustomerFactory(merchant=real, full_name="Pelanggan Rahasia")
    result = run("--allow-existing-data")
    owner, password = _login(result.output, "Owner")
    client = Client()
    assert client.login(username=owner, password=password)
    for path in [
        "/admin/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{stranger.pk}/change/",
    ]:
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    page = client.get(f"/m/{real.slug}/")
    assert page.status_code == 404
    assert b"Pelanggan Rahasia" not in client.get("/admin/customers/customer/", follow=True).content


def test_each_demo_slug_gets_its_own_logins_and_the_default_keeps_demo_and_kasir():
    assert run().exit_code == 0
    second = run("--slug", "kopi-dua")
    assert second.exit_code == 0, second.output
    owner, password = _login(second.output, "Owner")
    cashier, _ = _login(second.output, "Cashier")
    assert (owner, cashier) == ("demo-kopi-dua", "kasir-kopi-dua") == demo_usernames("kopi-dua")
    assert demo_usernames("demo") == ("demo", "kasir")
    for username, slug in [("demo", "demo"), ("kasir", "demo"), (owner, "kopi-dua")]:
        slugs = set(
            Membership.objects.filter(user__username=username).values_list(
                "merchant__slug", flat=True
            )
        )
        assert slugs == {slug}, username


def test_a_real_account_named_demo_is_never_reset():
    real_demo = UserFactory(username="demo", is_staff=True, is_superuser=True)
    merchant = demo_merchant_build(slug="demo", n_customers=20, seed=1, end=_end()).merchant
    with pytest.raises(Exception, match="a login named demo exists and was not made by"):
        demo_login_ensure(merchant=merchant)
    assert authenticate(username="demo", password="rahasia-123") == real_demo
    real_demo.refresh_from_db()
    assert real_demo.is_superuser and not Membership.objects.filter(user=real_demo).exists()


def test_the_command_refuses_a_real_account_named_kasir_with_a_clear_error():
    UserFactory(username="kasir")
    result = run()
    assert result.exit_code == 1
    assert "Error: a login named kasir exists and was not made by `langganan demo`" in result.output
    assert authenticate(username="kasir", password="rahasia-123") is not None


def test_replace_and_logins_are_refused_for_a_merchant_the_demo_did_not_build():
    real = MerchantFactory(slug="demo")
    result = run("--replace", "--allow-existing-data")
    assert result.exit_code == 1
    assert "Error: merchant demo exists and was not built by `langganan demo`" in result.output
    assert Merchant.objects.get(slug="demo") == real
    with pytest.raises(Exception, match="not built by `langganan demo`"):
        demo_cashier_ensure(merchant=real)


def test_a_demo_login_given_other_memberships_loses_them_on_the_next_run():
    assert run().exit_code == 0
    other_demo = demo_merchant_build(slug="kopi-lain", n_customers=20, seed=2, end=_end()).merchant
    demo = get_user_model().objects.get(username="demo")
    Membership.objects.create(merchant=other_demo, user=demo, role=Role.OWNER)
    demo.is_superuser = demo.is_staff = True  # as an earlier version left it
    demo.save()
    assert run().exit_code == 0
    demo.refresh_from_db()
    assert not demo.is_superuser and not demo.is_staff
    assert set(Membership.objects.filter(user=demo).values_list("merchant__slug", flat=True)) == {
        "demo"
    }


def test_the_demo_marks_its_merchant_and_logins_and_replace_keeps_them_marked():
    assert run().exit_code == 0
    assert run("--replace").exit_code == 0
    merchant = Merchant.objects.get(slug="demo")
    assert DemoMerchant.objects.filter(merchant=merchant, seed=4).exists()
    assert set(DemoLogin.objects.values_list("user__username", flat=True)) == {"demo", "kasir"}
    assert Merchant.objects.count() == 1


def test_a_staff_owner_of_another_merchant_sees_no_customers_in_the_admin():
    """An owner login made by `langganan user create` is staff but has no admin permissions:
    the admin shows it nothing (only superusers, made with --superuser, use the admin)."""
    mine, theirs = MerchantFactory(), MerchantFactory()
    CustomerFactory(merchant=theirs, full_name="Pelanggan Orang Lain")
    staff_user_create(merchant=mine, username="pemilik", password="x-Rahasia-9", role=Role.OWNER)
    client = Client()
    client.force_login(get_user_model().objects.get(username="pemilik"))
    response = client.get("/admin/customers/customer/")
    assert response.status_code in (302, 403)
    assert b"Pelanggan Orang Lain" not in response.content


def _end():
    from datetime import date

    return date(2025, 6, 30)


def test_the_migration_marks_a_cafe_and_logins_an_earlier_demo_made_and_nothing_else():
    import importlib

    from django.apps import apps

    from langganan.api.services import api_key_create
    from tests.factories import OutletFactory

    migration = importlib.import_module("langganan.demo.migrations.0001_demo_marks")
    earlier = OutletFactory(merchant=MerchantFactory(name="Kopi Langganan")).merchant
    api_key_create(merchant=earlier, outlet=earlier.outlets.get(), name="demo POS")
    namesake = MerchantFactory(name="Kopi Langganan")  # the same name, no demo key: a real café
    real = MerchantFactory()
    demo = UserFactory(username="demo", is_superuser=True, is_staff=True)
    Membership.objects.create(merchant=earlier, user=demo, role=Role.OWNER)
    kasir = UserFactory(username="kasir")  # works at a real merchant too: someone's account
    Membership.objects.create(merchant=earlier, user=kasir, role=Role.CASHIER)
    Membership.objects.create(merchant=real, user=kasir, role=Role.CASHIER)
    migration.mark_earlier_demos(apps, None)
    assert list(DemoMerchant.objects.values_list("merchant", flat=True)) == [earlier.pk]
    assert list(DemoLogin.objects.values_list("user", flat=True)) == [demo.pk]
    assert not DemoMerchant.objects.filter(merchant=namesake).exists()
