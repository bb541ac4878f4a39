"""Every dashboard page of a demo café in a real browser (issue 20): at 1366×900 and 390×844
the owner's pages load with no console error and no failed request, nothing is wider than a
390 px phone, and every link and button's text meets WCAG AA contrast with its background.

Chromium comes from Debian (``apt-get install -y chromium``, done by ``.ci/run``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from langganan.core.models import Role
from langganan.demo.generator import demo_merchant_build
from langganan.insights.services import insights_refresh
from tests.factories import MembershipFactory
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (the demo writes ledger rows)

PASSWORD = "kopi-susu-2026"
END = datetime(2026, 11, 1, 12, 0, tzinfo=ZoneInfo("Asia/Jakarta"))

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ledger_cleanup"),
    pytest.mark.slow,
]

#: contrast of a link or button's text with the background behind it (WCAG 2.x), in the page
CONTRAST = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => {
    const f = v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const behind = el => { while (el) { const c = parse(getComputedStyle(el).backgroundColor);
    if (c && c.a > 0.5) return c; el = el.parentElement; } return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  for (const el of document.querySelectorAll('a, button')) {
    const box = el.getBoundingClientRect(); const st = getComputedStyle(el);
    if (!box.width || !box.height || st.visibility === 'hidden' || !el.innerText.trim()) continue;
    const a = lum(parse(st.color)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const large = size >= 24 || (size >= 18.66 && bold);
    if (ratio < (large ? 3 : 4.5))
      bad.push(el.innerText.trim().slice(0, 40) + ' (' + ratio.toFixed(2) + ')');
  }
  return bad;
}"""


def _merchant_pages(slug: str, customer_pk: int) -> list[str]:
    """The GET pages of one merchant: every URL under /m/<slug>/ with no other argument, and
    a customer's page."""
    paths = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith("m/<slug:slug>/") and route.count("<") == 1:
                    paths.append("/" + route.replace("<slug:slug>", slug))

    walk(get_resolver().url_patterns)
    paths.append(reverse("customers:customer_detail", args=[slug, customer_pk]))
    paths.append(reverse("customers:member_card", args=[slug, customer_pk]))
    return sorted(set(paths))


def _is_page(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/html")


@pytest.fixture
def cafe(db):
    merchant = demo_merchant_build(
        slug="kafe", n_customers=120, seed=5, end=date(2026, 11, 1)
    ).merchant
    insights_refresh(merchant=merchant, observation_end=END)
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    owner.user.set_password(PASSWORD)
    owner.user.save()
    customer = merchant.customers.filter(loyalty_member__isnull=False).first()
    return merchant, owner.user.username, customer


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_every_page_loads_cleanly_fits_the_phone_and_reads_clearly(
    browser, live_server, cafe, width, height
):
    merchant, username, customer = cafe
    reader = Client()
    reader.force_login(merchant.memberships.get(user__username=username).user)
    # the pages a browser opens: what answers a GET with HTML (actions answer 405, the
    # counter's JSON checks need their query)
    pages = [p for p in _merchant_pages(merchant.slug, customer.pk) if _is_page(reader.get(p))]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
    page.goto(live_server.url + "/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")

    assert len(pages) > 15
    for path in pages:
        before = len(problems)
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if response.status >= 400:
            problems.append(f"{path}: HTTP {response.status}")
        if width == 390:
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > 390:
                problems.append(f"{path}: {wide} px wide on a 390 px phone")
        if path.endswith("/card/"):
            # the member card (issue 20, point 5): code and date each on one line, values no
            # smaller than their labels, the print button styled as a button
            lines = page.evaluate(
                "[...document.querySelectorAll('.member-card dd')].map(d => Math.round("
                "d.getBoundingClientRect().height / parseFloat(getComputedStyle(d).lineHeight)))"
            )
            sizes = page.evaluate(
                "[...document.querySelectorAll('.member-card dt, .member-card dd')].map(e => "
                "[e.tagName, parseFloat(getComputedStyle(e).fontSize)])"
            )
            if any(n > 1 for n in lines):
                problems.append(f"{path}: a card value wraps ({lines})")
            if max(s for t, s in sizes if t == "DT") > min(s for t, s in sizes if t == "DD"):
                problems.append(f"{path}: card labels larger than values ({sizes})")
            if "button" not in (page.get_attribute(".card-tools button", "class") or ""):
                problems.append(f"{path}: the print button is unstyled")
        for item in page.evaluate(CONTRAST):
            problems.append(f"{path}: low contrast: {item}")
        for index in range(before, len(problems)):
            if not problems[index].startswith(path):
                problems[index] = f"{path}: {problems[index]}"
    context.close()
    assert not problems, "\n".join(problems)


def test_the_contrast_check_finds_white_text_on_a_near_white_button(browser):
    page = browser.new_page()
    page.set_content(
        '<body style="background:#f6f5f2"><p><button style="color:#fff;background:transparent;'
        'border:1px solid #fff">Cetak daftar</button> <a href="#" style="color:#1d4f91">Jelas</a>'
        "</p></body>"
    )
    found = page.evaluate(CONTRAST)
    page.close()
    assert len(found) == 1 and found[0].startswith("Cetak daftar")
