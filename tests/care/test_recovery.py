"""Service recovery: voucher, points and credit through the loyalty ledger, counted as cost,
given once per press; the reply is a logged service message, not a campaign message."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote

import pytest

from langganan.campaigns.models import Message
from langganan.care.models import ComplaintRecovery, EventKind, RecoveryKind
from langganan.care.selectors import complaint_cost
from langganan.care.services import (
    ERR_NO_CUSTOMER,
    ERR_NOT_MEMBER,
    complaint_recover,
    complaint_reply,
)
from langganan.core.errors import InvalidInput
from langganan.customers.models import ConsentEvent
from langganan.loyalty.credit import credit_balance
from langganan.loyalty.models import Journal, Voucher
from langganan.loyalty.points import points_balance
from tests.care.helpers import T0, complaint
from tests.factories import CustomerFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rina(merchant):
    ProgramFactory(merchant=merchant, point_value=Decimal("100"))
    customer = CustomerFactory(merchant=merchant, full_name="Rina Wati", phone="+6281234567890")
    MemberFactory(customer=customer)
    return customer


def test_an_apology_voucher_is_hers_alone_and_its_value_is_the_cost(merchant, rina):
    c = complaint(merchant, customer=rina)
    recovery = complaint_recover(
        complaint=c, kind=RecoveryKind.VOUCHER, key="k1", by=None, amount=Decimal("25000"), at=T0
    )
    voucher = Voucher.objects.get(pk=recovery.voucher_id)
    assert voucher.customer == rina and voucher.value == Decimal("25000")
    assert voucher.max_uses == 1 and voucher.valid_until > T0
    assert complaint_cost(c) == Decimal("25000.00")
    assert c.events.filter(kind=EventKind.RECOVERY).count() == 1


def test_bonus_points_reach_the_ledger_and_cost_their_value(merchant, rina):
    c = complaint(merchant, customer=rina)
    complaint_recover(complaint=c, kind=RecoveryKind.POINTS, key="p1", by=None, points=50, at=T0)
    assert points_balance(customer=rina, at=T0) == 50
    assert Journal.objects.filter(key=f"complaint:{c.pk}:p1", kind="bonus").count() == 1
    assert complaint_cost(c) == Decimal("5000.00")  # 50 points x Rp 100


def test_store_credit_reaches_the_ledger_and_adds_to_the_cost(merchant, rina):
    c = complaint(merchant, customer=rina)
    complaint_recover(
        complaint=c, kind=RecoveryKind.CREDIT, key="c1", by=None, amount=Decimal("15000"), at=T0
    )
    complaint_recover(
        complaint=c, kind=RecoveryKind.VOUCHER, key="v1", by=None, amount=Decimal("10000"), at=T0
    )
    assert credit_balance(customer=rina) == Decimal("15000.00")
    assert complaint_cost(c) == Decimal("25000.00")


@pytest.mark.parametrize("kind", [RecoveryKind.VOUCHER, RecoveryKind.POINTS, RecoveryKind.CREDIT])
def test_pressing_twice_gives_once(merchant, rina, kind):
    c = complaint(merchant, customer=rina)
    args = {"points": 20} if kind == RecoveryKind.POINTS else {"amount": Decimal("20000")}
    first = complaint_recover(complaint=c, kind=kind, key="same", by=None, at=T0, **args)
    again = complaint_recover(complaint=c, kind=kind, key="same", by=None, at=T0, **args)
    assert first.pk == again.pk
    assert ComplaintRecovery.objects.count() == 1
    assert Voucher.objects.filter(batch=f"complaint-{c.pk}").count() == (
        1 if kind == RecoveryKind.VOUCHER else 0
    )
    assert Journal.objects.filter(key__startswith=f"complaint:{c.pk}:").count() == (
        0 if kind == RecoveryKind.VOUCHER else 1
    )


def test_an_anonymous_complaint_cannot_be_given_a_voucher(merchant):
    c = complaint(merchant, contact_name="Tamu")
    with pytest.raises(InvalidInput) as info:
        complaint_recover(complaint=c, kind="voucher", key="x", by=None, amount=Decimal("1000"))
    assert info.value.message == ERR_NO_CUSTOMER
    assert not Voucher.objects.exists()


def test_points_need_a_member(merchant):
    ProgramFactory(merchant=merchant)
    c = complaint(merchant, customer=CustomerFactory(merchant=merchant))
    with pytest.raises(InvalidInput) as info:
        complaint_recover(complaint=c, kind="points", key="x", by=None, points=10)
    assert info.value.message == ERR_NOT_MEMBER
    assert not Journal.objects.exists() and complaint_cost(c) == 0


def test_a_reply_needs_no_marketing_consent_and_is_logged_not_queued(merchant, rina):
    assert not ConsentEvent.objects.filter(customer=rina).exists()
    c = complaint(merchant, customer=rina)
    link = complaint_reply(complaint=c, text="Mohon maaf, Kak Rina", by=None, at=T0)
    assert link.startswith("https://wa.me/6281234567890?text=")
    assert unquote(link).endswith("Mohon maaf, Kak Rina")
    assert c.events.filter(kind=EventKind.REPLY, text="Mohon maaf, Kak Rina").count() == 1
    assert not Message.objects.exists()  # not a campaign message: no cap, no consent check
    c.refresh_from_db()
    assert c.first_response_at == T0
