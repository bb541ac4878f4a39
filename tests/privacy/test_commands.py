"""langganan customers export-data / erase: the customer by phone in any form, member code or
id; each run logged in the request log and the audit log."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from langganan.cli import cli
from langganan.privacy.models import AuditEvent, PrivacyRequest
from tests.factories import CustomerFactory
from tests.privacy.conftest import NAME, rich_customer


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "form", ["0812-7777-3141", "+62 812 7777 3141", "6281277773141", "code", "id"]
)
def test_export_data_finds_the_customer_by_any_reference(merchant, form):
    customer, _ = rich_customer(merchant)
    reference = {"code": customer.member_code, "id": str(customer.pk)}.get(form, form)
    result = run("customers", "export-data", "--merchant", merchant.slug, reference)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["profile"]["full_name"] == NAME and data["customer_id"] == customer.pk
    assert PrivacyRequest.objects.get(merchant=merchant, kind="access").status == "done"
    event = AuditEvent.objects.get(merchant=merchant, action="customer.export")
    assert event.actor == "CLI" and event.user is None


def test_export_data_writes_an_xlsx_file(merchant, tmp_path):
    customer, _ = rich_customer(merchant)
    path = tmp_path / "kartika.xlsx"
    result = run(
        "customers",
        "export-data",
        "--merchant",
        merchant.slug,
        customer.member_code,
        "--format",
        "xlsx",
        "--output",
        str(path),
        "--reference",
        "AKSES-9",
    )
    assert result.exit_code == 0, result.output
    assert "profile" in load_workbook(path).sheetnames
    assert PrivacyRequest.objects.filter(merchant=merchant, reference="AKSES-9").exists()


def test_erase_by_phone_with_a_reference(merchant):
    customer, _ = rich_customer(merchant)
    result = run(
        "customers",
        "erase",
        "--merchant",
        merchant.slug,
        "081277773141",
        "--reference",
        "PDP-2026-007",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    customer.refresh_from_db()
    assert customer.full_name == "" and customer.member_code == f"DIHAPUS-{customer.pk}"
    assert PrivacyRequest.objects.get(reference="PDP-2026-007").status == "done"
    assert AuditEvent.objects.filter(merchant=merchant, action="customer.erase").exists()


def test_erase_refuses_a_customer_with_a_tab_and_says_why(merchant):
    from decimal import Decimal

    from django.utils import timezone

    from langganan.loyalty.tab import tab_charge

    customer, _ = rich_customer(merchant)
    tab_charge(customer=customer, amount=Decimal("5000"), key="t:x", at=timezone.now())
    result = run(
        "customers",
        "erase",
        "--merchant",
        merchant.slug,
        str(customer.pk),
        "--reference",
        "R-1",
        "--yes",
    )
    assert result.exit_code == 1
    assert "kasbon" in result.output
    customer.refresh_from_db()
    assert customer.full_name == NAME


def test_an_unknown_or_other_merchants_customer_is_an_error(merchant):
    other = CustomerFactory()  # another merchant's
    for reference in (other.member_code, str(other.pk), "0899-0000-0000"):
        result = run(
            "customers",
            "erase",
            "--merchant",
            merchant.slug,
            reference,
            "--reference",
            "R",
            "--yes",
        )
        assert result.exit_code == 1 and "no single customer" in result.output
