"""Complaints and feedback where the dashboard shows them (issue 19, point 6): the figures page,
the customer page, the counter card and the API's card, the owner's alert on a low rating and
the menu's count of new complaints, and the campaign page's customers left out by a complaint."""

from __future__ import annotations

from datetime import timedelta

import django_q.tasks
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from langganan.care.alerts import NOTE_NO_EMAIL, NOTE_SENT, TASK, alert_deliver
from langganan.care.feedback import feedback_submit
from langganan.care.models import Complaint, ComplaintEvent, Feedback, Status
from langganan.care.services import complaint_set_status
from langganan.loyalty.cashier import customer_card_get
from langganan.web.access import SERVING_KEY
from tests.care.helpers import category, complaint
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


def _login(merchant, role="owner", **kwargs) -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role, **kwargs).user)
    return client


@pytest.fixture
def rina(merchant):
    return CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")


def _answer(merchant, customer, rating, *, nps=None, suggestion="", days_ago=1, outlet=None):
    at = timezone.now() - timedelta(days=days_ago)
    sale = TransactionFactory(
        merchant=merchant,
        customer=customer,
        occurred_at=at,
        **({"outlet": outlet} if outlet else {}),
    )
    return Feedback.objects.create(
        merchant=merchant,
        transaction=sale,
        customer=customer,
        outlet=sale.outlet,
        rating=rating,
        nps=nps,
        suggestion=suggestion,
        created_at=at,
    )


# -- the figures page ---------------------------------------------------------------------------


def test_the_figures_page_shows_the_periods_numbers_with_a_table_beside_each_chart(merchant, rina):
    melawai = OutletFactory(merchant=merchant, name="Cabang Melawai")
    now = timezone.now()
    for code, days in (("waiting", 2), ("waiting", 5), ("taste", 20), ("staff", 200)):
        complaint(
            merchant,
            customer=rina,
            at=now - timedelta(days=days),
            outlet=melawai,
            category=category(merchant, code),
        )
    _answer(merchant, rina, 5, nps=10, suggestion="Tambah colokan <b>listrik</b>", days_ago=3)
    _answer(merchant, rina, 4, nps=9, days_ago=10)
    _answer(merchant, rina, 2, nps=3, days_ago=12)
    owner = _login(merchant)
    url = reverse("care:figures", args=[merchant.slug])
    assert url == f"/m/{merchant.slug}/keluhan/angka/"
    queue = owner.get(reverse("care:complaint_list", args=[merchant.slug])).content.decode()
    assert f'href="{url}"' in queue and "Angka" in queue
    answers = owner.get(reverse("care:feedback_list", args=[merchant.slug])).content.decode()
    assert f'href="{url}"' in answers

    page = owner.get(url).content.decode()  # 30 days
    assert 'data-testid="total">3<' in page
    assert "Waktu tunggu" in page and "Rasa / kualitas" in page and "Sikap staf" not in page
    assert "Cabang Melawai" in page
    assert 'data-testid="csat">67%<' in page  # 2 of 3 rated 4-5
    assert 'data-testid="nps">33<' in page  # (2 promoters - 1 detractor) of 3
    assert "Tambah colokan &lt;b&gt;listrik&lt;/b&gt;" in page  # escaped
    assert 'data-chart="care-categories' in page and 'data-testid="by-category"' in page
    assert 'data-chart="care-trend' in page and 'data-testid="trend"' in page
    assert "Pelanggan serupa" not in page  # no complaint resolved: the sentence says so
    assert "Tidak ada keluhan pelanggan yang selesai" in page

    year = owner.get(url, {"period": "365"}).content.decode()
    assert 'data-testid="total">4<' in year and "Sikap staf" in year
    assert "CSAT dan NPS per bulan" in year
    assert 'aria-current="page">1 tahun<' in year


def test_the_figures_page_compares_customers_after_a_resolved_complaint(merchant, rina):
    outlet = OutletFactory(merchant=merchant)
    budi = CustomerFactory(merchant=merchant)
    now = timezone.now()
    for customer in (rina, budi):
        for days in (60, 40, 3):
            TransactionFactory(
                merchant=merchant,
                outlet=outlet,
                customer=customer,
                occurred_at=now - timedelta(days=days),
            )
    c = complaint(merchant, customer=rina, at=now - timedelta(days=20))
    complaint_set_status(
        complaint=c, status=Status.IN_PROGRESS, by=None, at=now - timedelta(days=19)
    )
    complaint_set_status(complaint=c, status=Status.RESOLVED, by=None, at=now - timedelta(days=18))
    page = _login(merchant).get(reverse("care:figures", args=[merchant.slug])).content.decode()
    assert 'data-testid="after"' in page
    assert "Pelanggan serupa" in page and "180 hari" in page


def test_the_figures_page_is_for_owners_and_managers_of_the_merchant_only(merchant):
    url = reverse("care:figures", args=[merchant.slug])
    assert _login(merchant, "manager").get(url).status_code == 200
    assert _login(merchant, "cashier").get(url).status_code == 403
    assert _login(MerchantFactory()).get(url).status_code == 404


# -- the customer page --------------------------------------------------------------------------


def test_the_customer_page_shows_her_complaints_and_her_feedback_scores(merchant, rina):
    old = complaint(merchant, customer=rina, at=timezone.now() - timedelta(days=40))
    complaint_set_status(complaint=old, status=Status.REJECTED, by=None)
    new = complaint(merchant, customer=rina, category=category(merchant, "waiting"))
    other = complaint(merchant, customer=CustomerFactory(merchant=merchant), text="Bukan Rina")
    _answer(merchant, rina, 4, nps=8, days_ago=5)
    _answer(merchant, rina, 2, nps=3, days_ago=1)
    owner = _login(merchant)
    page = owner.get(reverse("customers:customer_detail", args=[merchant.slug, rina.pk]))
    html = page.content.decode()
    section = html[html.index('data-testid="customer-care"') :]
    assert "Keluhan dan ulasan" in section
    assert 'data-testid="care-open"><span class="care-late">1</span>' in section
    assert "dari 2 keluhan" in section
    assert "2/5 · NPS 3" in section  # the latest
    assert "3.0/5" in section or "3,0/5" in section  # the average of 4 and 2
    detail = reverse("care:complaint_detail", args=[merchant.slug, new.pk])
    assert f'href="{detail}"' in section and "Waktu tunggu" in section and "Baru" in section
    assert "Ditolak" in section and f"#{old.pk}" in section
    assert f"#{other.pk} ·" not in section and "Bukan Rina" not in section


def test_a_cashier_serving_her_sees_the_history_without_links_to_complaint_pages(merchant, rina):
    c = complaint(merchant, customer=rina)
    cashier = _login(merchant, "cashier")
    session = cashier.session
    session[SERVING_KEY.format(merchant_id=merchant.pk)] = rina.pk
    session.save()
    response = cashier.get(reverse("customers:customer_detail", args=[merchant.slug, rina.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"#{c.pk}" in html
    assert reverse("care:complaint_detail", args=[merchant.slug, c.pk]) not in html


# -- the counter card and the API's card --------------------------------------------------------


def test_the_card_counts_her_open_complaints_and_shows_her_latest_rating(merchant, rina):
    complaint(merchant, customer=rina, category=category(merchant, "waiting"))
    resolved = complaint(merchant, customer=rina)
    complaint_set_status(complaint=resolved, status=Status.REJECTED, by=None)
    _answer(merchant, rina, 5, days_ago=9)
    _answer(merchant, rina, 3, days_ago=2)
    card = customer_card_get(merchant=merchant, member_code=rina.member_code)
    assert (card.open_complaints, card.last_rating) == (1, 3)
    other = CustomerFactory(merchant=merchant)
    blank = customer_card_get(merchant=merchant, member_code=other.member_code)
    assert (blank.open_complaints, blank.last_rating) == (0, None)

    from langganan.api.routers.customers import render_card

    data = render_card(card)
    assert data["open_complaints"] == 1 and data["last_rating"] == 3


def test_the_counter_screen_shows_the_open_complaint_and_the_latest_rating(merchant, rina):
    outlet = OutletFactory(merchant=merchant, code="JKT-01")
    c = complaint(merchant, customer=rina, category=category(merchant, "waiting"))
    _answer(merchant, rina, 2, days_ago=1, outlet=outlet)
    cashier = _login(merchant, "cashier", outlet=outlet)
    url = reverse("counter:screen", args=[merchant.slug])
    assert cashier.get(url, {"q": "0812-3456-7890"}).status_code == 302
    html = cashier.get(url).content.decode()
    assert f"Keluhan terbuka: #{c.pk} · Waktu tunggu" in html
    assert 'data-testid="card-last-rating">2/5<' in html


# -- the owner's alert and the menu's count -----------------------------------------------------


def test_a_low_rating_alerts_the_owner_by_email_once_it_is_saved(
    merchant, rina, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: queued.append(a))
    owner = MembershipFactory(merchant=merchant, role="owner").user
    owner.email = "pemilik@example.com"
    owner.save()
    MembershipFactory(merchant=merchant, role="manager")  # a manager is not e-mailed
    MembershipFactory(merchant=MerchantFactory(), role="owner")  # nor another merchant's owner
    sale = TransactionFactory(merchant=merchant, customer=rina)
    with django_capture_on_commit_callbacks(execute=True):
        answer = feedback_submit(sale=sale, rating=1, nps=2, comment="Menunggu 40 menit")
    c = answer.complaint
    assert len(queued) == 1
    task, complaint_id, emails, subject, body = queued[0]
    assert (task, complaint_id, emails) == (TASK, c.pk, ["pemilik@example.com"])
    assert f"keluhan #{c.pk} dibuka" in subject and "1/5" in subject
    assert "Menunggu 40 menit" in body and "Rina Wati" in body
    assert f"/m/{merchant.slug}/keluhan/{c.pk}/" in body
    note = ComplaintEvent.objects.get(complaint=c, kind="note")
    assert note.text == NOTE_SENT.format(count=1) and note.by is None
    assert Complaint.objects.get(pk=c.pk).first_response_at is None  # not a response

    assert alert_deliver(complaint_id, emails, subject, body) == 1
    assert mail.outbox[0].to == ["pemilik@example.com"] and mail.outbox[0].subject == subject


def test_a_good_rating_alerts_nobody_and_an_owner_without_email_is_noted(
    merchant, rina, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: queued.append(a))
    owner = MembershipFactory(merchant=merchant, role="owner").user
    owner.email = ""
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        feedback_submit(sale=TransactionFactory(merchant=merchant, customer=rina), rating=5)
        low = feedback_submit(sale=TransactionFactory(merchant=merchant, customer=rina), rating=2)
    assert queued == []
    assert ComplaintEvent.objects.get(complaint=low.complaint, kind="note").text == NOTE_NO_EMAIL


def test_the_menu_counts_the_new_complaints_for_owners_and_managers(merchant, rina):
    owner = _login(merchant)
    home = reverse("care:complaint_list", args=[merchant.slug])
    assert 'data-testid="new-complaints"' not in owner.get(home).content.decode()
    first = complaint(merchant, customer=rina)
    complaint(merchant, customer=rina)
    complaint(MerchantFactory(), text="another merchant's")
    html = owner.get(home).content.decode()
    assert 'data-testid="new-complaints" title="2 keluhan baru">2<' in html
    complaint_set_status(complaint=first, status=Status.IN_PROGRESS, by=None)
    assert 'title="1 keluhan baru">1<' in owner.get(home).content.decode()


# -- the campaign page --------------------------------------------------------------------------


def test_the_campaign_page_counts_the_audience_left_out_by_an_open_complaint(merchant, rina):
    from tests.campaigns.roi.factories import CampaignFactory

    campaign = CampaignFactory(merchant=merchant, audience=None)
    page = reverse("campaigns_web:campaign_detail", args=[merchant.slug, campaign.pk])
    owner = _login(merchant)
    assert 'data-testid="held-by-complaints"' not in owner.get(page).content.decode()
    complaint(merchant, customer=rina)
    complaint(merchant, customer=rina)  # one customer, counted once
    done = complaint(merchant, customer=CustomerFactory(merchant=merchant))
    complaint_set_status(complaint=done, status=Status.REJECTED, by=None)
    html = owner.get(page).content.decode()
    assert 'data-testid="held-by-complaints">1 pelanggan' in html
    assert "keluhan terbuka" in html


def test_a_campaigns_audience_counts_only_its_own_customers_with_an_open_complaint(merchant, rina):
    from tests.campaigns.roi.factories import AudienceFactory, CampaignFactory

    rina.gender = "F"
    rina.save()
    budi = CustomerFactory(merchant=merchant, gender="M")
    complaint(merchant, customer=rina)
    complaint(merchant, customer=budi)
    women = AudienceFactory(merchant=merchant, filters={"gender": "F"})
    campaign = CampaignFactory(merchant=merchant, audience=women)
    owner = _login(merchant)
    html = owner.get(
        reverse("campaigns_web:campaign_detail", args=[merchant.slug, campaign.pk])
    ).content.decode()
    assert 'data-testid="held-by-complaints">1 pelanggan' in html

    # the audience builder says it beside its live count, for the saved filters or new ones
    edit = reverse("campaigns_web:audience_edit", args=[merchant.slug, women.pk])
    assert 'data-testid="held-by-complaints">1 di antaranya' in owner.get(edit).content.decode()
    men = owner.get(reverse("campaigns_web:audience_create", args=[merchant.slug]), {"gender": "M"})
    assert 'data-testid="held-by-complaints">1 di antaranya' in men.content.decode()
    nobody = owner.get(edit, {"gender": "M", "cities": "Medan"}).content.decode()
    assert 'data-testid="held-by-complaints"' not in nobody
