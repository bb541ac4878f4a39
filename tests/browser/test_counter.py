"""The counter screen (kasir) in a real browser, on a phone (390×844): Debian's chromium driven
by Playwright. A cashier finds a regular by phone, taps "yang biasa", pays half with points,
finishes and sees the receipt link; the same basket sent twice is one sale.

Chromium comes from Debian (``apt-get install -y chromium``, done by ``.ci/run``); Playwright's
own browser download is never used. Without chromium the tests fail under CI and skip elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from langganan.core.models import Role
from langganan.loyalty.points import points_earn
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, MembershipFactory, OutletFactory, ProductFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (the sale writes ledger rows)
from tests.loyalty.factories import MemberFactory, ProgramFactory
from tests.loyalty.test_card_cashier import insight_for

PASSWORD = "kopi-susu-2026"
PHONE = (390, 844)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ledger_cleanup"),
    pytest.mark.slow,
]


@pytest.fixture
def warung(merchant):
    cache.clear()
    outlet = OutletFactory(merchant=merchant, code="JKT-01", name="Warung Bu Sri")
    ProgramFactory(merchant=merchant, max_redeem_share=Decimal("0.5"))
    ProductFactory(merchant=merchant, name="Nasi Rames", price=Decimal("18000"))
    ProductFactory(merchant=merchant, name="Es Teh", price=Decimal("5000"))
    regular = CustomerFactory(
        merchant=merchant, full_name="Agus Salim", phone="+6281311112222", gender="M"
    )
    MemberFactory(customer=regular)
    points_earn(customer=regular, points=400, key="opening", at=timezone.now() - timedelta(days=9))
    insight_for(
        regular,
        orders=12,
        last_purchase=timezone.now() - timedelta(days=2),
        usual_order=[
            {"item": "Nasi Rames", "times": 11, "rank": 1},
            {"item": "Es Teh", "times": 9, "rank": 2},
        ],
    )
    cashier = MembershipFactory(merchant=merchant, role=Role.CASHIER, outlet=outlet)
    cashier.user.set_password(PASSWORD)
    cashier.user.save()
    yield merchant, cashier.user.username, regular
    cache.clear()


def _phone_page(browser, live_server, username: str):
    context = browser.new_context(
        viewport={"width": PHONE[0], "height": PHONE[1]}, locale="id-ID", has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)  # two shared cores: a busy machine is slow, not wrong
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    return page


def _fits(page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_a_cashier_serves_a_regular_the_usual_half_paid_with_points(browser, live_server, warung):
    merchant, username, regular = warung
    page = _phone_page(browser, live_server, username)
    assert page.url.endswith(f"/m/{merchant.slug}/kasir/")  # the cashier's start page

    page.fill('input[name="q"]', "0813 1111 2222")
    page.click('.kasir-find button[type="submit"]')
    page.wait_for_load_state("networkidle")
    card = page.inner_text("[data-card]")
    assert "Kak Agus" in card and "Yang biasa?" in card
    assert _fits(page)
    usual = page.locator("button.usual")
    box = usual.bounding_box()
    assert box["height"] >= 44  # a thumb's target
    usual.tap()  # both dishes: she has them on most visits
    lines = page.inner_text("[data-lines]")
    assert "Nasi Rames" in lines and "Es Teh" in lines
    assert "Rp 23.000" in page.inner_text("[data-subtotal]")

    page.click('button[name="points_max"]')  # half of the bill in points
    page.wait_for_load_state("networkidle")
    assert page.input_value('input[name="points"]') == "115"
    assert "Rp 11.500" in page.inner_text("[data-quote]")
    page.click("button[data-pay]")
    page.wait_for_load_state("networkidle")

    assert "/kasir/struk/" in page.url
    text = page.inner_text("main")
    assert "Transaksi tercatat" in text and "Poin sekarang" in text
    link = page.locator("a[data-whatsapp]")
    assert link.is_visible() and "/wa/" in link.get_attribute("href")
    for raw in ("points_earned", "Sale recorded", "kasir-"):
        assert raw not in text
    assert _fits(page)
    sale = Transaction.objects.get(merchant=merchant)
    assert sale.total == Decimal("11500") and sale.customer_id == regular.pk
    page.context.close()


def test_the_same_basket_sent_twice_is_one_sale(browser, live_server, warung):
    merchant, username, _regular = warung
    page = _phone_page(browser, live_server, username)
    page.locator("button.product", has_text="Es Teh").tap()
    page.locator("button.product", has_text="Es Teh").tap()
    assert page.input_value("[data-lines] input") == "2"

    # the form sent twice at once, as a double tap on a slow network would
    page.evaluate(
        """() => { const f = document.getElementById('kasir-basket');
                   const a = new FormData(f); const b = new FormData(f);
                   return Promise.all([fetch(f.action, {method: 'POST', body: a}),
                                       fetch(f.action, {method: 'POST', body: b})])
                       .then(rs => rs.map(r => r.url)); }"""
    )
    page.click("button[data-pay]")  # and once more by hand: the receipt of the same sale
    page.wait_for_load_state("networkidle")
    assert "/kasir/struk/" in page.url
    page.go_back()  # back on the screen with the same basket, and pay again
    page.wait_for_load_state("networkidle")
    page.click("button[data-pay]")
    page.wait_for_load_state("networkidle")

    assert Transaction.objects.filter(merchant=merchant).count() == 1
    assert Transaction.objects.get(merchant=merchant).total == Decimal("10000")
    page.context.close()


def test_a_split_sale_qris_and_cash_is_recorded_once_with_two_payments(
    browser, live_server, warung
):
    from langganan.sales.models import TransactionPayment

    merchant, username, _regular = warung
    page = _phone_page(browser, live_server, username)
    page.locator("button.product", has_text="Nasi Rames").tap()
    page.locator("button.product", has_text="Es Teh").tap()
    page.fill('input[name="note"]', "sambal dipisah")
    page.locator("label.method", has_text="QRIS").tap()
    page.locator("details[data-split] summary").tap()  # Bagi pembayaran
    assert "Bagi pembayaran" in page.inner_text("details[data-split] summary")
    page.select_option('select[name="split_method"]', "cash")
    page.fill('input[name="split_amount"]', "10000")
    split = page.locator("details[data-split]").bounding_box()
    assert split["width"] <= PHONE[0] and _fits(page)
    page.click("button[data-recount]")  # the total with each method's part
    page.wait_for_load_state("networkidle")
    paid = page.inner_text("[data-paid]")
    assert "QRIS" in paid and "Rp 13.000" in paid and "Tunai" in paid and "Rp 10.000" in paid

    page.click("button[data-pay]")
    page.wait_for_load_state("networkidle")
    assert "/kasir/struk/" in page.url
    text = page.inner_text("main")
    assert "QRIS" in text and "Rp 13.000" in text and "Tunai" in text
    assert "Catatan: sambal dipisah" in text
    page.go_back()  # back to the paid basket and pay again: still one sale
    page.wait_for_load_state("networkidle")
    page.click("button[data-pay]")
    page.wait_for_load_state("networkidle")

    sale = Transaction.objects.get(merchant=merchant)
    assert sale.total == Decimal("23000") and sale.note == "sambal dipisah"
    assert dict(TransactionPayment.objects.values_list("method", "amount")) == {
        "qris": Decimal("13000"),
        "cash": Decimal("10000"),
    }
    page.context.close()
