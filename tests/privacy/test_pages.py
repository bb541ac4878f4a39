"""The privacy pages: who may open them, another merchant's customer, what they show."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from langganan.privacy.models import REQUEST_DEADLINE, AuditEvent, Correction, PrivacyRequest
from langganan.privacy.services import privacy_request_log
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory
from tests.privacy.conftest import rich_customer


def login(client, merchant, role):
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return membership.user


def customer_urls(merchant, customer):
    return {
        "edit": ("get", reverse("privacy:customer_edit", args=[merchant.slug, customer.pk])),
        "erase": ("get", reverse("privacy:customer_erase", args=[merchant.slug, customer.pk])),
        "json": (
            "post",
            reverse("privacy:customer_export", args=[merchant.slug, customer.pk, "json"]),
        ),
        "xlsx": (
            "post",
            reverse("privacy:customer_export", args=[merchant.slug, customer.pk, "xlsx"]),
        ),
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", {"home": 200, "audit": 200, "edit": 200, "erase": 200, "json": 200, "xlsx": 200}),
        (
            "manager",
            {"home": 200, "audit": 403, "edit": 200, "erase": 403, "json": 403, "xlsx": 403},
        ),
        (
            "cashier",
            {"home": 403, "audit": 403, "edit": 403, "erase": 403, "json": 403, "xlsx": 403},
        ),
    ],
)
def test_each_role_opens_only_its_pages(client, merchant, role, expected):
    customer = CustomerFactory(merchant=merchant)
    login(client, merchant, role)
    urls = {
        "home": ("get", reverse("privacy:home", args=[merchant.slug])),
        "audit": ("get", reverse("privacy:audit", args=[merchant.slug])),
        **customer_urls(merchant, customer),
    }
    got = {name: getattr(client, method)(url).status_code for name, (method, url) in urls.items()}
    assert got == expected


def test_another_merchants_customer_is_a_404_on_every_page(client, merchant):
    login(client, merchant, "owner")
    other = CustomerFactory(merchant=MerchantFactory())
    for name, (method, url) in customer_urls(merchant, other).items():
        assert getattr(client, method)(url).status_code == 404, name
    # and another merchant's pages are a 404 too
    for name in ("privacy:home", "privacy:audit"):
        assert client.get(reverse(name, args=[other.merchant.slug])).status_code == 404
    entry = privacy_request_log(
        merchant=other.merchant, kind="access", reference="X-1", actor="test"
    )
    url = reverse("privacy:request_close", args=[merchant.slug, entry.pk])
    assert client.post(url, {"status": "done"}).status_code == 404
    entry.refresh_from_db()
    assert entry.status == "open"


def test_not_logged_in_goes_to_the_login_page(client, merchant):
    response = client.get(reverse("privacy:home", args=[merchant.slug]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_request_is_due_72_hours_after_it_was_received_and_overdue_shows(client, merchant):
    login(client, merchant, "owner")
    customer = CustomerFactory(merchant=merchant)
    received = timezone.now() - timedelta(hours=80)
    response = client.post(
        reverse("privacy:home", args=[merchant.slug]),
        {
            "kind": "erasure",
            "customer": customer.member_code,
            "requester": "Pelanggan lewat WhatsApp",
            "reference": "PDP-1",
            "received_at": timezone.localtime(received).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    entry = PrivacyRequest.objects.get(reference="PDP-1")
    assert entry.customer == customer
    assert entry.deadline - entry.received_at == REQUEST_DEADLINE == timedelta(hours=72)
    assert entry.is_overdue()
    page = client.get(reverse("privacy:home", args=[merchant.slug])).content.decode()
    assert 'class="overdue"' in page and "melewati tenggat" in page
    assert AuditEvent.objects.filter(merchant=merchant, action="privacy.request").exists()
    client.post(
        reverse("privacy:request_close", args=[merchant.slug, entry.pk]), {"status": "done"}
    )
    entry.refresh_from_db()
    assert entry.status == "done" and not entry.is_overdue()


def test_a_correction_is_saved_with_its_history(client, merchant):
    user = login(client, merchant, "manager")
    customer = CustomerFactory(merchant=merchant, full_name="Budi Santoso", phone="+6281211112222")
    url = reverse("privacy:customer_edit", args=[merchant.slug, customer.pk])
    form = {
        "full_name": "Budi Santosa",
        "greeting": "Pak",
        "gender": "M",
        "birth_date": "1980-01-02",
        "phone": "0812-1111-3333",
        "email": "budi@example.id",
        "address": "",
        "city": "",
        "province": "",
        "notes": "",
        "reference": "",
    }
    assert client.post(url, form).status_code == 302
    customer.refresh_from_db()
    assert customer.full_name == "Budi Santosa" and customer.phone == "+6281211113333"
    rows = {c.field: (c.old_value, c.new_value, c.user) for c in Correction.objects.all()}
    assert rows["full_name"] == ("Budi Santoso", "Budi Santosa", user)
    assert rows["phone"] == ("+6281211112222", "+6281211113333", user)
    assert set(rows) == {"full_name", "greeting", "gender", "birth_date", "phone", "email"}
    page = client.get(url).content.decode()
    assert "Budi Santoso" in page and "0812-1111-2222" in page and "2 Jan 1980" in page
    assert "Riwayat perubahan" in page
    # a bad phone is refused on the form, nothing changes
    response = client.post(url, form | {"phone": "12"})
    assert response.status_code == 400
    assert "bukan nomor HP yang valid" in response.content.decode()
    assert Correction.objects.count() == 6


def test_the_owner_downloads_the_data_in_one_click(client, merchant):
    login(client, merchant, "owner")
    customer, _ = rich_customer(merchant)
    response = client.post(
        reverse("privacy:customer_export", args=[merchant.slug, customer.pk, "json"])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.json"')
    assert json.loads(response.content)["customer_id"] == customer.pk
    detail = client.get(reverse("customers:customer_detail", args=[merchant.slug, customer.pk]))
    page = detail.content.decode()
    assert "Data pribadi" in page and "Unduh data" in page and "Hapus data pribadi" in page


def test_the_owner_erases_with_a_reference_and_a_confirmation(client, merchant):
    login(client, merchant, "owner")
    customer, _ = rich_customer(merchant)
    url = reverse("privacy:customer_erase", args=[merchant.slug, customer.pk])
    assert client.post(url, {"reference": "PDP-2026-007"}).status_code == 400  # not confirmed
    response = client.post(url, {"reference": "PDP-2026-007", "confirm": "on"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.full_name == ""
    page = client.get(url).content.decode()
    assert "PDP-2026-007" in page


def test_the_erase_page_says_why_when_the_tab_owes(client, merchant):
    from decimal import Decimal

    from langganan.loyalty.tab import tab_charge

    login(client, merchant, "owner")
    customer, _ = rich_customer(merchant)
    tab_charge(customer=customer, amount=Decimal("12500"), key="t:y", at=timezone.now())
    url = reverse("privacy:customer_erase", args=[merchant.slug, customer.pk])
    page = client.get(url).content.decode()
    assert "kasbon" in page and "12.500" in page and 'name="confirm"' not in page
    response = client.post(url, {"reference": "R", "confirm": "on"})
    assert response.status_code == 409 and "masih" in response.content.decode()


def test_the_audit_page_filters_by_action_user_customer_and_date(client, merchant):
    owner = login(client, merchant, "owner")
    customer = CustomerFactory(merchant=merchant, phone="+6281255556666")
    other = CustomerFactory(merchant=merchant)
    client.get(reverse("customers:customer_detail", args=[merchant.slug, customer.pk]))
    client.get(reverse("customers:customer_detail", args=[merchant.slug, other.pk]))
    client.get(reverse("customers:customer_list", args=[merchant.slug]), {"q": "081255556666"})
    url = reverse("privacy:audit", args=[merchant.slug])
    page = client.get(url, {"customer": "0812-5555-6666"})
    events = list(page.context["events"])
    assert {e.action for e in events} == {"customer.view", "customer.search"}
    assert all(e.object_id in ("", str(customer.pk)) for e in events)
    assert len(client.get(url, {"action": "customer.search"}).context["events"]) == 1
    assert len(client.get(url, {"user": owner.pk}).context["events"]) == 3
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert len(client.get(url, {"date_from": tomorrow}).context["events"]) == 0
    text = client.get(url).content.decode()
    assert "Halaman pelanggan dilihat" in text and ">customer.view<" not in text


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("owner", {"Data pribadi", "Unduh data", "Perbaiki data", "Hapus data pribadi"}),
        ("manager", {"Data pribadi", "Perbaiki data"}),
        ("cashier", set()),
    ],
)
def test_the_customer_page_box_shows_what_the_role_may_do(client, merchant, role, sees):
    customer = CustomerFactory(merchant=merchant)
    user = login(client, merchant, role)
    if role == "cashier":  # a cashier sees only the customer they found at the counter
        client.get(
            reverse("customers:customer_lookup", args=[merchant.slug]), {"q": customer.member_code}
        )
    response = client.get(reverse("customers:customer_detail", args=[merchant.slug, customer.pk]))
    assert response.status_code == 200, user
    page = response.content.decode()
    for text in ("Unduh data", "Perbaiki data", "Hapus data pribadi"):
        assert (text in page) == (text in sees), text
    assert ('id="data-pribadi"' in page) == bool(sees)


def test_the_admin_shows_the_privacy_records_read_only(client, merchant):
    from tests.factories import UserFactory

    customer, _ = rich_customer(merchant)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name in ("auditevent", "privacyrequest", "correction"):
        assert client.get(reverse(f"admin:privacy_{name}_changelist")).status_code == 200
    event = AuditEvent.objects.first()
    page = client.get(reverse("admin:privacy_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_the_pages_are_indonesian_without_raw_keys(client, merchant):
    import re

    login(client, merchant, "owner")
    customer, _ = rich_customer(merchant)
    from langganan.privacy.services import customer_correct

    customer_correct(customer=customer, changes={"city": "Bogor"}, actor="test")
    english = re.compile(
        r"\b(Requests|Deadline|Log a request|Why we process|Audit log|Change history|"
        r"Erase personal data|Download data|Customer page viewed|Received|Who asked|"
        r"results|fields|reference|customer\.view|privacy\.request)\b"
    )
    for url in (
        reverse("privacy:home", args=[merchant.slug]),
        reverse("privacy:audit", args=[merchant.slug]),
        reverse("privacy:customer_edit", args=[merchant.slug, customer.pk]),
        reverse("privacy:customer_erase", args=[merchant.slug, customer.pk]),
        reverse("customers:customer_detail", args=[merchant.slug, customer.pk]),
    ):
        html = client.get(url).content.decode()
        text = re.sub(
            r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
        )
        assert not english.findall(text), (url, english.findall(text))
