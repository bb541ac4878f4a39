"""Fixtures for the privacy tests: a customer with data in every table that can hold it."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    MembershipFactory,
    OutletFactory,
    TransactionFactory,
)

triggers = importlib.import_module("langganan.privacy.migrations.0002_append_only_triggers")

NAME = "Kartika Zulaikha Wibisono"
PHONE_INPUT = "0812-7777-3141"
E164 = "+6281277773141"
EMAIL = "kartika.zw@example.id"
BIRTH = date(1990, 5, 17)
ADDRESS = "Jl. Melati Rahasia 17, Cibubur"
NOTES = "suka gula aren tanpa es, alergi kacang"
CODE = "LGKARTIKA1"
#: every form in which her personal data may be stored
NEEDLES = [
    NAME,
    "Kartika",
    "Wibisono",
    E164,
    E164.lstrip("+"),
    "081277773141",
    PHONE_INPUT,
    EMAIL,
    "1990-05-17",
    ADDRESS,
    "Melati Rahasia",
    NOTES,
    CODE,
]


@pytest.fixture(autouse=True)
def _journal_redaction_trigger(db):
    """The loyalty tests' clean-up puts the strict journal trigger back on SQLite; make sure
    this app's (memo redaction allowed) is the one in place, as after ``migrate``."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in triggers.SQLITE_FORWARD:
                if "privacy_auditevent" not in statement:
                    cursor.execute(statement)


@pytest.fixture
def owner(client, merchant):
    membership = MembershipFactory(merchant=merchant, role="owner")
    client.force_login(membership.user)
    return membership.user


def rich_customer(merchant):
    """A customer of ``merchant`` with a profile, consents, sales with lines, points, a settled
    tab, a referral, a voucher, messages, a webhook delivery, a correction, a request and an
    admin history entry — and a second customer (the referrer) who must be left alone."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from langganan.campaigns.models import Message
    from langganan.customers.models import Customer
    from langganan.customers.services import customer_create
    from langganan.loyalty.members import member_enrol
    from langganan.loyalty.points import points_earn
    from langganan.loyalty.referrals import referral_register, referral_reward_if_due
    from langganan.loyalty.tab import tab_charge, tab_pay, tab_set_limit
    from langganan.privacy.services import customer_correct, privacy_request_log
    from langganan.webhooks.models import WebhookEndpoint
    from tests.loyalty.factories import ProgramFactory, VoucherFactory

    now = timezone.now()
    ProgramFactory(
        merchant=merchant,
        referral_referrer_points=100,
        referral_referred_points=50,
        referral_min_spend=Decimal("10000"),
    )
    WebhookEndpoint.objects.create(
        merchant=merchant, url="https://pos.example.id/hook", secret="s" * 32, events=[]
    )
    outlet = OutletFactory(merchant=merchant)
    referrer = CustomerFactory(merchant=merchant, full_name="Sari Pengajak")
    referrer_member = member_enrol(customer=referrer, at=now - timedelta(days=30))
    customer = customer_create(
        merchant=merchant,
        full_name=NAME,
        phone=PHONE_INPUT,
        email=EMAIL,
        birth_date=BIRTH,
        address="Jl. Mawar 1",
        city="Depok",
        notes=NOTES,
        member_code=CODE,
        external_ref="POS-KZW-77",
        consents={"whatsapp": True, "email": True},
        consent_source="counter",
        joined_at=now - timedelta(days=20),
    )
    member = member_enrol(customer=customer, at=now - timedelta(days=20))
    referral_register(member=member, code=referrer_member.referral_code)
    for days, total in ((15, "75000"), (8, "42000")):
        sale = TransactionFactory(
            merchant=merchant,
            outlet=outlet,
            customer=customer,
            total=Decimal(total),
            occurred_at=now - timedelta(days=days),
            # the basket's note, typed at the counter: free text that can name her
            note=f"antar ke {ADDRESS}" if days == 15 else "",
        )
        LineItemFactory(transaction=sale, product_name="Es Kopi Susu", unit_price=Decimal(total))
    referral_reward_if_due(member=member, transaction_obj=sale, at=now - timedelta(days=8))
    points_earn(
        customer=customer,
        points=120,
        key="manual:kzw",
        at=now - timedelta(days=7),
        kind="bonus",
        memo=f"bonus ulang tahun untuk {NAME}",
    )
    tab_set_limit(customer=customer, limit=Decimal("100000"), at=now - timedelta(days=6))
    tab_charge(
        customer=customer, amount=Decimal("30000"), key="tab:kzw:1", at=now - timedelta(days=6)
    )
    tab_pay(customer=customer, amount=Decimal("30000"), key="tab:kzw:2", at=now - timedelta(days=5))
    VoucherFactory(merchant=merchant, customer=customer, code="KZWHEMAT")
    Message.objects.create(
        merchant=merchant,
        customer=customer,
        channel="whatsapp",
        to=E164,
        body=f"Halo Kak Kartika, kopi favoritmu menunggu! ({EMAIL})",
        template_params=[NAME, "Es Kopi Susu"],
        status="sent",
    )
    Message.objects.create(
        merchant=merchant,
        customer=customer,
        channel="email",
        to=EMAIL,
        subject="Untuk Kartika",
        body="Halo Kartika",
        status="queued",
    )
    privacy_request_log(
        merchant=merchant,
        kind="erasure",
        reference="PDP-2026-007",
        customer=customer,
        requester=f"{NAME} lewat WhatsApp {PHONE_INPUT}",
        actor="test",
    )
    customer_correct(customer=customer, changes={"address": ADDRESS}, actor="test")
    LogEntry.objects.create(
        user=MembershipFactory(merchant=merchant).user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["Notes"]}}}}] {NOTES}',
    )
    customer.refresh_from_db()
    return customer, referrer
