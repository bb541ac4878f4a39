"""A 100 MB file, twice the browser import's default limit, is refused in Indonesian and
nothing of it is kept (issue 18's bad files)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from langganan.customers.models import Customer
from langganan.sales.models import ImportJob
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def test_a_100_mb_file_is_refused_at_the_default_limit_and_nothing_is_kept(
    client, settings, tmp_path
):
    settings.DATA_DIR = str(tmp_path / "data")
    assert settings.LANGGANAN_IMPORT_MAX_MB == 50
    merchant = MerchantFactory()
    client.force_login(MembershipFactory(merchant=merchant, role="owner").user)
    line = b"Pelanggan,081234567890\n"
    content = b"Nama,No HP\n" + line * (100 * 1024 * 1024 // len(line))
    assert len(content) >= 100 * 1024 * 1024 - len(line)

    response = client.post(
        reverse("data:import", kwargs={"slug": merchant.slug}),
        {"kind": "pelanggan", "file": SimpleUploadedFile("besar.csv", content)},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Berkas terlalu besar (100,0" in html
    assert "berkas terbesar yang bisa diimpor di sini 50,0" in html
    assert not ImportJob.objects.exists()
    uploads = tmp_path / "data" / "uploads" / str(merchant.pk)
    assert not uploads.exists() or not any(uploads.iterdir())
    assert not Customer.objects.exists()
