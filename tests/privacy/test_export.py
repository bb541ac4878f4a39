"""Access: one customer's data as JSON and xlsx, each section present, logged and audited."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from langganan.privacy.export import personal_data_json, personal_data_xlsx
from langganan.privacy.models import AuditEvent, PrivacyRequest
from langganan.privacy.services import personal_data_export
from tests.privacy.conftest import E164, EMAIL, NAME, rich_customer

SECTIONS = (
    "profile",
    "consents",
    "processing_purposes",
    "transactions",
    "loyalty",
    "insights",
    "vouchers",
    "messages",
    "complaints",
    "corrections",
    "requests",
)


def test_the_export_holds_every_section_of_the_customer(merchant, owner):
    customer, referrer = rich_customer(merchant)
    data = personal_data_export(customer=customer, user=owner)
    assert set(SECTIONS) <= set(data)
    assert data["profile"]["full_name"] == NAME
    assert data["profile"]["phone"] == E164 and data["profile"]["email"] == EMAIL
    assert data["profile"]["birth_date"] == "1990-05-17"
    assert data["consents"]["current"] == {"email": True, "whatsapp": True, "sms": None}
    assert len(data["consents"]["history"]) == 2
    assert {p["code"] for p in data["processing_purposes"]} >= {"sales", "marketing"}
    assert [t["total"] for t in data["transactions"]] == ["75000.00", "42000.00"]
    assert data["transactions"][0]["lines"][0]["product"] == "Es Kopi Susu"
    assert data["loyalty"]["member"]["referral_code"]
    assert {a["kind"] for a in data["loyalty"]["accounts"]} >= {"points", "tab"}
    assert any(e["kind"] == "bonus" for e in data["loyalty"]["ledger"])
    assert [v["code"] for v in data["vouchers"]] == ["KZWHEMAT"]
    assert len(data["messages"]) == 2 and "Kartika" in data["messages"][0]["body"]
    assert data["complaints"] == []
    assert data["insights"] is None  # not analysed yet
    assert data["corrections"][0]["field"] == "address"
    # nothing of the other customer
    assert "Sari Pengajak" not in json.dumps(data["profile"])
    assert json.loads(personal_data_json(data))["customer_id"] == customer.pk


def test_the_xlsx_has_a_sheet_per_section(merchant, owner):
    customer, _ = rich_customer(merchant)
    data = personal_data_export(customer=customer, fmt="xlsx", user=owner)
    book = load_workbook(io.BytesIO(personal_data_xlsx(data)))
    assert {
        "about",
        "profile",
        "consents",
        "consent_history",
        "transactions",
        "transaction_lines",
        "loyalty_ledger",
        "vouchers",
        "messages",
        "complaints",
    } <= set(book.sheetnames)
    profile = {row[0]: row[1] for row in book["profile"].iter_rows(min_row=2, values_only=True)}
    assert profile["full_name"] == NAME


def test_a_formula_like_value_is_neutralised_in_the_xlsx(merchant, owner):
    customer, _ = rich_customer(merchant)
    customer.notes = '=HYPERLINK("http://x")'
    customer.save()
    data = personal_data_export(customer=customer, fmt="xlsx", user=owner)
    book = load_workbook(io.BytesIO(personal_data_xlsx(data)))
    profile = {row[0]: row[1] for row in book["profile"].iter_rows(min_row=2, values_only=True)}
    assert not str(profile["notes"]).startswith("=")


def test_an_export_is_logged_as_a_done_access_request_and_audited(merchant, owner):
    customer, _ = rich_customer(merchant)
    personal_data_export(customer=customer, reference="AKSES-1", user=owner)
    entry = PrivacyRequest.objects.get(merchant=merchant, reference="AKSES-1")
    assert entry.kind == "access" and entry.status == "done" and entry.handled_by == owner
    event = AuditEvent.objects.get(merchant=merchant, action="customer.export")
    assert event.user == owner and event.object_id == str(customer.pk)
    assert event.detail["reference"] == "AKSES-1"


def test_the_export_holds_what_the_analysis_inferred(merchant, owner):
    from tests.web.test_customer_detail import insight_for

    customer, _ = rich_customer(merchant)
    insight_for(customer, usual_order=[["Es Kopi Susu", 3, 1]])
    data = personal_data_export(customer=customer, user=owner)
    assert data["insights"]["segment"] == "champions"
    assert data["insights"]["lifecycle"] == "loyal"
    book = load_workbook(io.BytesIO(personal_data_xlsx(data)))
    rows = {r[0]: r[1] for r in book["insights"].iter_rows(min_row=2, values_only=True)}
    assert rows["segment"] == "champions"
