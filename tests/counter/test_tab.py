"""Kasbon: the open tabs, payments through the ledger (once per form), the limit and who set it,
the reminder; roles and another merchant."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from langganan.core.errors import InvalidInput, NotFound
from langganan.loyalty.checkout import ERR_TAB_LIMIT, BasketLine, CheckoutRequest, checkout
from langganan.loyalty.ledger import InsufficientBalance, ledger_discrepancies
from langganan.loyalty.models import CheckoutRecord, Journal, TabPayment
from langganan.loyalty.tab import (
    tab_balance,
    tab_charge,
    tab_limit_history,
    tab_set_limit,
)
from langganan.loyalty.tab_payments import tab_payment_record, tabs_open
from langganan.privacy.models import AuditEvent
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def outlet(merchant):
    return OutletFactory(merchant=merchant, name="Warung Pusat")


@pytest.fixture
def rina(merchant):
    customer = CustomerFactory(
        merchant=merchant, full_name="Rina Wati", gender="F", phone="+6281234567890"
    )
    tab_set_limit(customer=customer, limit=Decimal("100000"), at=NOW, actor="test")
    tab_charge(customer=customer, amount=Decimal("30000"), key="c1", at=NOW - timedelta(days=40))
    tab_charge(customer=customer, amount=Decimal("15500"), key="c2", at=NOW - timedelta(days=3))
    return customer


@pytest.fixture
def budi(merchant):
    customer = CustomerFactory(merchant=merchant, full_name="Budi Santoso", gender="M")
    tab_set_limit(customer=customer, limit=Decimal("50000"), at=NOW, actor="test")
    tab_charge(customer=customer, amount=Decimal("50000"), key="b1", at=NOW - timedelta(days=2))
    return customer


def _client(merchant, role: str, outlet=None) -> tuple[Client, object]:
    client = Client()
    user = UserFactory(first_name=role.title(), last_name="Satu")
    MembershipFactory(merchant=merchant, user=user, role=role, outlet=outlet)
    client.force_login(user)
    return client, user


def _pay(merchant, customer, amount, key="k", **extra):
    return tab_payment_record(
        merchant=merchant,
        customer_id=customer.pk,
        amount=Decimal(amount),
        method=extra.pop("method", "cash"),
        idempotency_key=key,
        **extra,
    )


# -- the services -----------------------------------------------------------------------------


def test_the_open_tabs_show_balance_limit_age_and_last_payment(merchant, rina, budi):
    _pay(merchant, rina, "10000", key="p1", at=NOW - timedelta(days=1))

    tabs = tabs_open(merchant=merchant, at=NOW)

    assert [t.customer for t in tabs] == [rina, budi]  # the oldest unpaid charge first
    first = tabs[0]
    assert (first.owed, first.limit) == (Decimal("35500.00"), Decimal("100000.00"))
    assert first.oldest_age_days == 40  # 10,000 of the 30,000 charge paid: still 40 days old
    assert first.last_payment_amount == Decimal("10000.00")
    assert tabs[1].last_payment_at is None and tabs[1].oldest_age_days == 2


def test_a_settled_tab_leaves_the_list(merchant, rina, budi):
    _pay(merchant, budi, "50000")

    assert [t.customer for t in tabs_open(merchant=merchant)] == [rina]


def test_a_partial_then_a_full_payment_go_through_the_ledger(merchant, rina, outlet):
    user = UserFactory()

    first = _pay(merchant, rina, "20000", key="p1", outlet=outlet, recorded_by=user)
    assert first["tab"] == {"owed": "25500.00", "limit": "100000.00", "settled": False}
    second = _pay(merchant, rina, "25500", key="p2", method="qris")

    assert second["tab"]["settled"] is True
    assert tab_balance(customer=rina) == (Decimal("0"), Decimal("100000.00"))
    assert ledger_discrepancies(merchant) == []
    payments = TabPayment.objects.filter(customer=rina).order_by("pk")
    assert [(p.amount, p.method) for p in payments] == [
        (Decimal("20000.00"), "cash"),
        (Decimal("25500.00"), "qris"),
    ]
    assert (payments[0].outlet, payments[0].recorded_by) == (outlet, user)
    assert all(p.journal.kind == "tab_pay" for p in payments)


def test_the_same_key_records_the_payment_once(merchant, rina):
    first = _pay(merchant, rina, "20000", key="same")
    again = _pay(merchant, rina, "20000", key="same")

    assert first["replayed"] is False and again["replayed"] is True
    assert {**again, "replayed": False} == first
    assert TabPayment.objects.filter(customer=rina).count() == 1
    assert tab_balance(customer=rina)[0] == Decimal("25500.00")


def test_the_same_key_for_another_payment_is_refused(merchant, rina):
    _pay(merchant, rina, "20000", key="same")

    with pytest.raises(Exception) as refused:
        _pay(merchant, rina, "5000", key="same")

    assert getattr(refused.value, "code", "") == "idempotency_key_reused"


def test_a_payment_over_the_debt_is_refused_and_records_nothing(merchant, rina):
    with pytest.raises(InvalidInput, match="more than the customer owes"):
        _pay(merchant, rina, "50000", key="too-much")

    assert not TabPayment.objects.exists()
    assert not CheckoutRecord.objects.filter(key="too-much").exists()
    _pay(merchant, rina, "45500", key="too-much")  # the key is free for the corrected request


def test_another_merchants_customer_is_not_found(merchant, rina):
    other = MerchantFactory()

    with pytest.raises(NotFound):
        tab_payment_record(
            merchant=other,
            customer_id=rina.pk,
            amount=Decimal("1000"),
            method="cash",
            idempotency_key="x",
        )


def test_a_charge_over_the_limit_is_refused_with_the_reason(merchant, rina, outlet):
    with pytest.raises(InsufficientBalance) as refused:
        tab_charge(customer=rina, amount=Decimal("60000"), key="c3", at=NOW)

    assert "owes Rp 45.500 of a Rp 100.000 limit" in str(refused.value)
    assert "at most Rp 54.500 more" in str(refused.value)
    with pytest.raises(InvalidInput) as at_checkout:
        checkout(
            merchant=merchant,
            outlet=outlet,
            idempotency_key="sale-1",
            request=CheckoutRequest(
                lines=[BasketLine(quantity=Decimal("1"), unit_price=Decimal("60000"))],
                customer_id=rina.pk,
                tab_charge=Decimal("60000"),
            ),
        )
    assert str(at_checkout.value) == ERR_TAB_LIMIT.format(available=Decimal("54500.00"))
    assert tab_balance(customer=rina)[0] == Decimal("45500.00")


def test_every_limit_change_is_recorded_with_who_made_it(merchant, rina):
    owner = UserFactory(username="bu-sri")

    tab_set_limit(customer=rina, limit=Decimal("150000"), at=NOW, by=owner)
    tab_set_limit(customer=rina, limit=Decimal("150000"), at=NOW, by=owner)  # no change

    events = AuditEvent.objects.filter(action="tab.limit", object_id=str(rina.pk))
    assert events.count() == 2  # the fixture's (actor "test") and this one
    latest = events.order_by("-id").first()
    assert (latest.user, latest.actor) == (owner, "bu-sri")
    assert latest.detail["previous"] == "100000.00" and latest.detail["limit"] == "150000.00"
    history = tab_limit_history(customer=rina)
    assert [(h.previous, h.limit, h.by) for h in history] == [
        (Decimal("100000.00"), Decimal("150000.00"), "bu-sri"),
        (Decimal("0.00"), Decimal("100000.00"), "test"),
    ]


# -- the pages ----------------------------------------------------------------------------------


def _urls(merchant, customer) -> dict[str, str]:
    kwargs = {"slug": merchant.slug, "pk": customer.pk}
    return {
        "list": reverse("counter:tab_list", kwargs={"slug": merchant.slug}),
        "detail": reverse("counter:tab_detail", kwargs=kwargs),
        "pay": reverse("counter:tab_pay", kwargs=kwargs),
        "limit": reverse("counter:tab_limit", kwargs=kwargs),
    }


def test_the_list_shows_each_open_tab_in_indonesian(merchant, rina, budi):
    client, _user = _client(merchant, "owner")

    html = client.get(_urls(merchant, rina)["list"]).content.decode()

    assert "Kasbon" in html
    assert "Rina Wati" in html and "Budi Santoso" in html
    assert "Rp 45.500" in html and "Rp 100.000" in html
    assert "40 hari lalu" in html
    assert "belum ada" in html  # no payment yet


def test_the_owner_gets_a_polite_whatsapp_reminder_with_the_amount(merchant, rina):
    client, _user = _client(merchant, "owner")

    html = client.get(_urls(merchant, rina)["list"]).content.decode()

    start = html.index("https://wa.me/6281234567890?text=")
    link = unquote(html[start : html.index('"', start)].replace("&amp;", "&"))
    assert "Halo Kak Rina" in link
    assert "kasbon Kak sebesar Rp 45.500" in link
    assert "Terima kasih" in link


def test_a_cashier_sees_the_tabs_without_phone_numbers_or_reminders(merchant, rina):
    client, _user = _client(merchant, "cashier")

    html = client.get(_urls(merchant, rina)["list"]).content.decode()

    assert "Rina Wati" in html and "0812-****-890" in html
    assert "wa.me" not in html and "3456" not in html


def test_a_cashier_takes_a_payment_and_a_double_submit_records_once(merchant, rina, outlet):
    client, cashier = _client(merchant, "cashier", outlet=outlet)
    urls = _urls(merchant, rina)
    form = {"amount": "20.000", "method": "qris", "key": "abc123", "note": ""}

    first = client.post(urls["pay"], form)
    second = client.post(urls["pay"], form)

    assert first.status_code == second.status_code == 302
    payment = TabPayment.objects.get(customer=rina)
    assert (payment.amount, payment.method) == (Decimal("20000.00"), "qris")
    assert (payment.recorded_by, payment.outlet) == (cashier, outlet)
    assert Journal.objects.filter(kind="tab_pay").count() == 1
    html = client.get(urls["detail"]).content.decode()
    assert "sudah dicatat" in html  # the second submit's message
    assert "Rp 25.500" in html


def test_a_payment_over_the_debt_is_refused_on_the_page(merchant, rina, outlet):
    client, _user = _client(merchant, "cashier", outlet=outlet)

    response = client.post(
        _urls(merchant, rina)["pay"], {"amount": "90000", "method": "cash", "key": "k9"}
    )

    assert response.status_code == 400
    assert "lebih dari utang pelanggan (Rp 45.500)" in response.content.decode()
    assert not TabPayment.objects.exists()


def test_a_cashier_cannot_change_a_limit(merchant, rina):
    client, _user = _client(merchant, "cashier")

    response = client.post(_urls(merchant, rina)["limit"], {"limit": "500000"})

    assert response.status_code == 403
    assert tab_balance(customer=rina)[1] == Decimal("100000.00")
    html = client.get(_urls(merchant, rina)["detail"]).content.decode()
    assert "Hanya pemilik atau manajer" in html


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_an_owner_or_manager_raises_a_limit_and_it_shows_who(merchant, rina, role):
    client, user = _client(merchant, role)

    response = client.post(_urls(merchant, rina)["limit"], {"limit": "Rp 200.000"})

    assert response.status_code == 302
    assert tab_balance(customer=rina)[1] == Decimal("200000.00")
    event = AuditEvent.objects.filter(action="tab.limit").order_by("-id").first()
    assert event.user == user
    html = client.get(_urls(merchant, rina)["detail"]).content.decode()
    assert "Riwayat limit" in html and user.get_username() in html
    assert "Rp 200.000" in html


def test_a_limit_below_the_debt_is_refused_with_the_reason(merchant, rina):
    client, _user = _client(merchant, "owner")

    response = client.post(_urls(merchant, rina)["limit"], {"limit": "10000"})

    assert response.status_code == 400
    assert "sudah berutang Rp 45.500" in response.content.decode()


def test_another_merchants_customer_is_a_404(merchant, rina):
    other = MerchantFactory()
    stranger = CustomerFactory(merchant=other)
    client, _user = _client(merchant, "owner")

    urls = _urls(merchant, stranger)
    assert client.get(urls["detail"]).status_code == 404
    payment = {"amount": "1", "method": "cash", "key": "z"}
    assert client.post(urls["pay"], payment).status_code == 404
    assert client.post(urls["limit"], {"limit": "1"}).status_code == 404
    outsider, _ = _client(other, "owner")
    assert outsider.get(_urls(merchant, rina)["list"]).status_code == 404


def test_opening_a_tab_is_recorded_as_a_customer_view(merchant, rina):
    client, user = _client(merchant, "cashier")

    client.get(_urls(merchant, rina)["detail"])

    event = AuditEvent.objects.get(action="customer.view")
    assert (event.user, event.object_id, event.detail) == (user, str(rina.pk), {"page": "tab"})


def test_an_owner_with_two_outlets_chooses_where_the_money_came_in(merchant, rina, outlet):
    second = OutletFactory(merchant=merchant, name="Cabang Dua")
    client, _user = _client(merchant, "owner")
    urls = _urls(merchant, rina)
    assert "Pilih outlet" in client.get(urls["detail"]).content.decode()

    missing = client.post(urls["pay"], {"amount": "1000", "method": "cash", "key": "o1"})
    chosen = client.post(
        urls["pay"], {"amount": "1000", "method": "cash", "key": "o2", "outlet": second.pk}
    )

    assert missing.status_code == 400 and chosen.status_code == 302
    assert TabPayment.objects.get().outlet == second


def test_the_customer_page_leads_to_the_tab(merchant, rina):
    from tests.loyalty.factories import ProgramFactory

    ProgramFactory(merchant=merchant)
    client, _user = _client(merchant, "owner")
    fresh = CustomerFactory(merchant=merchant)

    html = client.get(reverse("customers:customer_detail", args=[merchant.slug, rina.pk])).content
    new = client.get(reverse("customers:customer_detail", args=[merchant.slug, fresh.pk])).content

    assert _urls(merchant, rina)["detail"] in html.decode()
    assert "Terima pembayaran atau ubah limit" in html.decode()
    assert "Buka kasbon" in new.decode()
    opened = client.post(_urls(merchant, fresh)["limit"], {"limit": "50000"})
    assert opened.status_code == 302
    assert tab_balance(customer=fresh) == (Decimal("0"), Decimal("50000.00"))
