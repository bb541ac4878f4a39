"""Photos of a complaint: checked, stored in the default storage, read back for the view.

A file is accepted when it is a JPEG, PNG, WebP or GIF image no larger than
``LANGGANAN_PHOTO_MAX_MB`` (5 MB by default). The type is read from the file's content, never
its name or the browser's claim: with Pillow installed the image is opened and verified,
otherwise its first bytes (the format's signature) decide. A refused file is reported in
Indonesian and nothing is written — neither the file nor any row — and when one file of several
is refused, none is stored.

Files go to the default storage under ``care/<merchant id>/<random>.<ext>`` (MEDIA_ROOT is
outside the web root and has no URL); :func:`langganan.care.views_photos.complaint_photo`
serves them after checking the merchant and the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from langganan.core.errors import InvalidInput

from .models import Complaint, ComplaintPhoto

ERR_TOO_BIG = gettext_noop("%(name)s is larger than %(limit)s MB.")
ERR_NOT_IMAGE = gettext_noop("%(name)s is not a photo (JPEG, PNG, WebP or GIF).")
ERR_TOO_MANY = gettext_noop("At most %(limit)s photos per complaint.")

#: photos one complaint may hold
MAX_PHOTOS = 10
#: bytes read to tell the type
HEAD = 16

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class PhotoRefused(InvalidInput):
    def __init__(self, message: str, **params):
        super().__init__(message, field="photos", code="photo")
        self.params = params


def max_bytes() -> int:
    return int(getattr(settings, "LANGGANAN_PHOTO_MAX_MB", 5)) * 1024 * 1024


def sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _pillow_type(data: bytes) -> str | None:
    """With Pillow: the verified image's type (None when it is no image); without: ``""``."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return ""
    import io

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return PIL_FORMATS.get(image.format or "")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


@dataclass(frozen=True)
class CheckedPhoto:
    name: str
    content_type: str
    data: bytes


def photo_check(upload) -> CheckedPhoto:
    """Read and check one uploaded file; :class:`PhotoRefused` when it is too big or no image."""
    name = (getattr(upload, "name", "") or "foto")[-80:]
    limit = max_bytes()
    if (getattr(upload, "size", 0) or 0) > limit:
        raise PhotoRefused(ERR_TOO_BIG, name=name, limit=limit // (1024 * 1024))
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoRefused(ERR_TOO_BIG, name=name, limit=limit // (1024 * 1024))
    content_type = sniff(data[:HEAD])
    checked = _pillow_type(data)
    if content_type is None or checked is None or (checked and checked != content_type):
        raise PhotoRefused(ERR_NOT_IMAGE, name=name)
    return CheckedPhoto(name=name, content_type=content_type, data=data)


def photos_check(uploads, *, already: int = 0) -> list[CheckedPhoto]:
    """Check every file before any is stored (all or nothing)."""
    uploads = [u for u in uploads if u]
    if already + len(uploads) > MAX_PHOTOS:
        raise PhotoRefused(ERR_TOO_MANY, limit=MAX_PHOTOS)
    return [photo_check(upload) for upload in uploads]


def complaint_photos_add(
    *,
    complaint: Complaint,
    photos: list[CheckedPhoto],
    caption: str = "",
    by=None,
    at: datetime | None = None,
) -> list[ComplaintPhoto]:
    """Store checked photos with the complaint; a file written for a row that was not saved is
    removed again."""
    at = at or timezone.now()
    caption = (caption or "").strip()[:200]
    saved: list[ComplaintPhoto] = []
    try:
        with transaction.atomic():
            complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
            if complaint.photos.count() + len(photos) > MAX_PHOTOS:
                raise PhotoRefused(ERR_TOO_MANY, limit=MAX_PHOTOS)
            for photo in photos:
                row = ComplaintPhoto(
                    merchant_id=complaint.merchant_id,
                    complaint=complaint,
                    content_type=photo.content_type,
                    size=len(photo.data),
                    caption=caption,
                    by=by,
                    at=at,
                )
                row.file.save(
                    f"foto.{EXTENSIONS[photo.content_type]}", ContentFile(photo.data), save=False
                )
                saved.append(row)
                row.save()
    except Exception:
        for row in saved:
            row.file.storage.delete(row.file.name)
        raise
    return saved


def photo_get(*, merchant, complaint_id: int, photo_id: int) -> ComplaintPhoto | None:
    """The merchant's photo of that complaint, or None (another merchant's is not found)."""
    return ComplaintPhoto.objects.filter(
        merchant=merchant, complaint_id=complaint_id, pk=photo_id
    ).first()
