"""The counter's payment: "Bagi pembayaran" (a second method and its amount, the rest to the
first), kasbon recorded as the tab, the basket's note kept with the sale and shown on the
receipt, and the day's summary per method from the payment rows. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from langganan.counter.day import day_summary
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, Payment, checkout
from langganan.sales.models import Transaction, TransactionPayment
from tests.counter.test_screen import (  # noqa: F401 (fixtures)
    _client,
    _fresh_menu_ranking,
    _pay,
    _serve,
    _text,
    _url,
    shop,
)
from tests.factories import OutletFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rows(sale: Transaction) -> dict[str, Decimal]:
    return dict(sale.payments.values_list("method", "amount"))


def test_a_split_sale_pays_the_second_amount_with_the_second_method_and_the_rest_with_the_first(
    shop,  # noqa: F811 (the fixture)
):
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(
        client,
        shop,
        key,
        [(shop["coffee"], 2)],
        method="qris",
        split_method="cash",
        split_amount="15.000",
        note="es batu sedikit",
    )

    assert response.status_code == 302
    sale = Transaction.objects.get()
    assert sale.total == Decimal("40000")
    assert _rows(sale) == {"qris": Decimal("25000"), "cash": Decimal("15000")}
    assert sale.payment_method == "qris" and sale.note == "es batu sedikit"
    receipt = _text(client.get(response["Location"]).content.decode())
    assert "QRIS Rp 25.000" in receipt and "Tunai Rp 15.000" in receipt
    assert "Catatan: es batu sedikit" in receipt


def test_a_double_tap_on_a_split_basket_records_it_once(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    fields = {"method": "qris", "split_method": "cash", "split_amount": "20000"}
    first = _pay(client, shop, key, [(shop["coffee"], 2)], **fields)
    second = _pay(client, shop, key, [(shop["coffee"], 2)], **fields)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Transaction.objects.count() == 1 and TransactionPayment.objects.count() == 2


def test_a_second_part_as_large_as_the_bill_is_refused_in_words(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    response = _pay(
        client, shop, key, [(shop["coffee"], 1)], split_method="qris", split_amount="20000"
    )

    assert response.status_code == 422
    assert "Pembayaran kedua (Rp 20.000) harus kurang dari Rp 20.000 yang harus dibayar" in _text(
        response.content.decode()
    )
    assert not Transaction.objects.exists()


def test_the_same_method_twice_is_no_split(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    _pay(client, shop, key, [(shop["coffee"], 1)], split_method="cash", split_amount="5000")
    assert _rows(Transaction.objects.get()) == {"cash": Decimal("20000")}


def test_kasbon_at_the_counter_records_the_tab_as_the_method(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    response = _pay(client, shop, key, [(shop["coffee"], 2)], method="tab")
    assert response.status_code == 302
    sale = Transaction.objects.get()
    assert sale.payment_method == "tab" and _rows(sale) == {"tab": Decimal("40000")}


def test_part_on_the_tab_as_the_second_method_stays_within_the_limit(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)

    over = _pay(client, shop, key, [(shop["rice"], 2)], split_method="tab", split_amount="50001")
    assert over.status_code == 422
    assert "Melebihi batas kasbon" in _text(over.content.decode())
    assert not Transaction.objects.exists()

    ok = _pay(client, shop, key, [(shop["rice"], 2)], split_method="tab", split_amount="50000")
    assert ok.status_code == 302
    assert _rows(Transaction.objects.get()) == {"cash": Decimal("10000"), "tab": Decimal("50000")}
    receipt = _text(client.get(ok["Location"]).content.decode())
    assert "Kasbon Rp 50.000" in receipt and "Tunai Rp 10.000" in receipt


def test_counting_the_total_shows_the_split_before_paying(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    response = client.post(
        _url(shop),
        {
            "key": key,
            "customer": shop["customer"].pk,
            f"q{shop['coffee'].pk}": "2",
            "method": "e_wallet",
            "split_method": "qris",
            "split_amount": "10000",
            "recount": "1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dompet digital Rp 30.000 QRIS Rp 10.000" in _text(html)
    assert 'name="split_method"' in html and "Bagi pembayaran" in html
    assert not Transaction.objects.exists()


def test_the_note_is_kept_with_the_sale_and_sent_with_the_receipt(shop):  # noqa: F811 (the fixture)
    client = _client(shop["merchant"])
    key = _serve(client, shop)
    response = _pay(client, shop, key, [(shop["tea"], 1)], note="tanpa   gula")
    sale = Transaction.objects.get()
    assert sale.note == "tanpa gula"
    whatsapp = client.get(_url(shop, "counter:receipt_whatsapp", key=key))
    assert "tanpa%20gula" in whatsapp["Location"]
    assert "Catatan: tanpa gula" in _text(client.get(response["Location"]).content.decode())


def test_the_days_money_per_method_comes_from_the_payment_rows(merchant):
    jakarta = ZoneInfo("Asia/Jakarta")
    day = date(2026, 11, 20)
    outlet = OutletFactory(merchant=merchant)
    ani = UserFactory(username="ani-split")

    def sale(key, hour, **extra):
        return checkout(
            merchant=merchant,
            outlet=outlet,
            idempotency_key=key,
            recorded_by=ani,
            request=CheckoutRequest(
                lines=[BasketLine(quantity=Decimal("1"), unit_price=Decimal("50000"), name="Nasi")],
                occurred_at=datetime(2026, 11, 20, hour, tzinfo=jakarta),
                **extra,
            ),
        )

    sale("a", 9, payments=[Payment("qris", Decimal("20000")), Payment("cash", Decimal("30000"))])
    sale("b", 10, payment_method="qris")
    summary = day_summary(merchant=merchant, day=day)
    assert dict(summary.total.methods) == {"qris": Decimal("70000"), "cash": Decimal("30000")}
    assert summary.total.received_total == summary.total.sales_total == Decimal("100000")
    assert summary.total.split_count == 1
    assert timezone.is_aware(summary.start)


def test_the_note_and_the_tab_show_on_the_customers_page(shop):  # noqa: F811 (the fixture)
    cashier = _client(shop["merchant"])
    key = _serve(cashier, shop)
    _pay(cashier, shop, key, [(shop["tea"], 1)], method="tab", note="bungkus dua")
    owner = _client(shop["merchant"], role="owner")
    page = owner.get(
        _url(shop, "customers:customer_detail", pk=shop["customer"].pk)
    ).content.decode()
    assert "Catatan: bungkus dua" in _text(page)
    assert re.search(r'<td data-label="[^"]+">Kasbon</td>', page)  # the payment column
