"""Membership cards: the QR code of the member code (PNG and SVG), and the card pages.

No QR decoder is installed with the project, so the images are read back module by module
(PNG pixels, SVG path) and compared with the matrix segno computes for the same code; when
``zxingcpp`` happens to be installed, the PNG's modules are also decoded back to the text.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import date

import pytest
import segno
from django.urls import reverse

from langganan.core.errors import InvalidInput
from langganan.loyalty.card import (
    ERR_QR_EMPTY,
    ERR_QR_FORMAT,
    ERR_QR_SCALE,
    member_card_get,
    member_card_qr,
)
from tests.factories import CustomerFactory, MerchantFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory
from tests.web.helpers import log_in_member

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"
BORDER = 4  # the quiet zone, in modules


def expected_matrix(code: str) -> list[list[bool]]:
    return [[bool(v) for v in row] for row in segno.make_qr(code, error="m").matrix]


def png_pixels(data: bytes) -> list[list[int]]:
    """Grayscale pixels of a 1-bit grayscale PNG (the kind segno writes), all filters."""
    assert data.startswith(PNG_SIGNATURE)
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _c, _f, interlace = header
    assert (depth, colour, interlace) == (1, 0, 0), header
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, corner = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append([(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = line
    return rows


def png_modules(data: bytes, scale: int) -> list[list[bool]]:
    """Dark modules read from the centre pixel of each module, quiet zone stripped."""
    pixels = png_pixels(data)
    size = len(pixels) // scale - 2 * BORDER
    return [
        [
            pixels[(BORDER + r) * scale + scale // 2][(BORDER + c) * scale + scale // 2] == 0
            for c in range(size)
        ]
        for r in range(size)
    ]


def svg_modules(data: bytes, size: int) -> list[list[bool]]:
    """Dark modules drawn by the SVG path (``M``/``m`` moves and ``h`` runs)."""
    root = ET.fromstring(data)
    (path,) = root.iter(f"{SVG_NS}path")
    grid = [[False] * (size + 2 * BORDER) for _ in range(size + 2 * BORDER)]
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            run = int(float(a))
            for i in range(run):
                grid[int(y)][int(x) + i] = True
            x += run
    return [row[BORDER : BORDER + size] for row in grid[BORDER : BORDER + size]]


# -- the QR code ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["LG0001", "LGTEST0042", "MBR-2025-000123"])
def test_the_png_holds_exactly_the_qr_matrix_of_the_member_code(code):
    data = member_card_qr(member_code=code, fmt="png", scale=5)
    assert data.startswith(PNG_SIGNATURE)
    assert png_modules(data, 5) == expected_matrix(code)


@pytest.mark.parametrize("code", ["LG0001", "MBR-2025-000123"])
def test_the_svg_is_an_svg_document_drawing_the_same_matrix(code):
    data = member_card_qr(member_code=code, fmt="svg", scale=8)
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    assert not data.startswith(b"<?xml")  # can be put inline in HTML
    matrix = expected_matrix(code)
    assert int(root.get("width")) == (len(matrix) + 2 * BORDER) * 8
    assert svg_modules(data, len(matrix)) == matrix


def test_different_codes_give_different_images():
    assert member_card_qr(member_code="LG0001") != member_card_qr(member_code="LG0002")


def test_the_scale_sets_the_pixel_size():
    small = png_pixels(member_card_qr(member_code="LG0001", fmt="png", scale=2))
    large = png_pixels(member_card_qr(member_code="LG0001", fmt="png", scale=6))
    assert len(large) == 3 * len(small)


def test_the_png_decodes_back_to_the_member_code():
    import numpy
    import zxingcpp  # a real QR reader (dev dependency)

    pixels = numpy.array(
        png_pixels(member_card_qr(member_code="LG0001", fmt="png", scale=4)), dtype=numpy.uint8
    )
    (result,) = zxingcpp.read_barcodes(pixels * 255)
    assert result.text == "LG0001"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"member_code": "LG1", "fmt": "gif"}, ERR_QR_FORMAT),
        ({"member_code": "LG1", "scale": 0}, ERR_QR_SCALE),
        ({"member_code": "LG1", "scale": 41}, ERR_QR_SCALE),
        ({"member_code": "   "}, ERR_QR_EMPTY),
    ],
)
def test_bad_qr_requests_are_refused(kwargs, message):
    with pytest.raises(InvalidInput) as err:
        member_card_qr(**kwargs)
    assert err.value.message == message


# -- the card ---------------------------------------------------------------------------------


@pytest.fixture
def rina(merchant):
    return CustomerFactory(
        merchant=merchant,
        full_name="Rina Wati",
        gender="F",
        birth_date=date(1995, 4, 17),
        member_code="LG0001",
    )


@pytest.fixture
def gold(merchant):
    return TierFactory(program=ProgramFactory(merchant=merchant), name="Gold", rank=2)


def test_the_card_shows_the_tier_of_a_member(merchant, rina, gold):
    MemberFactory(customer=rina, tier=gold)
    card = member_card_get(merchant=merchant, customer=rina)
    assert (card.merchant_name, card.name, card.member_code, card.tier) == (
        merchant.name,
        "Rina Wati",
        "LG0001",
        "Gold",
    )
    assert card.greeting == "Mbak"
    assert ET.fromstring(card.qr_svg).tag == f"{SVG_NS}svg"


def test_a_customer_who_is_not_a_member_has_a_card_without_tier(merchant, rina):
    assert member_card_get(merchant=merchant, customer=rina).tier is None


def card_url(merchant, customer, name="customers:member_card", **extra) -> str:
    return reverse(name, kwargs={"slug": merchant.slug, "pk": customer.pk, **extra})


def test_the_card_page_is_printable_and_shows_everything(client, merchant, rina, gold):
    MemberFactory(customer=rina, tier=gold)
    # a cashier opens the card of the customer she is serving, found by her member code
    log_in_member(client, merchant, role="cashier")
    assert client.get(card_url(merchant, rina)).status_code == 403  # not found yet: not served
    client.get(
        reverse("customers:customer_lookup", kwargs={"slug": merchant.slug}), {"q": "LG0001"}
    )

    response = client.get(card_url(merchant, rina))

    assert response.status_code == 200
    html = response.content.decode()
    for text in [merchant.name, "Mbak Rina Wati", "LG0001", "Gold", "@media print"]:
        assert text in html, text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html  # the QR, inline
    assert card_url(merchant, rina, "customers:member_card_image", fmt="png") in html
    assert card_url(merchant, rina, "customers:member_card_image", fmt="svg") in html
    assert "<script" not in html.lower()


@pytest.mark.parametrize(("fmt", "content_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_the_qr_downloads(client, merchant, rina, gold, fmt, content_type):
    MemberFactory(customer=rina, tier=gold)
    log_in_member(client, merchant)

    response = client.get(card_url(merchant, rina, "customers:member_card_image", fmt=fmt))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="member-LG0001.{fmt}"'
    assert response.content == member_card_qr(member_code="LG0001", fmt=fmt, scale=10)


def test_a_customer_who_has_not_joined_gets_an_invitation_not_a_card(client, merchant, rina):
    log_in_member(client, merchant)

    response = client.get(card_url(merchant, rina))

    assert response.status_code == 404
    html = response.content.decode()
    assert "Belum menjadi member" in html
    assert "Member sejak" not in html and 'class="member-card"' not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' not in html
    assert (
        client.get(card_url(merchant, rina, "customers:member_card_image", fmt="png")).status_code
        == 404
    )


def test_an_unknown_image_format_is_404(client, merchant, rina):
    log_in_member(client, merchant)
    assert (
        client.get(card_url(merchant, rina, "customers:member_card_image", fmt="gif")).status_code
        == 404
    )


@pytest.mark.parametrize("name", ["card", "png", "svg"])
def test_another_merchants_customer_is_404(client, merchant, name):
    log_in_member(client, merchant)
    stranger = CustomerFactory(merchant=MerchantFactory())
    url = (
        card_url(merchant, stranger)
        if name == "card"
        else card_url(merchant, stranger, "customers:member_card_image", fmt=name)
    )
    assert client.get(url).status_code == 404


def test_a_merchant_the_user_is_not_a_member_of_is_404(client, merchant, rina):
    log_in_member(client, MerchantFactory())
    assert client.get(card_url(merchant, rina)).status_code == 404


@pytest.mark.parametrize("name", ["card", "png"])
def test_the_card_needs_a_login(client, merchant, rina, name):
    url = (
        card_url(merchant, rina)
        if name == "card"
        else card_url(merchant, rina, "customers:member_card_image", fmt="png")
    )
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]
