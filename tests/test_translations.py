"""Every string the dashboard shows has an Indonesian translation (issue 20, point 6).

The strings are found as Django's makemessages finds them — ``_()``, ``gettext()``,
``gettext_lazy()``, ``ngettext()`` in the code, ``{% translate %}`` and ``{% blocktranslate %}``
in the templates — and each must be in the Indonesian catalog the site serves (the apps' own
``locale/id`` files and Django's). A new page with an untranslated label fails here, with the
file and the string named.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation
from django.utils.translation import trans_real

SRC = Path(__file__).resolve().parents[1] / "src" / "langganan"
PY_CALL = re.compile(
    r"""(?<![\w.])(?:_|gettext|gettext_lazy|ngettext|ngettext_lazy|pgettext)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)"""
)
PY_PART = re.compile(r'"((?:[^"\\]|\\.)*)"')
TEMPLATE_TAG = re.compile(
    r"""{%\s*translate\s+"((?:[^"\\]|\\.)*)"|{%\s*translate\s+'((?:[^'\\]|\\.)*)'"""
    r"""|{%\s*blocktranslate([^%]*)%}(.*?){%\s*(?:endblocktranslate|plural)\s*%}""",
    re.S,
)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def _msgids(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    if path.suffix == ".py":
        for match in PY_CALL.finditer(text):
            found.append("".join(PY_PART.findall(match.group(1))))
        return found
    for match in TEMPLATE_TAG.finditer(text):
        if match.group(1) is not None or match.group(2) is not None:
            found.append(match.group(1) if match.group(1) is not None else match.group(2))
            continue
        options, body = match.group(3), match.group(4)
        if "trimmed" in options:
            body = " ".join(body.split())
        found.append(VARIABLE.sub(r"%(\1)s", body.replace("%", "%%")))
    return found


def _catalog_keys() -> set[str]:
    with translation.override("id"):
        catalog = trans_real.translation("id")._catalog
        keys = set()
        for key in catalog.keys():
            keys.add(key[0] if isinstance(key, tuple) else key)
    return keys


def test_every_dashboard_string_has_an_indonesian_translation():
    known = _catalog_keys()
    files = [
        p
        for p in [*SRC.rglob("*.py"), *SRC.rglob("templates/**/*.html")]
        if "migrations" not in p.parts
    ]
    missing = []
    for path in files:
        for msgid in _msgids(path):
            if msgid and msgid not in known and msgid.replace("%%", "%") not in known:
                missing.append(f"{path.relative_to(SRC)}: {msgid!r}")
    assert not missing, "untranslated:\n" + "\n".join(sorted(set(missing)))


def test_the_check_finds_a_missing_translation(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}{% translate "Customers" %}{% translate "Zebra crossing sale" %}'
        "{% blocktranslate trimmed with n=x %}  {{ n }} customers\n found {% endblocktranslate %}"
    )
    ids = _msgids(page)
    assert ids == ["Customers", "Zebra crossing sale", "%(n)s customers found"]
    known = _catalog_keys()
    assert "Customers" in known
    assert "Zebra crossing sale" not in known


def test_a_string_is_translated_the_same_way_in_every_app():
    """Django merges the apps' catalogs and the first app wins: two different translations of
    one string would make a page's wording depend on the order of INSTALLED_APPS."""
    import gettext

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for mo in sorted(SRC.glob("*/locale/id/LC_MESSAGES/django.mo")):
        with mo.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog
        for key, text in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid or isinstance(key, tuple):
                continue
            app = mo.relative_to(SRC).parts[0]
            if msgid in seen and seen[msgid][0] != text:
                clashes.append(f"{msgid!r}: {seen[msgid][1]} {seen[msgid][0]!r}, {app} {text!r}")
            seen.setdefault(msgid, (text, app))
    assert not clashes, "\n".join(clashes)
