"""Photos of a complaint: only real images within the size limit are stored (nothing is written
for a refused file), they are shown as thumbnails with their caption escaped, and they are
served only to the merchant's owners and managers (another merchant's photo is a 404)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from langganan.care.models import Complaint, ComplaintPhoto
from langganan.care.photos import PhotoRefused, photos_check, sniff
from tests.care.helpers import category, complaint
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGGANAN_PHOTO_MAX_MB = 1
    return settings.MEDIA_ROOT


def _files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _login(merchant, role="owner") -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def _photo_url(merchant, photo) -> str:
    return reverse(
        "care:complaint_photo",
        kwargs={"slug": merchant.slug, "complaint_id": photo.complaint_id, "photo_id": photo.pk},
    )


def _add_url(merchant, c) -> str:
    return reverse("care:complaint_photo_add", kwargs={"slug": merchant.slug, "complaint_id": c.pk})


def test_the_type_is_read_from_the_content_not_the_name():
    assert sniff(PNG[:16]) == "image/png"
    assert sniff(JPEG_HEAD) == "image/jpeg"
    assert sniff(b"<html><script>alert(1)</script>") is None
    with pytest.raises(PhotoRefused):
        photos_check([SimpleUploadedFile("kopi.jpg", b"<html>not a photo</html>", "image/jpeg")])


def test_a_photo_is_stored_outside_the_web_root_and_shown_on_the_complaint_page(merchant, media):
    c = complaint(merchant)
    owner = _login(merchant)
    response = owner.post(
        _add_url(merchant, c),
        {"photos": SimpleUploadedFile("IMG_01.png", PNG, "image/png"), "caption": "Gelasnya"},
    )
    assert response.status_code == 302
    photo = ComplaintPhoto.objects.get(complaint=c)
    assert photo.content_type == "image/png" and photo.size == len(PNG)
    assert photo.file.name.startswith(f"care/{merchant.pk}/") and "IMG_01" not in photo.file.name
    assert [p.read_bytes() for p in _files(media)] == [PNG]

    page = owner.get(reverse("care:complaint_detail", args=[merchant.slug, c.pk])).content.decode()
    assert f'src="{_photo_url(merchant, photo)}"' in page and "Gelasnya" in page

    served = owner.get(_photo_url(merchant, photo))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == PNG


def test_an_oversized_photo_is_refused_in_indonesian_and_nothing_is_written(merchant, media):
    c = complaint(merchant)
    owner = _login(merchant)
    big = PNG + b"\x00" * (1024 * 1024)
    response = owner.post(
        _add_url(merchant, c), {"photos": SimpleUploadedFile("besar.png", big, "image/png")}
    )
    page = owner.get(response["Location"]).content.decode()
    assert "besar.png lebih besar dari 1 MB." in page
    assert ComplaintPhoto.objects.count() == 0 and _files(media) == []


def test_a_page_renamed_jpg_is_refused_and_with_it_the_good_photo_sent_alongside(merchant, media):
    c = complaint(merchant)
    owner = _login(merchant)
    response = owner.post(
        _add_url(merchant, c),
        {
            "photos": [
                SimpleUploadedFile("bagus.png", PNG, "image/png"),
                SimpleUploadedFile("foto.jpg", b"<html><script>alert(1)</script>", "image/jpeg"),
            ]
        },
    )
    page = owner.get(response["Location"]).content.decode()
    assert "foto.jpg bukan foto (JPEG, PNG, WebP atau GIF)." in page
    assert ComplaintPhoto.objects.count() == 0 and _files(media) == []


def test_html_in_a_caption_is_shown_as_text(merchant):
    c = complaint(merchant)
    owner = _login(merchant)
    owner.post(
        _add_url(merchant, c),
        {
            "photos": SimpleUploadedFile("a.png", PNG, "image/png"),
            "caption": '<img src=x onerror="alert(1)">',
        },
    )
    page = owner.get(reverse("care:complaint_detail", args=[merchant.slug, c.pk])).content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_photos_sent_with_a_new_complaint_are_kept_with_it(merchant, media):
    owner = _login(merchant)
    response = owner.post(
        reverse("care:complaint_create", args=[merchant.slug]),
        {
            "channel": "in_person",
            "category": category(merchant, "cleanliness").pk,
            "severity": "medium",
            "text": "Mejanya kotor",
            "photos": SimpleUploadedFile("meja.png", PNG, "image/png"),
            "caption": "Meja 4",
        },
    )
    assert response.status_code == 302
    c = Complaint.objects.get(merchant=merchant)
    assert list(c.photos.values_list("caption", flat=True)) == ["Meja 4"]


def test_a_refused_photo_keeps_the_new_complaint_form_and_records_nothing(merchant, media):
    owner = _login(merchant)
    response = owner.post(
        reverse("care:complaint_create", args=[merchant.slug]),
        {
            "channel": "in_person",
            "category": category(merchant, "cleanliness").pk,
            "severity": "medium",
            "text": "Mejanya kotor",
            "photos": SimpleUploadedFile("meja.jpg", b"GIF-ish but not", "image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert "meja.jpg bukan foto" in response.content.decode()
    assert Complaint.objects.count() == 0 and _files(media) == []


def test_another_merchants_photo_is_a_404_and_a_cashier_sees_none(merchant):
    c = complaint(merchant, customer=CustomerFactory(merchant=merchant))
    _login(merchant).post(
        _add_url(merchant, c), {"photos": SimpleUploadedFile("a.png", PNG, "image/png")}
    )
    photo = ComplaintPhoto.objects.get()
    other = MerchantFactory()
    stranger = _login(other)
    # the other merchant's owner, through their own slug: not found
    url = reverse(
        "care:complaint_photo",
        kwargs={"slug": other.slug, "complaint_id": c.pk, "photo_id": photo.pk},
    )
    assert stranger.get(url).status_code == 404
    assert stranger.get(_photo_url(merchant, photo)).status_code in (403, 404)
    assert _login(merchant, role="cashier").get(_photo_url(merchant, photo)).status_code == 403
    # a photo of another complaint of the same merchant is not found under this one
    c2 = complaint(merchant)
    wrong = reverse(
        "care:complaint_photo",
        kwargs={"slug": merchant.slug, "complaint_id": c2.pk, "photo_id": photo.pk},
    )
    assert _login(merchant).get(wrong).status_code == 404
