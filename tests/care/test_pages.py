"""The complaint pages and the public feedback page, as each role sees them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from langganan.care.feedback import feedback_token
from langganan.care.models import Complaint, ComplaintRecovery, EventKind, Feedback, Status
from langganan.loyalty.models import Voucher
from tests.care.helpers import category, complaint
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rina(merchant):
    return CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")


def _login(merchant, role="owner") -> Client:
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def _url(name, merchant, **kwargs):
    return reverse(f"care:{name}", kwargs={"slug": merchant.slug, **kwargs})


def test_an_owner_records_a_complaint_for_a_customer_from_her_page(merchant, rina):
    outlet = OutletFactory(merchant=merchant, name="Cabang Melawai")
    sale = TransactionFactory(merchant=merchant, outlet=outlet, customer=rina)
    owner = _login(merchant)
    page = owner.get(reverse("customers:customer_detail", args=[merchant.slug, rina.pk]))
    create = _url("complaint_create_for", merchant, pk=rina.pk)
    assert f'href="{create}"' in page.content.decode() and "Catat keluhan" in page.content.decode()

    form = owner.get(create).content.decode()
    assert "Rasa / kualitas" in form and "Masuk lewat" in form and "Rp 25.000" in form
    response = owner.post(
        create,
        {
            "sale": sale.pk,
            "outlet": "",
            "channel": "whatsapp",
            "category": category(merchant, "waiting").pk,
            "severity": "high",
            "text": "Pesanan datang 40 menit <script>alert(1)</script>",
        },
    )
    c = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("complaint_detail", merchant, complaint_id=c.pk)
    assert (c.customer, c.transaction, c.outlet, c.channel) == (rina, sale, outlet, "whatsapp")
    html = owner.get(response["Location"]).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Baru" in html and "Dicatat" in html and "Waktu tunggu" in html


def test_an_unknown_customer_code_is_a_clear_error_and_nothing_is_written(merchant):
    owner = _login(merchant)
    response = owner.post(
        _url("complaint_create", merchant),
        {
            "customer_query": "0899 0000 0000",
            "channel": "phone",
            "category": category(merchant).pk,
            "severity": "low",
            "text": "Salah pesanan",
        },
    )
    assert response.status_code == 400
    assert "Tidak ada pelanggan dengan nomor HP atau kode member itu." in response.content.decode()
    assert not Complaint.objects.exists()


def test_an_anonymous_complaint_from_an_online_review(merchant):
    owner = _login(merchant)
    response = owner.post(
        _url("complaint_create", merchant),
        {
            "contact_name": "Andi (Google)",
            "channel": "review",
            "category": category(merchant, "cleanliness").pk,
            "severity": "medium",
            "text": "Meja kotor",
        },
    )
    assert response.status_code == 302
    c = Complaint.objects.get()
    assert c.customer is None and c.contact_name == "Andi (Google)" and c.channel == "review"


def test_the_queue_counts_and_highlights_the_overdue_ones(merchant, rina):
    late = complaint(merchant, customer=rina, at=timezone.now() - timedelta(hours=30))
    fresh = complaint(merchant, text="Baru saja", at=timezone.now() - timedelta(hours=1))
    owner = _login(merchant)

    html = owner.get(_url("complaint_list", merchant)).content.decode()
    assert "1 terlambat" in html and "2 terbuka" in html
    start = html.index(f'id="keluhan-{late.pk}"')
    assert "is-overdue" in html[start - 40 : start]
    assert "Belum ditanggapi" in html
    start = html.index(f'id="keluhan-{fresh.pk}"')
    assert "is-overdue" not in html[start - 40 : start]
    assert html.index(f'id="keluhan-{late.pk}"') < start  # the overdue one first

    only = owner.get(_url("complaint_list", merchant), {"overdue": "1"}).content.decode()
    assert f'id="keluhan-{late.pk}"' in only and f'id="keluhan-{fresh.pk}"' not in only


def test_status_changes_from_the_page_follow_the_rules(merchant, rina):
    c = complaint(merchant, customer=rina)
    owner = _login(merchant)
    url = _url("complaint_status", merchant, complaint_id=c.pk)

    refused = owner.post(url, {"status": "closed"}, follow=True)
    assert "Keluhan yang berstatus Baru tidak bisa menjadi Ditutup." in refused.content.decode()
    c.refresh_from_db()
    assert c.status == Status.NEW

    owner.post(url, {"status": "in_progress", "note": "Ditelepon"})
    c.refresh_from_db()
    assert c.status == Status.IN_PROGRESS and c.first_response_at is not None
    html = owner.get(_url("complaint_detail", merchant, complaint_id=c.pk)).content.decode()
    assert "Baru → Ditangani" in html and "Ditelepon" in html


def test_a_voucher_from_the_page_is_given_once_when_the_button_is_pressed_twice(merchant, rina):
    c = complaint(merchant, customer=rina)
    owner = _login(merchant)
    url = _url("complaint_recover", merchant, complaint_id=c.pk)
    data = {"kind": "voucher", "amount": "25.000", "key": "a" * 32}
    owner.post(url, data)
    owner.post(url, data)
    assert ComplaintRecovery.objects.filter(complaint=c).count() == 1
    assert Voucher.objects.filter(customer=rina).count() == 1
    html = owner.get(_url("complaint_detail", merchant, complaint_id=c.pk)).content.decode()
    assert "Rp 25.000" in html and "Voucher permintaan maaf" in html


def test_the_reply_opens_whatsapp_and_is_logged(merchant, rina):
    c = complaint(merchant, customer=rina)
    owner = _login(merchant)
    detail = owner.get(_url("complaint_detail", merchant, complaint_id=c.pk)).content.decode()
    assert "Halo Kak Rina" in detail or "Halo Mbak Rina" in detail or "Halo Bu Rina" in detail
    response = owner.post(
        _url("complaint_reply", merchant, complaint_id=c.pk), {"text": "Mohon maaf, Kak"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("https://wa.me/6281234567890?text=")
    assert c.events.filter(kind=EventKind.REPLY).count() == 1


def test_another_merchants_complaint_is_a_404(merchant):
    theirs = complaint(MerchantFactory())
    owner = _login(merchant)
    for name in ("complaint_detail", "complaint_note", "complaint_status", "complaint_recover"):
        url = _url(name, merchant, complaint_id=theirs.pk)
        method = owner.get if name == "complaint_detail" else owner.post
        assert method(url).status_code == 404, name
    other_slug = reverse(
        "care:complaint_detail", kwargs={"slug": theirs.merchant.slug, "complaint_id": theirs.pk}
    )
    assert owner.get(other_slug).status_code == 404
    assert theirs.events.count() == 1


def test_a_cashier_records_for_the_customer_served_and_opens_nothing_else(merchant, rina):
    c = complaint(merchant, customer=rina)
    cashier = _login(merchant, "cashier")
    lookup = reverse("customers:customer_lookup", kwargs={"slug": merchant.slug})
    assert cashier.get(lookup, {"q": "081234567890"}).status_code == 302
    other = CustomerFactory(merchant=merchant)

    assert cashier.get(_url("complaint_create_for", merchant, pk=rina.pk)).status_code == 200
    assert cashier.get(_url("complaint_create_for", merchant, pk=other.pk)).status_code == 403
    for name, kwargs in (
        ("complaint_list", {}),
        ("complaint_create", {}),
        ("complaint_detail", {"complaint_id": c.pk}),
        ("categories", {}),
    ):
        assert cashier.get(_url(name, merchant, **kwargs)).status_code == 403, name

    response = cashier.post(
        _url("complaint_create_for", merchant, pk=rina.pk),
        {
            "channel": "in_person",
            "category": category(merchant).pk,
            "severity": "low",
            "text": "Sambal kurang",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "customers:customer_detail", kwargs={"slug": merchant.slug, "pk": rina.pk}
    )
    assert Complaint.objects.filter(customer=rina, text="Sambal kurang").exists()


def test_a_manager_handles_complaints(merchant, rina):
    c = complaint(merchant, customer=rina)
    manager = _login(merchant, "manager")
    assert manager.get(_url("complaint_list", merchant)).status_code == 200
    assert manager.get(_url("complaint_detail", merchant, complaint_id=c.pk)).status_code == 200


def test_the_categories_page_adds_and_stops_offering(merchant):
    owner = _login(merchant)
    owner.post(_url("categories", merchant), {"name": "Parkir"})
    parkir = category(merchant).__class__.objects.get(merchant=merchant, name="Parkir")
    assert parkir.is_active
    owner.post(_url("categories", merchant), {"toggle": parkir.pk})
    parkir.refresh_from_db()
    assert not parkir.is_active
    again = owner.post(_url("categories", merchant), {"name": "parkir"}, follow=True)
    assert "Sudah ada kategori dengan nama itu." in again.content.decode()
    form = owner.get(_url("complaint_create", merchant)).content.decode()
    assert "Parkir" not in form


# -- the public feedback page -------------------------------------------------------------------


@pytest.fixture
def sale(merchant, rina):
    return TransactionFactory(merchant=merchant, customer=rina)


def test_the_feedback_page_shows_nothing_about_the_customer(sale):
    response = Client().get(reverse("care:feedback", args=[feedback_token(sale)]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Bagaimana kunjungan Anda?" in html and sale.merchant.name in html
    assert "Rina" not in html and "7890" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_forged_token_is_a_404(sale):
    token = feedback_token(sale)
    assert Client().get(reverse("care:feedback", args=[token[:-3] + "abc"])).status_code == 404
    assert Client().get(reverse("care:feedback", args=["x"])).status_code == 404


def test_a_low_rating_opens_a_complaint_and_the_sale_takes_one_answer(sale):
    url = reverse("care:feedback", args=[feedback_token(sale)])
    first = Client().post(url, {"rating": "1", "nps": "2", "comment": "Nasi keras"})
    assert first.status_code == 200 and "Terima kasih!" in first.content.decode()
    second = Client().post(url, {"rating": "5", "nps": "10"})
    assert "Terima kasih!" in second.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.nps) == (1, 2)
    complaint_ = Complaint.objects.get()
    assert complaint_.channel == "feedback" and complaint_.customer == sale.customer
    assert "Nasi keras" in complaint_.text


def test_no_rating_is_a_clear_error(sale):
    url = reverse("care:feedback", args=[feedback_token(sale)])
    response = Client().post(url, {"comment": "Hmm"})
    assert response.status_code == 400
    assert "Silakan pilih nilai dari 1 sampai 5." in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_bot_filling_the_honeypot_is_thanked_and_nothing_is_saved(sale):
    url = reverse("care:feedback", args=[feedback_token(sale)])
    response = Client().post(url, {"rating": "1", "website": "http://spam"})
    assert "Terima kasih!" in response.content.decode()
    assert not Feedback.objects.exists() and not Complaint.objects.exists()


def test_too_many_answers_from_one_address_are_refused(merchant, monkeypatch):
    from langganan.care import feedback as feedback_module

    monkeypatch.setattr(feedback_module, "POLICY", feedback_module.FeedbackPolicy(per_address=2))
    sales = [TransactionFactory(merchant=merchant) for _ in range(3)]
    client = Client()
    codes = [
        client.post(reverse("care:feedback", args=[feedback_token(s)]), {"rating": "4"}).status_code
        for s in sales
    ]
    assert codes == [200, 200, 429]
    assert Feedback.objects.count() == 2


def test_the_targets_are_set_on_the_page_and_bad_ones_refused(merchant):
    from langganan.care.selectors import care_settings_for

    owner = _login(merchant)
    url = _url("categories", merchant)
    owner.post(
        url,
        {"targets": "1", "first_response_hours": "4", "resolution_hours": "48", "low_rating": "3"},
    )
    targets = care_settings_for(merchant)
    assert (targets.first_response_hours, targets.resolution_hours, targets.low_rating) == (
        4,
        48,
        3,
    )
    bad = owner.post(
        url,
        {"targets": "1", "first_response_hours": "50", "resolution_hours": "48", "low_rating": "3"},
        follow=True,
    )
    assert "tanggapan pertama tidak lebih lama dari penyelesaian" in bad.content.decode()
    assert care_settings_for(merchant).first_response_hours == 4
    words = owner.post(
        url, {"targets": "1", "first_response_hours": "x"}, follow=True
    ).content.decode()
    assert "Target berupa jam bulat" in words


def test_the_feedback_page_of_the_dashboard_shows_answers_and_scores(merchant, rina):
    from langganan.care.feedback import feedback_submit

    feedback_submit(
        sale=TransactionFactory(merchant=merchant, customer=rina),
        rating=2,
        nps=10,
        comment="Antre lama",
        suggestion="Tambah kasir <b>sore</b>",
    )
    owner = _login(merchant)
    html = owner.get(_url("feedback_list", merchant)).content.decode()
    assert "Ulasan dan saran" in html and "Antre lama" in html and "Rina Wati" in html
    assert "Tambah kasir &lt;b&gt;sore&lt;/b&gt;" in html
    assert 'data-testid="nps">100<' in html and 'data-testid="rating">2' in html
    complaint_ = Complaint.objects.get()
    assert _url("complaint_detail", merchant, complaint_id=complaint_.pk) in html
    other = _login(MerchantFactory())
    assert other.get(_url("feedback_list", merchant)).status_code == 404
