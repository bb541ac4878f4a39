from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.factories import LineItemFactory, OutletFactory, TransactionFactory


def refused(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_a_sale_cannot_have_a_negative_total(merchant):
    refused(TransactionFactory, merchant=merchant, total=Decimal("-1"))


def test_a_refund_must_reference_its_original_sale(merchant):
    refused(TransactionFactory, merchant=merchant, kind="refund", total=Decimal("-1000"))


def test_a_refund_references_the_sale_and_carries_a_negative_total(merchant):
    sale = TransactionFactory(merchant=merchant, total=Decimal("25000"))
    refund = TransactionFactory(
        merchant=merchant,
        outlet=sale.outlet,
        kind="refund",
        refund_of=sale,
        total=Decimal("-10000"),
    )
    assert list(sale.refunds.all()) == [refund]


def test_a_sale_cannot_point_at_another_sale_as_refund(merchant):
    sale = TransactionFactory(merchant=merchant)
    refused(TransactionFactory, merchant=merchant, refund_of=sale, total=Decimal("1"))


def test_unknown_payment_methods_and_channels_are_refused_by_the_database(merchant):
    refused(TransactionFactory, merchant=merchant, payment_method="barter")
    refused(TransactionFactory, merchant=merchant, channel="drone")


def test_the_pos_id_is_unique_per_merchant_only(merchant):
    TransactionFactory(merchant=merchant, external_id="S-1")
    refused(TransactionFactory, merchant=merchant, external_id="S-1")
    TransactionFactory(external_id="S-1")  # another merchant


def test_line_items_need_a_positive_quantity_and_a_discount_within_the_amount(merchant):
    sale = TransactionFactory(merchant=merchant)
    refused(LineItemFactory, transaction=sale, quantity=Decimal("0"))
    refused(LineItemFactory, transaction=sale, unit_price=Decimal("-1"))
    refused(
        LineItemFactory,
        transaction=sale,
        quantity=1,
        unit_price=Decimal("10"),
        discount=Decimal("11"),
    )
    item = LineItemFactory(
        transaction=sale,
        quantity=Decimal("2"),
        unit_price=Decimal("22000"),
        discount=Decimal("4000"),
    )
    assert item.amount == Decimal("40000.00")


def test_outlet_codes_are_unique_per_merchant(merchant):
    OutletFactory(merchant=merchant, code="JKT-01")
    refused(OutletFactory, merchant=merchant, code="JKT-01")
