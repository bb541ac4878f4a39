"""The audit log: every audited action writes one event; events cannot be changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from langganan.privacy import audit
from langganan.privacy.models import AuditEvent, AuditPrune
from tests.factories import CustomerFactory, MerchantFactory


def actions(merchant) -> list[str]:
    return list(AuditEvent.objects.filter(merchant=merchant).values_list("action", flat=True))


def test_viewing_a_customer_page_is_audited_with_user_and_ip(client, merchant, owner):
    customer = CustomerFactory(merchant=merchant)
    url = reverse("customers:customer_detail", args=[merchant.slug, customer.pk])
    assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200
    event = AuditEvent.objects.get(merchant=merchant, action="customer.view")
    assert (event.user, event.actor, event.ip) == (owner, owner.username, "10.1.2.3")
    assert (event.object_type, event.object_id) == ("customers.customer", str(customer.pk))


def test_a_search_is_audited_as_a_digest_never_the_text(client, merchant, owner):
    customer = CustomerFactory(merchant=merchant, phone="+6281299990000")
    url = reverse("customers:customer_list", args=[merchant.slug])
    client.get(url)  # no search: nothing to audit
    assert actions(merchant) == []
    client.get(url, {"q": "0812-9999-0000"})
    event = AuditEvent.objects.get(merchant=merchant, action="customer.search")
    assert "0812" not in str(event.detail) and "6281299990000" not in str(event.detail)
    assert event.detail["query_digest"] == audit.query_digest(customer.phone)
    assert event.detail["results"] == 1


def test_a_message_preview_with_a_real_customer_is_audited(client, merchant, owner):
    from langganan.campaigns.models import Campaign, MessageTemplate

    customer = CustomerFactory(merchant=merchant)
    template = MessageTemplate.objects.create(merchant=merchant, name="Halo", body_id="Halo {name}")
    campaign = Campaign.objects.create(
        merchant=merchant, name="Coba", kind="broadcast", channel="whatsapp", template=template
    )
    url = reverse("campaigns_web:campaign_preview", args=[merchant.slug, campaign.pk])
    client.get(url)
    assert "message.preview" not in actions(merchant)
    client.get(url, {"customer": customer.pk})
    event = AuditEvent.objects.get(merchant=merchant, action="message.preview")
    assert event.object_id == str(customer.pk) and event.detail["campaign"] == campaign.pk


def test_consent_and_tab_limit_changes_are_audited(merchant):
    from click.testing import CliRunner

    from langganan.cli import cli
    from langganan.customers.services import consent_record

    customer = CustomerFactory(merchant=merchant)
    consent_record(customer=customer, channel="sms", granted=False, source="optout-link")
    event = AuditEvent.objects.get(merchant=merchant, action="consent.change")
    assert event.actor == "optout-link" and event.detail == {"channel": "sms", "granted": False}
    result = CliRunner().invoke(
        cli,
        [
            "loyalty",
            "set-limit",
            "--merchant",
            merchant.slug,
            "--customer",
            customer.member_code,
            "150000",
        ],
    )
    assert result.exit_code == 0, result.output
    event = AuditEvent.objects.get(merchant=merchant, action="tab.limit")
    assert event.actor == "CLI" and Decimal(event.detail["limit"]) == Decimal("150000")


def test_a_cli_table_export_is_audited(merchant, tmp_path):
    from click.testing import CliRunner

    from langganan.cli import cli

    CustomerFactory(merchant=merchant)
    result = CliRunner().invoke(
        cli, ["export", "customers", str(tmp_path / "c.csv"), "--merchant", merchant.slug]
    )
    assert result.exit_code == 0, result.output
    event = AuditEvent.objects.get(merchant=merchant, action="export.table")
    assert event.detail == {"table": "customers", "rows": 1} and event.actor == "CLI"


def test_corrections_and_erasures_are_audited(merchant):
    from langganan.privacy.services import customer_correct, customer_erase

    customer = CustomerFactory(merchant=merchant)
    customer_correct(customer=customer, changes={"city": "Bogor"}, actor="test")
    customer_erase(customer=customer, reference="R-9", actor="test")
    assert {"customer.correct", "customer.erase"} <= set(actions(merchant))
    event = AuditEvent.objects.get(merchant=merchant, action="customer.correct")
    assert event.detail["fields"] == ["city"]


def test_audit_events_cannot_be_updated_or_deleted(merchant):
    event = audit.record(None, merchant, "export.table", table="customers")
    event.actor = "someone else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(actor="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # below the ORM, the database refuses the change too
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk)._raw_delete  # noqa: B018 (exists)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("UPDATE privacy_auditevent SET actor = 'x' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.actor == "CLI"


def test_unknown_actions_are_refused(merchant):
    with pytest.raises(ValueError):
        audit.record(None, merchant, "customer.looked")


def test_pruning_removes_only_events_older_than_the_retention_and_is_recorded(merchant, settings):
    from langganan.core.jobs.registry import job_get

    now = timezone.now()
    old = audit.record(None, merchant, "export.table")
    AuditEvent.objects.filter(pk=old.pk)  # aged below, with the raw SQL the ORM refuses
    from django.db import connection

    with connection.cursor() as cursor:  # a row written long ago: insert it that way
        cursor.execute(
            "INSERT INTO privacy_auditevent (merchant_id, actor, action, object_type, "
            "object_id, detail, at) VALUES (%s, 'CLI', 'export.table', '', '', '{}', %s)",
            [merchant.pk, now - timedelta(days=40)],
        )
    other = MerchantFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_auditevent (merchant_id, actor, action, object_type, "
            "object_id, detail, at) VALUES (%s, 'CLI', 'export.table', '', '', '{}', %s)",
            [other.pk, now - timedelta(days=40)],
        )
    settings.LANGGANAN_AUDIT_RETENTION_DAYS = 30
    job = job_get("privacy.audit_prune")
    result = job.func(merchant=merchant, now=now)
    assert result.counts == {"deleted": 1}
    assert AuditEvent.objects.filter(merchant=merchant).count() == 1
    assert AuditEvent.objects.filter(merchant=other).count() == 1
    assert AuditPrune.objects.get(merchant=merchant).deleted == 1
    assert job.func(merchant=merchant, now=now).counts == {"deleted": 0}


def test_the_retention_defaults_to_730_days(settings, monkeypatch):
    monkeypatch.delenv("LANGGANAN_AUDIT_RETENTION_DAYS", raising=False)
    if hasattr(settings, "LANGGANAN_AUDIT_RETENTION_DAYS"):
        del settings.LANGGANAN_AUDIT_RETENTION_DAYS
    assert audit.retention_days() == 730
    monkeypatch.setenv("LANGGANAN_AUDIT_RETENTION_DAYS", "365")
    assert audit.retention_days() == 365
