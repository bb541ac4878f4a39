from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from langganan.core.errors import Conflict, InvalidInput
from langganan.customers.models import Customer
from langganan.customers.selectors import (
    consent_current,
    consent_history,
    customer_get,
    customer_search,
)
from langganan.customers.services import (
    ERR_BIRTH_DATE_FUTURE,
    ERR_CHANNEL_INVALID,
    ERR_EMAIL_INVALID,
    ERR_PHONE_TAKEN,
    consent_record,
    customer_create,
)
from tests.factories import CustomerFactory, MerchantFactory


def test_customer_create_normalises_the_phone_and_gives_a_member_code(merchant):
    customer = customer_create(merchant=merchant, full_name="Rina", phone="0812-3456-7890")
    assert customer.phone == "+6281234567890"
    assert customer.member_code.startswith("LG") and len(customer.member_code) == 10


def test_the_same_phone_twice_at_one_merchant_is_refused(merchant):
    customer_create(merchant=merchant, phone="081234567890")
    with pytest.raises(Conflict, match=ERR_PHONE_TAKEN):
        customer_create(merchant=merchant, phone="+62 812-3456-7890")


def test_two_merchants_may_have_a_customer_with_the_same_phone(db):
    customer_create(merchant=MerchantFactory(), phone="081234567890")
    customer_create(merchant=MerchantFactory(), phone="081234567890")
    assert Customer.objects.filter(phone="+6281234567890").count() == 2


def test_the_database_refuses_a_duplicate_phone_even_past_the_service(merchant):
    CustomerFactory(merchant=merchant, phone="+6281234567890")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(merchant=merchant, phone="+6281234567890")


def test_the_database_refuses_a_phone_not_in_e164(merchant):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(merchant=merchant, phone="081234567890")


def test_the_database_refuses_a_duplicate_member_code(merchant):
    CustomerFactory(merchant=merchant, member_code="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(merchant=merchant, member_code="X1")


def test_many_customers_without_a_phone_are_allowed(merchant):
    CustomerFactory(merchant=merchant, phone=None)
    CustomerFactory(merchant=merchant, phone=None)
    assert Customer.objects.filter(phone__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "bukan email"}, ERR_EMAIL_INVALID),
        ({"phone": "123"}, "not a valid phone number"),
        ({"birth_date": timezone.localdate() + timedelta(days=1)}, ERR_BIRTH_DATE_FUTURE),
        ({"gender": "X"}, "gender"),
        ({"greeting": "Tuan"}, "greeting"),
    ],
)
def test_invalid_profile_fields_are_refused_with_a_clear_message(merchant, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        customer_create(merchant=merchant, full_name="X", **kwargs)
    assert Customer.objects.count() == 0


def test_consent_is_recorded_per_channel_with_time_source_and_wording(merchant):
    customer = customer_create(
        merchant=merchant,
        full_name="Rina",
        consents={"whatsapp": True, "email": False},
        consent_source="counter",
        consent_wording_version="2026-01",
    )
    state = consent_current(customer=customer)
    assert state["whatsapp"].granted is True
    assert state["whatsapp"].source == "counter"
    assert state["whatsapp"].wording_version == "2026-01"
    assert state["email"].granted is False
    assert state["sms"] is None


def test_a_withdrawal_after_a_grant_is_the_current_state_and_history_keeps_both(merchant):
    customer = customer_create(merchant=merchant, consents={"sms": True}, consent_source="web")
    consent_record(customer=customer, channel="sms", granted=False, source="reply STOP")
    assert consent_current(customer=customer)["sms"].granted is False
    assert [e.granted for e in consent_history(customer=customer)] == [False, True]


def test_consent_for_an_unknown_channel_is_refused(merchant):
    customer = customer_create(merchant=merchant)
    with pytest.raises(InvalidInput, match=ERR_CHANNEL_INVALID):
        consent_record(customer=customer, channel="pigeon", granted=True, source="x")


def test_search_finds_by_name_phone_in_any_form_and_member_code(merchant):
    rina = CustomerFactory(
        merchant=merchant,
        full_name="Rina Wulandari",
        phone="+6281234567890",
        member_code="LGABC123",
    )
    CustomerFactory(merchant=merchant, full_name="Budi", phone="+6281399998888")
    for query in ("rina", "0812-3456-7890", "6281234567890", "3456 7890", "lgabc123"):
        assert list(customer_search(merchant=merchant, query=query)) == [rina], query


def test_search_and_get_never_reach_another_merchant(merchant):
    other = CustomerFactory(full_name="Rina Lain")
    assert list(customer_search(merchant=merchant, query="Rina")) == []
    with pytest.raises(Exception, match="customer not found"):
        customer_get(merchant=merchant, customer_id=other.pk)
