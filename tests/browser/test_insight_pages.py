"""The insight screens in a real browser: Debian's chromium driven by Playwright, at a desktop
and a phone width. Bahasa Indonesia, nothing wider than the screen, the accuracy page's tables
readable on a phone.

Chromium comes from Debian (``apt-get install -y chromium``, done by ``.ci/run``); Playwright's
own browser download is never used. Without chromium the tests fail under CI and skip elsewhere.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from langganan.core.models import Role
from langganan.demo.generator import demo_merchant_build
from langganan.insights.models import CustomerInsight
from langganan.insights.services import insights_refresh
from tests.factories import MembershipFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (the demo writes ledger rows)

JAKARTA = ZoneInfo("Asia/Jakarta")
END = datetime(2026, 11, 1, 12, 0, tzinfo=JAKARTA)
PASSWORD = "kopi-susu-2026"
SIZES = [(1366, 900), (390, 844)]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ledger_cleanup"),
    pytest.mark.slow,
]


@pytest.fixture
def cafe_owner(db):
    merchant = demo_merchant_build(
        slug="kafe", n_customers=150, seed=11, end=date(2026, 11, 1)
    ).merchant
    insights_refresh(merchant=merchant, observation_end=END)
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    owner.user.set_password(PASSWORD)
    owner.user.save()
    once = CustomerInsight.objects.filter(merchant=merchant, orders=1).first()
    regular = CustomerInsight.objects.filter(merchant=merchant).order_by("-orders").first()
    return merchant, owner.user.username, once.customer_id, regular.customer_id


def _page(browser, live_server, username: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    return page


def _fits(page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["desktop", "phone"])
def test_the_accuracy_page_reads_in_indonesian_at_every_width(
    browser, live_server, cafe_owner, width, height
):
    merchant, username, _, _ = cafe_owner
    page = _page(browser, live_server, username, width, height)
    response = page.goto(f"{live_server.url}/m/{merchant.slug}/insights/accuracy/")
    assert response.status == 200
    text = page.inner_text("main")
    assert "Seberapa tepat perkiraannya?" in text and "memang datang" in text
    assert "Perbandingan model" in text and "BG/NBD" in text
    for raw in ("mbg_cnbd", "pareto_nbd", "holdout", "How accurate"):
        assert raw not in text
    assert _fits(page)
    header = page.locator("table.stack thead").first
    # on a phone the comparison stacks: no header row, each figure labelled beside it
    assert header.is_visible() is (width > 600)
    page.context.close()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["desktop", "phone"])
def test_a_one_visit_customer_shows_belum_cukup_data_and_no_certainty(
    browser, live_server, cafe_owner, width, height
):
    merchant, username, once, regular = cafe_owner
    page = _page(browser, live_server, username, width, height)
    page.goto(f"{live_server.url}/m/{merchant.slug}/customers/{once}/")
    insight = page.inner_text("section.insight")
    assert "Peluang masih aktif" in insight and "belum cukup data" in insight
    assert "100%" not in insight
    assert "Rp " in insight  # CLV in Rupiah
    assert _fits(page)
    page.goto(f"{live_server.url}/m/{merchant.slug}/customers/{regular}/")
    insight = page.inner_text("section.insight")
    assert "kisaran" in insight  # the estimates' 80 % ranges
    page.click("text=Lihat rinciannya")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/m/{merchant.slug}/insights/accuracy/")
    assert _fits(page)
    page.context.close()
