"""Bahasa Indonesia first; English when the user switches."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"
WEB_LOCALE_DIR = Path(settings.BASE_DIR) / "web" / "locale" / "id" / "LC_MESSAGES"


def switch_language(client, code: str, next_url: str = "/"):
    return client.post(reverse("set_language"), {"language": code, "next": next_url})


def test_first_visit_is_in_indonesian(client, merchant, member):
    CustomerFactory(merchant=merchant)

    response = client.get(reverse("customers:customer_list", kwargs={"slug": merchant.slug}))

    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Pelanggan" in html
    assert "Cari" in html
    assert "Kode member" in html


def test_switching_to_english_shows_english(client, merchant, member):
    CustomerFactory(merchant=merchant)
    url = reverse("customers:customer_list", kwargs={"slug": merchant.slug})

    switched = switch_language(client, "en", url)
    response = client.get(url)

    assert switched.status_code == 302
    assert switched["Location"] == url
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert ">Customers<" in html
    assert "Member code" in html
    assert "Log out" in html
    assert "Kode member" not in html


def test_switching_back_to_indonesian(client, merchant, member):
    switch_language(client, "en")
    switch_language(client, "id")

    response = client.get(reverse("customers:customer_list", kwargs={"slug": merchant.slug}))

    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Keluar" in html


def test_login_page_offers_the_language_switcher(client):
    html = client.get(reverse("web:login")).content.decode()

    assert f'action="{reverse("set_language")}"' in html
    assert 'name="language" value="en"' in html
    assert 'name="language" value="id"' in html


def test_chosen_language_middleware_ignores_the_browser_language(client, settings):
    settings.MIDDLEWARE = [
        "langganan.web.middleware.ChosenLanguageMiddleware"
        if name == "django.middleware.locale.LocaleMiddleware"
        else name
        for name in settings.MIDDLEWARE
    ]

    first = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    switch_language(client, "en")
    chosen = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="id")

    assert '<html lang="id">' in first.content.decode()
    assert '<html lang="en">' in chosen.content.decode()


def _po_entries(text: str) -> list[tuple[str, str | None, str]]:
    """(msgid, msgid_plural, first msgstr) of each entry of a .po file."""

    def joined(chunk: str) -> str:
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)
        return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode()

    entries = []
    for block in text.split("\n\n"):
        lines = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        match = re.search(
            r'msgid (".*?")\n(?:msgid_plural (".*?")\n)?msgstr(?:\[0\])? (".*)', lines, re.S
        )
        if match and joined(match.group(1)):
            plural = joined(match.group(2)) if match.group(2) else None
            entries.append((joined(match.group(1)), plural, joined(match.group(3))))
    return entries


def test_compiled_catalogue_is_present_and_matches_the_po_file():
    po, mo = LOCALE_DIR / "django.po", LOCALE_DIR / "django.mo"

    assert mo.exists(), "run msgfmt on django.po and commit django.mo"
    entries = _po_entries(po.read_text(encoding="utf-8"))
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert len(entries) > 100
    assert [msgid for msgid, _plural, msgstr in entries if not msgstr] == []
    stale = [
        msgid
        for msgid, plural, msgstr in entries
        if (catalogue.ngettext(msgid, plural, 1) if plural else catalogue.gettext(msgid)) != msgstr
    ]
    assert stale == [], "django.mo is older than django.po: run msgfmt again"
    with translation.override("id"):
        assert translation.gettext("Customers") == "Pelanggan"
        assert translation.gettext("Cash") == "Tunai"
        assert translation.gettext("Dine-in") == "Makan di tempat"
        assert translation.gettext("customer") == "pelanggan"


def test_the_web_catalogue_is_compiled_and_used():
    """The customer page's estimates have their own catalogue (web/locale), msgctxt included."""
    po, mo = WEB_LOCALE_DIR / "django.po", WEB_LOCALE_DIR / "django.mo"
    text = po.read_text(encoding="utf-8")
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for block in text.split("\n\n"):
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        for msgid, plural, msgstr in _po_entries(block):
            if context:
                got = catalogue.pgettext(context.group(1), msgid)
            elif plural:
                got = catalogue.ngettext(msgid, plural, 1)
            else:
                got = catalogue.gettext(msgid)
            if not msgstr or got != msgstr:
                stale.append(msgid)
    assert stale == [], "web/locale: django.mo is older than django.po: run msgfmt again"
    main = {msgid for msgid, _p, _s in _po_entries((LOCALE_DIR / "django.po").read_text())}
    shadowed = [m for m, _p, _s in _po_entries(text) if m in main]
    assert shadowed == [], "these msgids are translated by locale/ (LOCALE_PATHS wins)"
    with translation.override("id"):
        assert translation.gettext("Chance they are still active") == "Peluang masih aktif"
        assert translation.gettext("not enough data yet") == "belum cukup data"
        assert translation.pgettext("the usual order: items bought equally often", "or") == "atau"
        assert (
            translation.ngettext(
                "only %(counter)s visit so far", "only %(counter)s visits so far", 2
            )
            == "baru %(counter)s kali datang"
        )
