"""How a sale is paid: kasbon as its own method, a payment split across methods (one
``TransactionPayment`` row per method, adding up to the sale's total), the basket's note kept
with the sale — the checkout service's rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from langganan.core.errors import InvalidInput
from langganan.loyalty import checkout as co
from langganan.loyalty.checkout import BasketLine, CheckoutRequest, Payment
from langganan.loyalty.ledger import customer_account, ledger_discrepancies
from langganan.loyalty.models import Account
from langganan.sales.models import PaymentMethod, Transaction, TransactionPayment
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db
JKT = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=JKT)


@pytest.fixture
def shop():
    outlet = OutletFactory()
    merchant = outlet.merchant
    ProgramFactory(merchant=merchant, max_redeem_share=Decimal("0.5"))
    coffee = ProductFactory(merchant=merchant, name="Kopi susu", price=Decimal("25000"))
    member = MemberFactory(customer=CustomerFactory(merchant=merchant))
    tab = customer_account(customer=member.customer, kind="tab")
    Account.objects.filter(pk=tab.pk).update(floor=Decimal("-30000"))  # a Rp 30.000 limit
    return {"merchant": merchant, "outlet": outlet, "coffee": coffee, "customer": member.customer}


def _checkout(shop, key="k1", **kwargs):
    request = CheckoutRequest(
        **{
            "lines": [BasketLine(product_id=shop["coffee"].pk, quantity=Decimal("2"))],
            "customer_id": shop["customer"].pk,
            "occurred_at": AT,
            **kwargs,
        }
    )
    return co.checkout(
        merchant=shop["merchant"], outlet=shop["outlet"], idempotency_key=key, request=request
    )


def _rows(result) -> dict[str, Decimal]:
    return dict(
        TransactionPayment.objects.filter(transaction_id=result["transaction"]["id"]).values_list(
            "method", "amount"
        )
    )


def test_a_sale_paid_with_one_method_has_one_payment_row_of_its_total(shop):
    result = _checkout(shop, payment_method="qris")
    assert _rows(result) == {"qris": Decimal("50000")}
    assert Transaction.objects.get().payment_method == "qris"
    assert result["paid"]["payments"] == [{"method": "qris", "amount": "50000.00"}]


def test_a_split_sale_records_one_row_per_method_summing_to_the_total(shop):
    result = _checkout(
        shop,
        payments=[
            Payment(PaymentMethod.QRIS, Decimal("30000")),
            Payment(PaymentMethod.CASH, Decimal("20000")),
        ],
    )
    sale = Transaction.objects.get()
    assert _rows(result) == {"qris": Decimal("30000"), "cash": Decimal("20000")}
    assert sale.payments.aggregate(s=Sum("amount"))["s"] == sale.total == Decimal("50000")
    assert sale.payment_method == "qris"  # the largest part is the main method
    assert result["paid"]["method"] == "qris"


def test_payments_that_do_not_add_up_are_refused_and_nothing_is_recorded(shop):
    with pytest.raises(InvalidInput) as refused:
        _checkout(
            shop,
            payments=[
                Payment(PaymentMethod.QRIS, Decimal("30000")),
                Payment(PaymentMethod.CASH, Decimal("15000")),
            ],
        )
    assert refused.value.message == co.ERR_PAYMENTS_SUM.format(paid="45000.00", due="50000.00")
    assert refused.value.field == "payments"
    assert refused.value.problem_extra == {
        "detail_id": "Jumlah pembayaran Rp 45.000, padahal yang harus dibayar Rp 50.000."
    }
    assert not Transaction.objects.exists() and not TransactionPayment.objects.exists()


def test_paying_more_than_is_due_is_refused_too(shop):
    with pytest.raises(InvalidInput) as refused:
        _checkout(shop, payments=[Payment(PaymentMethod.CASH, Decimal("50000.01"))])
    assert refused.value.message == co.ERR_PAYMENTS_SUM.format(paid="50000.01", due="50000.00")


def test_a_method_given_twice_or_a_zero_part_is_refused(shop):
    with pytest.raises(InvalidInput) as twice:
        _checkout(
            shop,
            payments=[Payment("cash", Decimal("25000")), Payment("cash", Decimal("25000"))],
        )
    assert twice.value.message == co.ERR_PAYMENT_TWICE.format(method="cash")
    assert twice.value.field == "payments[1].method"
    with pytest.raises(InvalidInput) as zero:
        _checkout(shop, payments=[Payment("cash", Decimal("50000")), Payment("qris", Decimal(0))])
    assert zero.value.message == co.ERR_PAYMENT_AMOUNT.format(n=2)
    with pytest.raises(InvalidInput) as unknown:
        _checkout(shop, payments=[Payment("barter", Decimal("50000"))])
    assert unknown.value.field == "payments[0].method"
    assert not Transaction.objects.exists()


def test_payments_cover_what_store_credit_and_the_tab_field_leave(shop):
    result = _checkout(
        shop,
        tab_charge=Decimal("10000"),
        payments=[Payment("qris", Decimal("25000")), Payment("cash", Decimal("15000"))],
    )
    assert _rows(result) == {
        "qris": Decimal("25000"),
        "cash": Decimal("15000"),
        "tab": Decimal("10000"),
    }
    assert result["balances"]["tab_owed"] == "10000.00"


def test_kasbon_is_its_own_method_and_charges_the_tab(shop):
    result = _checkout(
        shop, lines=[BasketLine(product_id=shop["coffee"].pk, quantity=1)], payment_method="tab"
    )
    sale = Transaction.objects.get()
    assert sale.payment_method == "tab"
    assert _rows(result) == {"tab": Decimal("25000")}
    assert result["paid"]["tab"] == "25000.00" and result["paid"]["payment_method"] == "0.00"
    assert result["balances"]["tab_owed"] == "25000.00"
    assert ledger_discrepancies(merchant=shop["merchant"]) == []


def test_a_tab_part_of_a_split_is_charged_within_the_limit(shop):
    result = _checkout(
        shop, payments=[Payment("tab", Decimal("20000")), Payment("cash", Decimal("30000"))]
    )
    assert _rows(result) == {"tab": Decimal("20000"), "cash": Decimal("30000")}
    assert result["balances"]["tab_owed"] == "20000.00"
    assert Transaction.objects.get().payment_method == "cash"
    with pytest.raises(InvalidInput) as over:
        _checkout(
            shop,
            key="k2",
            payments=[Payment("tab", Decimal("10000.01")), Payment("cash", Decimal("39999.99"))],
        )
    assert over.value.message == co.ERR_TAB_LIMIT.format(available=Decimal("10000.00"))
    assert Transaction.objects.count() == 1


def test_kasbon_needs_a_customer(shop):
    with pytest.raises(InvalidInput) as refused:
        _checkout(shop, customer_id=None, payment_method="tab")
    assert refused.value.message == co.ERR_CREDIT_NEEDS_CUSTOMER


def test_a_sale_with_nothing_left_to_pay_has_no_rows_and_keeps_its_method(shop):
    result = _checkout(
        shop, lines=[BasketLine(product_id=shop["coffee"].pk, quantity=1, discount=25000)]
    )
    assert _rows(result) == {}
    assert Transaction.objects.get().payment_method == "cash"


def test_the_note_is_kept_with_the_sale(shop):
    result = _checkout(shop, note="  tanpa gula, bungkus ")
    assert Transaction.objects.get().note == "tanpa gula, bungkus"
    assert result["transaction"]["note"] == "tanpa gula, bungkus"


def test_a_note_longer_than_the_limit_is_refused(shop):
    with pytest.raises(InvalidInput) as refused:
        _checkout(shop, note="x" * (co.NOTE_MAX_LENGTH + 1))
    assert refused.value.message == co.ERR_NOTE_TOO_LONG.format(max=co.NOTE_MAX_LENGTH)
    assert not Transaction.objects.exists()


def test_a_replay_returns_the_same_payments_and_records_nothing_more(shop):
    payments = [Payment("qris", Decimal("20000")), Payment("cash", Decimal("30000"))]
    first = _checkout(shop, payments=payments, note="pedas")
    again = _checkout(shop, payments=payments, note="pedas")
    assert again["replayed"] is True
    assert again["paid"]["payments"] == first["paid"]["payments"]
    assert TransactionPayment.objects.count() == 2 and Transaction.objects.count() == 1


def test_a_request_without_payments_or_note_keeps_its_earlier_fingerprint(shop):
    """Keys stored before split payments existed still replay."""
    request = CheckoutRequest(lines=[BasketLine(quantity=Decimal("1"), unit_price=Decimal(5))])
    assert (
        request.fingerprint()
        == CheckoutRequest(lines=request.lines, payments=(), note="").fingerprint()
    )
    assert request.fingerprint() != CheckoutRequest(lines=request.lines, note="x").fingerprint()


def test_the_database_refuses_a_payment_row_of_zero_or_an_unknown_method(shop):
    result = _checkout(shop)
    sale = Transaction.objects.get(pk=result["transaction"]["id"])
    for method, amount in (("qris", Decimal("0")), ("barter", Decimal("1"))):
        with pytest.raises(IntegrityError), transaction.atomic():
            TransactionPayment.objects.create(transaction=sale, method=method, amount=amount)


def test_a_quote_shows_the_split_without_recording_it(shop):
    quote = co.checkout_quote(
        merchant=shop["merchant"],
        request=CheckoutRequest(
            lines=[BasketLine(product_id=shop["coffee"].pk, quantity=Decimal("2"))],
            payments=[Payment("qris", Decimal("25000")), Payment("cash", Decimal("25000"))],
        ),
    )
    assert quote["paid"]["payments"] == [
        {"method": "qris", "amount": "25000.00"},
        {"method": "cash", "amount": "25000.00"},
    ]
    assert quote["paid"]["method"] == "qris"  # a tie: the first given
    assert not TransactionPayment.objects.exists()


def test_an_import_reads_kasbon_as_the_tab_and_writes_one_payment_row_per_sale(tmp_path):
    from langganan.sales.importing import transactions_import

    outlet = OutletFactory(code="JKT-01")
    path = tmp_path / "sales.csv"
    path.write_text(
        "Tanggal,No HP,Total,Metode Pembayaran\n"
        "31/03/2025,0812-3456-7890,25000,Kasbon\n"
        "31/03/2025,0813 1111 2222,18000,QRIS\n"
        "01/04/2025,0813 1111 2222,0,Tunai\n",
        encoding="utf-8",
    )
    report = transactions_import(merchant=outlet.merchant, path=path)
    assert report.committed and report.transactions_created == 3
    kasbon = Transaction.objects.get(total=Decimal("25000"))
    assert kasbon.payment_method == "tab"
    assert list(kasbon.payments.values_list("method", "amount")) == [("tab", Decimal("25000"))]
    assert list(TransactionPayment.objects.order_by("amount").values_list("method", "amount")) == [
        ("qris", Decimal("18000")),
        ("tab", Decimal("25000")),
    ]  # a free sale has no row


def test_the_migration_gives_earlier_sales_their_rows_split_by_their_ledger(shop):
    """Migration 0004 on sales recorded before payment rows existed (tab sales as cash)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from langganan.loyalty.checkout import RefundRequest

    backfill = importlib.import_module("langganan.sales.migrations.0004_payments_backfill")
    one = [BasketLine(product_id=shop["coffee"].pk, quantity=Decimal("1"))]
    plain = _checkout(shop, key="plain", payment_method="qris")
    part = _checkout(shop, key="part", tab_charge=Decimal("5000"))
    whole = _checkout(shop, key="whole", lines=one, payment_method="tab")
    co.refund(
        merchant=shop["merchant"],
        outlet=shop["outlet"],
        idempotency_key="r",
        request=RefundRequest(sale_id=plain["transaction"]["id"], amount=Decimal("5000")),
    )
    TransactionPayment.objects.all().delete()  # as before the migration: no rows,
    Transaction.objects.update(payment_method="cash")  # and a tab sale recorded as cash
    Transaction.objects.filter(pk=plain["transaction"]["id"]).update(payment_method="qris")

    backfill.backfill(apps, SimpleNamespace(connection=connection))

    def rows(result):
        sale = Transaction.objects.get(pk=result["transaction"]["id"])
        return sale.payment_method, _rows(result)

    assert rows(plain) == ("qris", {"qris": Decimal("50000")})
    assert rows(part) == ("cash", {"cash": Decimal("45000"), "tab": Decimal("5000")})
    assert rows(whole) == ("tab", {"tab": Decimal("25000")})
    assert TransactionPayment.objects.count() == 4  # the refund has none
    for sale in Transaction.objects.filter(kind="sale"):
        assert sale.payments.aggregate(s=Sum("amount"))["s"] == sale.total


def test_the_admin_shows_a_sales_payments_read_only(shop, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    result = _checkout(
        shop, payments=[Payment("qris", Decimal("20000")), Payment("cash", Decimal("30000"))]
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(
        reverse("admin:sales_transaction_change", args=[result["transaction"]["id"]])
    ).content.decode()
    assert "QRIS" in page and "20000" in page and "30000" in page
    assert 'name="payments-0-amount"' not in page  # no editing: the rows must sum to the total
