"""A complaint handled to the end in a real browser (Debian's chromium driven by Playwright).

A customer rates her visit 1 on the public feedback page of her sale (no login); the owner
finds the complaint it opened at the top of the queue, assigns it to the manager, takes it on,
gives an apology voucher (pressing the button twice gives it once), marks it resolved, and her
customer page shows the complaint resolved. Without chromium the tests fail under CI and skip
elsewhere (see tests/browser/conftest.py).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from langganan.care.feedback import feedback_token
from langganan.care.models import Complaint, ComplaintRecovery, Status
from langganan.core.models import Role
from langganan.loyalty.models import Voucher
from tests.browser.test_insight_pages import PASSWORD
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OutletFactory,
    TransactionFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def cafe(db):
    outlet = OutletFactory(name="Kopi Senja Melawai")
    merchant = outlet.merchant
    rina = CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")
    sale = TransactionFactory(merchant=merchant, outlet=outlet, customer=rina)
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    owner.user.set_password(PASSWORD)
    owner.user.save()
    manager = MembershipFactory(merchant=merchant, role=Role.MANAGER)
    manager.user.first_name = "Dewi"
    manager.user.save()
    return merchant, rina, sale, owner.user, manager.user


def _fits(page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_a_low_rating_is_handled_to_the_end_and_shows_on_the_customer_page(
    browser, live_server, cafe
):
    merchant, rina, sale, owner, manager = cafe
    # the customer, on her own phone
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = phone.new_page()
    page.goto(live_server.url + reverse("care:feedback", args=[feedback_token(sale)]))
    assert "Rina" not in page.inner_text("body")  # the public page tells nothing about her
    page.check('input[name="rating"][value="1"]')
    page.fill('textarea[name="comment"]', "Kopinya dingin <b>sekali</b>")
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    complaint = Complaint.objects.get(merchant=merchant)
    assert complaint.customer == rina and complaint.channel == "feedback"
    phone.close()

    # the owner, on a laptop
    laptop = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    page = laptop.new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', owner.username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/m/{merchant.slug}/keluhan/")
    queue = page.inner_text("main")
    assert "Rina Wati" in queue and "Kopinya dingin <b>sekali</b>" in queue  # escaped, as text
    page.click(f'a[href="/m/{merchant.slug}/keluhan/{complaint.pk}/"]')
    page.wait_for_load_state("networkidle")
    assert page.inner_text('[data-testid="status"]') == "Baru"

    page.select_option("#assignee", str(manager.pk))
    page.click('form[action$="/tugaskan/"] button')
    page.wait_for_load_state("networkidle")
    assert "Keluhan sudah ditugaskan." in page.inner_text("main")
    page.click('button[name="status"][value="in_progress"]')
    page.wait_for_load_state("networkidle")
    assert page.inner_text('[data-testid="status"]') == "Ditangani"

    page.check('input[name="kind"][value="voucher"]')
    page.fill("#rec-amount", "25000")
    with page.expect_navigation():
        page.dblclick('form[action$="/pemulihan/"] button')  # a double press gives once
    page.wait_for_load_state("networkidle")
    assert page.inner_text('[data-testid="cost"]') == "Rp 25.000"
    page.click('button[name="status"][value="resolved"]')
    page.wait_for_load_state("networkidle")
    assert page.inner_text('[data-testid="status"]') == "Selesai"
    assert _fits(page)

    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.assignee == manager
    [recovery] = ComplaintRecovery.objects.filter(complaint=complaint)
    assert Voucher.objects.get(pk=recovery.voucher_id).value == Decimal("25000")

    # her customer page shows the complaint, resolved
    page.goto(f"{live_server.url}/m/{merchant.slug}/customers/{rina.pk}/")
    history = page.inner_text('[data-testid="care-history"]')
    assert f"#{complaint.pk}" in history and "Selesai" in history
    laptop.close()
