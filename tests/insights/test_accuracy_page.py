"""The accuracy page: owners and managers see how well the predictions matched, in plain words."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from langganan.core.models import Role
from langganan.demo.generator import demo_merchant_build
from langganan.insights.services import insights_refresh
from tests.factories import MembershipFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
END = datetime(2026, 11, 1, 12, 0, tzinfo=JAKARTA)


@pytest.fixture
def cafe(db):
    merchant = demo_merchant_build(
        slug="kafe", n_customers=150, seed=11, end=date(2026, 11, 1)
    ).merchant
    insights_refresh(merchant=merchant, observation_end=END)
    return merchant


def url(merchant) -> str:
    return reverse("insights:accuracy", kwargs={"slug": merchant.slug})


def test_the_owner_sees_the_models_compared_in_indonesian(cafe, client):
    owner = MembershipFactory(merchant=cafe, role=Role.OWNER)
    client.force_login(owner.user)
    html = client.get(url(cafe)).content.decode()
    assert "Seberapa tepat perkiraannya?" in html
    assert "memang datang" in html  # the plain sentence
    assert "Perbandingan model" in html and "dipakai" in html
    assert "BG/NBD" in html and "Galat rata-rata per pelanggan" in html
    assert "Kunjungan ulang sebelumnya" in html and "7+" in html
    for raw in ("mbg_cnbd", "pareto_nbd", "holdout", "mae"):
        assert raw not in html


def test_english_on_request(cafe, client):
    manager = MembershipFactory(merchant=cafe, role=Role.MANAGER)
    client.force_login(manager.user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(url(cafe)).content.decode()
    assert "How accurate are the predictions?" in html and "The models compared" in html


def test_a_cashier_may_not_see_it_and_another_merchant_is_a_404(cafe, client, merchant):
    cashier = MembershipFactory(merchant=cafe, role=Role.CASHIER)
    client.force_login(cashier.user)
    assert client.get(url(cafe)).status_code == 403
    assert client.get(url(merchant)).status_code == 404


def test_without_an_analysis_the_page_says_so(merchant, client):
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    assert "Belum ada analisis" in client.get(url(merchant)).content.decode()
