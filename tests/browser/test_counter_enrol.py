"""Enrolment at the counter and self sign-up by QR in a real browser, at a phone's size (390×844).

A cashier enrols a member and sees the card (QR code, welcome voucher, the WhatsApp link); a
known number is recognised while it is typed; a customer signs up on their own phone (a second
browser context, not logged in) with a new number and with one the merchant already has, and
both see the same thank-you page.

Chromium comes from Debian (``apt-get install -y chromium``); Playwright's own browser download
is never used. Without chromium the tests fail under CI and skip elsewhere.
"""

from __future__ import annotations

import time

import pytest

from langganan.core.models import Role
from langganan.counter.enrolment import signup_link_get
from langganan.customers.models import ConsentEvent, Customer
from langganan.loyalty.models import Member, Voucher
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, OutletFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (enrolment writes ledger rows)
from tests.loyalty.factories import ProgramFactory, VoucherFactory

PASSWORD = "kopi-susu-2026"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ledger_cleanup"),
    pytest.mark.slow,
]


@pytest.fixture
def shop(db):
    merchant = MerchantFactory(name="Warung Bu Tini")
    outlet = OutletFactory(merchant=merchant, code="PUSAT", name="Warung Bu Tini Pusat")
    welcome = VoucherFactory(
        merchant=merchant,
        code="SELAMAT",
        is_template=True,
        kind="shared",
        max_uses=None,
        value=10000,
    )
    ProgramFactory(merchant=merchant, signup_bonus=20, welcome_voucher=welcome)
    cashier = MembershipFactory(merchant=merchant, role=Role.CASHIER, outlet=outlet)
    cashier.user.set_password(PASSWORD)
    cashier.user.save()
    return merchant, outlet, cashier.user.username


def _fits(page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def _cashier_page(browser, live_server, username: str):
    context = browser.new_context(viewport=PHONE, locale="id-ID", has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    return page


def test_a_cashier_enrols_a_member_and_sees_the_card(browser, live_server, shop):
    merchant, outlet, username = shop
    page = _cashier_page(browser, live_server, username)
    page.goto(f"{live_server.url}/m/{merchant.slug}/kasir/daftar/")
    assert "Member baru" in page.inner_text("main")
    assert _fits(page)

    started = time.monotonic()
    page.fill('input[name="phone"]', "0812 3456 7890")
    page.fill('input[name="full_name"]', "Rina Wati")
    page.click("text=Mbak")
    page.click("text=Promo dan pengingat lewat WhatsApp")
    page.click("button.go")
    page.wait_for_load_state("networkidle")
    elapsed = time.monotonic() - started

    text = page.inner_text("main")
    assert "Mbak Rina sekarang sudah jadi member" in text
    customer = Customer.objects.get(merchant=merchant, phone="+6281234567890")
    assert customer.member_code in text
    assert page.locator(".member-card .qr svg").is_visible()
    voucher = Voucher.objects.get(customer=customer)
    assert voucher.code in text and "Rp 10.000" in text
    link = page.locator("a.wa")
    assert link.get_attribute("href").startswith("https://wa.me/6281234567890?text=")
    assert _fits(page)
    assert elapsed < 10  # the form itself; the cashier's typing is the rest of the 30 seconds
    assert Member.objects.filter(customer=customer).exists()
    assert ConsentEvent.objects.get(customer=customer, channel="whatsapp").granted

    # the card link sent by WhatsApp opens the member's own card, without a login
    from urllib.parse import unquote

    message = unquote(link.get_attribute("href").split("?text=", 1)[1])
    card_url = message.rsplit(" ", 1)[1]
    assert "/kartu/" in card_url
    guest = browser.new_context(viewport=PHONE, locale="id-ID").new_page()
    guest.goto(card_url.replace("http://testserver", live_server.url))
    assert customer.member_code in guest.inner_text("main")
    guest.context.close()
    page.context.close()


def test_a_known_number_is_shown_while_it_is_typed(browser, live_server, shop):
    merchant, _outlet, username = shop
    CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6285712345678")
    page = _cashier_page(browser, live_server, username)
    page.goto(f"{live_server.url}/m/{merchant.slug}/kasir/daftar/")

    page.fill('input[name="phone"]', "0857-1234-5678")
    page.locator("#phone-known").wait_for(state="visible")

    assert "Sudah jadi pelanggan: Kak Budi" in page.inner_text("#phone-known")
    page.fill('input[name="full_name"]', "Budi")
    page.click("button.go")
    page.wait_for_load_state("networkidle")
    assert "sudah terdaftar" in page.inner_text("main")
    assert Customer.objects.filter(merchant=merchant).count() == 1
    page.context.close()


def _sign_up(browser, url: str, phone: str, name: str) -> str:
    """A customer's own phone: a fresh browser context, no login."""
    context = browser.new_context(viewport=PHONE, locale="id-ID", has_touch=True)
    page = context.new_page()
    page.goto(url)
    assert _fits(page)
    page.fill('input[name="phone"]', phone)
    page.fill('input[name="full_name"]', name)
    page.click("text=Ya, kirimi saya promo dan pengingat lewat WhatsApp.")
    page.click("button.go")
    page.wait_for_load_state("networkidle")
    assert _fits(page)
    text = page.inner_text("main")
    context.close()
    return text


def test_self_sign_up_with_a_new_and_a_known_number_looks_the_same(browser, live_server, shop):
    merchant, outlet, _username = shop
    known = CustomerFactory(merchant=merchant, full_name="Siti Lama", phone="+6281311112222")
    url = f"{live_server.url}/daftar/{signup_link_get(outlet=outlet).token}/"

    new_text = _sign_up(browser, url, "0812-9999-8888", "Dewi Lestari")
    known_text = _sign_up(browser, url, "+62 813-1111-2222", "Siti Baru")

    assert "Terima kasih!" in new_text
    assert new_text == known_text
    assert "Siti" not in known_text and "Dewi" not in new_text
    dewi = Customer.objects.get(merchant=merchant, phone="+6281299998888")
    assert dewi.full_name == "Dewi Lestari" and Member.objects.filter(customer=dewi).exists()
    assert Customer.objects.filter(merchant=merchant, phone="+6281311112222").count() == 1
    known.refresh_from_db()
    assert known.full_name == "Siti Lama"
    assert ConsentEvent.objects.get(customer=known, channel="whatsapp").granted
