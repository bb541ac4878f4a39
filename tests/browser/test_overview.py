"""The overview (Ringkasan) in a real browser: Debian's chromium driven by Playwright.

The owner of a café with sales and an analysis logs in and lands on the overview; its charts are
drawn (SVG with data points, heat-map cells) by the plotly.js served from this site; a lifecycle
count and a heat-map cell open the customer list filtered to exactly those customers, which exports
and saves as an audience as exactly them; and on a 390×844 phone nothing is wider than the screen.

Chromium comes from Debian (``apt-get install -y chromium``, done by ``.ci/run``); Playwright's
own browser download is never used. Without chromium the tests fail under CI and skip elsewhere.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from langganan.campaigns.audiences import audience_ids
from langganan.campaigns.models import Audience
from langganan.core.models import Role
from langganan.customers.models import Customer
from langganan.demo.generator import demo_merchant_build
from langganan.insights.models import CustomerInsight
from langganan.insights.services import insights_refresh
from langganan.insights.stages import display_stage_q
from langganan.privacy.models import AuditEvent
from tests.factories import MembershipFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (the demo writes ledger rows)

JAKARTA = ZoneInfo("Asia/Jakarta")
END = datetime(2026, 11, 1, 12, 0, tzinfo=JAKARTA)
PASSWORD = "kopi-susu-2026"
#: the customer list shows this many per page; a stage count opened here fits on one
LIST_PAGE = 25

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
    return merchant, owner.user.username


def _login(browser, live_server, username: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    return page, requests


def _charts_drawn(page) -> int:
    """Wait until web/charts.js has drawn every chart; their number."""
    page.wait_for_function(
        "document.querySelectorAll('.chart').length > 0 && "
        "document.querySelectorAll('.chart').length === "
        "document.querySelectorAll('.chart[data-drawn=\"true\"]').length",
        timeout=30_000,
    )
    return page.locator(".chart").count()


def _listed_customer_ids(page) -> set[int]:
    hrefs = page.eval_on_selector_all(
        "main table tbody a[href*='/customers/']", "links => links.map(a => a.pathname)"
    )
    return {int(m[1]) for h in hrefs if (m := re.search(r"/customers/(\d+)/$", h))}


def _stage_customers(merchant, stage: str) -> set[int]:
    rows = CustomerInsight.objects.filter(merchant=merchant).filter(
        display_stage_q(stage, prefix="")
    )
    return set(rows.values_list("customer_id", flat=True))


def check_filtered_list(page, merchant, expected: set[int]) -> None:
    """On the customer list a count of the overview opened: exactly those customers; the
    list's export holds exactly them, and saved as an audience it is exactly them."""
    assert page.locator("main table").count() >= 1
    assert _listed_customer_ids(page) == expected
    assert int(page.get_attribute("#list-count", "data-count")) == len(expected)
    list_url = page.url

    # export: a CSV of exactly these customers, with Indonesian headers, recorded in the audit
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert rows[0][:3] == ["Nama", "Sapaan", "Telepon"]
    assert sorted(r[4] for r in rows[1:]) == sorted(
        Customer.objects.filter(pk__in=expected).values_list("member_code", flat=True)
    )
    event = AuditEvent.objects.get(merchant=merchant, action="export.table")
    assert event.detail["rows"] == len(expected)

    # save as an audience: the builder opens with the list's filters and counts the same
    page.goto(list_url)
    page.click("#save-audience")
    page.wait_for_load_state("networkidle")
    assert page.locator("#count-title + .stat-value").inner_text().split()[0] == str(len(expected))
    page.fill("#audience-name", "Dari daftar pelanggan")
    page.click("#save-audience-button")
    page.wait_for_load_state("networkidle")
    audience = Audience.objects.get(merchant=merchant, name="Dari daftar pelanggan")
    assert set(audience_ids(merchant=merchant, filters=audience.filters)) == expected
    assert "Dari daftar pelanggan" in page.inner_text("main")


def test_the_owner_lands_on_the_overview_with_its_charts_drawn_and_a_count_opens_the_list(
    browser, live_server, cafe_owner
):
    merchant, username = cafe_owner
    page, requests = _login(browser, live_server, username, 1366, 900)

    # the owner's start page is the overview
    assert urlsplit(page.url).path == f"/m/{merchant.slug}/"
    assert page.locator("h1").inner_text() == "Ringkasan"
    assert _charts_drawn(page) >= 8
    # bars are SVG paths in g.point; heat maps are drawn as images of their cells
    assert page.locator(".js-plotly-plot svg .point").count() > 10
    assert page.locator(".js-plotly-plot svg .hm image").count() >= 3
    # plotly.js came from this site: nothing was asked of another host
    host = urlsplit(live_server.url).netloc
    assert requests and all(urlsplit(u).netloc == host for u in requests if "://" in u), requests
    text = page.inner_text("main")
    assert "Dihitung" in text and "Rp " in text
    for raw in ("at_risk", "moved_from", "None", "nan"):
        assert raw not in text

    # a lifecycle count opens the customer list filtered to that stage
    stage, count = _open_smallest_stage(page)
    assert urlsplit(page.url).path == f"/m/{merchant.slug}/customers/"
    assert parse_qs(urlsplit(page.url).query) == {"stage": [stage]}
    assert len(_stage_customers(merchant, stage)) == count


def _open_smallest_stage(page) -> tuple[str, int]:
    """Click the smallest stage count that has customers (one page of the list)."""
    stages = page.eval_on_selector_all(
        "main a[href*='?stage=']", "links => links.map(a => [a.href, a.textContent.trim()])"
    )
    counts = [
        (int(text.replace(".", "")), href)
        for href, text in stages
        if text.replace(".", "").isdigit() and "moved_from" not in href
    ]
    count, href = min((c, h) for c, h in counts if 0 < c <= LIST_PAGE)
    stage = parse_qs(urlsplit(href).query)["stage"][0]
    page.click(f"main a[href='{urlsplit(href).path}?stage={stage}']")
    page.wait_for_load_state("networkidle")
    return stage, count


def test_a_lifecycle_count_lists_exactly_its_customers(browser, live_server, cafe_owner):
    merchant, username = cafe_owner
    page, _requests = _login(browser, live_server, username, 1366, 900)
    stage, _count = _open_smallest_stage(page)
    check_filtered_list(page, merchant, _stage_customers(merchant, stage))


def test_a_click_on_an_rfm_cell_opens_its_customers(browser, live_server, cafe_owner):
    merchant, username = cafe_owner
    page, _requests = _login(browser, live_server, username, 1366, 900)
    _charts_drawn(page)
    grid = page.locator(".chart[id^='rfm-'] .nsewdrag").first
    box = grid.bounding_box()
    # the top right cell: R5 (came most recently) and F5 (most often)
    with page.expect_navigation():
        grid.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == f"/m/{merchant.slug}/customers/"
    assert query == {"r_scores": ["5"], "f_scores": ["5"]}


def test_the_overview_fits_a_phone(browser, live_server, cafe_owner):
    merchant, username = cafe_owner
    page, _requests = _login(browser, live_server, username, 390, 844)
    assert urlsplit(page.url).path == f"/m/{merchant.slug}/"
    _charts_drawn(page)
    page.wait_for_timeout(300)  # responsive charts settle to the screen's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # every chart keeps inside the screen
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.chart')]"
        ".map(c => c.getBoundingClientRect().right))"
    )
    assert widest <= 390
