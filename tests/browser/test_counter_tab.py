"""Settling a tab (kasbon) in a real browser at 390×844: Debian's chromium driven by Playwright.

A cashier opens the open tabs, takes part of a payment, then the rest with "Lunas" and a double
tap, and the tab is settled once, through the ledger. Without chromium the tests fail under CI
and skip elsewhere (see tests/browser/test_insight_pages.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from langganan.core.models import Role
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.models import TabPayment
from langganan.loyalty.tab import tab_balance, tab_charge, tab_set_limit
from tests.browser.test_insight_pages import PASSWORD
from tests.factories import CustomerFactory, MembershipFactory, OutletFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ledger_cleanup"),
    pytest.mark.slow,
]


@pytest.fixture
def warung(db):
    outlet = OutletFactory(name="Warteg Bu Sri")
    merchant = outlet.merchant
    now = timezone.now()
    rina = CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")
    tab_set_limit(customer=rina, limit=Decimal("100000"), at=now, actor="test")
    tab_charge(customer=rina, amount=Decimal("45500"), key="c1", at=now - timedelta(days=12))
    cashier = MembershipFactory(merchant=merchant, role=Role.CASHIER, outlet=outlet)
    cashier.user.set_password(PASSWORD)
    cashier.user.save()
    return merchant, rina, cashier.user


def _fits(page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_a_cashier_settles_a_tab_on_a_phone(browser, live_server, warung):
    merchant, rina, cashier = warung
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', cashier.username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/m/{merchant.slug}/kasbon/")
    text = page.inner_text("main")
    assert "Kasbon" in text and "Rina Wati" in text and "Rp 45.500" in text
    assert "12 hari lalu" in text
    assert _fits(page)
    button = page.get_by_role("link", name="Terima pembayaran")
    box = button.bounding_box()
    assert box["height"] >= 44  # a thumb's target
    button.click()
    page.wait_for_load_state("networkidle")

    # part of it in cash
    page.fill('input[name="amount"]', "20.000")
    page.click("text=Catat pembayaran")
    page.wait_for_load_state("networkidle")
    assert "Sisa utang: Rp 25.500" in page.inner_text("main")
    assert _fits(page)

    # the rest with "Lunas", by QRIS, the button tapped twice
    page.click("text=Lunas")
    assert page.input_value('input[name="amount"]') == "25500"
    page.check('input[value="qris"]')
    page.dblclick("text=Catat pembayaran")
    page.wait_for_selector("text=Kasbon ini sudah lunas.")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "Kasbon sudah lunas" in main or "sudah dicatat" in main
    assert _fits(page)
    context.close()

    assert tab_balance(customer=rina)[0] == Decimal("0")
    assert sorted(p.amount for p in TabPayment.objects.filter(customer=rina)) == [
        Decimal("20000.00"),
        Decimal("25500.00"),
    ]
    assert ledger_discrepancies(merchant) == []
