"""The payment methods each customer has paid with, stored on her insight as one bit per method.

The customer list's (and an audience's) ``payment_methods`` filter means "paid with one of
these methods at least once": a payment row (``sales.TransactionPayment``) of one of her
transactions has that method. Asked of the transactions at request time, that is an ``EXISTS``
over every payment of the merchant (at 100,000 customers and 1,000,000 transactions the page's
count alone took 360 ms), so the methods are kept on ``CustomerInsight.paid_with`` instead:

* the analysis (:func:`~langganan.insights.services.insights_refresh`) writes every customer's
  methods, read from the payments in one grouped query (:func:`paid_with_by_customer`);
* each sale's live update (:mod:`langganan.insights.live`: the checkout, the POS API, an import)
  reads her methods again, so a method is filterable as soon as the sale commits;
* the migration that added the column filled it from the payments.

A refund has no payment rows, so it never changes the methods. Before a merchant's first
analysis (no insight anywhere) the filter reads the payments themselves; after it, a customer
without a stored insight (a sale whose live update was switched off, or an import of more
customers than a live update takes) matches no method until the next analysis.

The bits follow :data:`METHODS`, which only grows at its end (a stored bit keeps its meaning).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, F, OuterRef
from django.db.models.lookups import GreaterThan

from langganan.sales.models import TransactionPayment

#: the methods in bit order (bit i: ``1 << i``); append new methods, never reorder
METHODS: tuple[str, ...] = (
    "cash",
    "qris",
    "debit_card",
    "credit_card",
    "e_wallet",
    "bank_transfer",
    "store_credit",
    "tab",
)
BITS: dict[str, int] = {method: 1 << i for i, method in enumerate(METHODS)}


def mask_of(methods: Iterable[str]) -> int:
    """The bits of ``methods`` (an unknown method has none)."""
    mask = 0
    for method in methods:
        mask |= BITS.get(method, 0)
    return mask


def methods_of(mask: int) -> list[str]:
    """The methods whose bits are set in ``mask``, in :data:`METHODS` order."""
    return [method for method, bit in BITS.items() if mask & bit]


def paid_with_q(methods: Iterable[str], prefix: str = "insight__") -> GreaterThan:
    """A filter: customers (``prefix`` ``insight__``) or insights (``""``) who paid with one of
    ``methods`` at least once."""
    return GreaterThan(F(f"{prefix}paid_with").bitand(mask_of(methods)), 0)


def paid_with_exists(methods: Iterable[str]) -> Exists:
    """The filter read from the payments themselves (an ``EXISTS`` per customer): the
    definition the stored bits follow, used for a merchant never analysed (no insight
    anywhere yet)."""
    paid = TransactionPayment.objects.filter(
        transaction__customer_id=OuterRef("pk"), method__in=list(methods)
    )
    return Exists(paid)


def paid_with_filter(*, merchant_id: int, methods: Iterable[str]):
    """The customer list's filter: the stored bits once the merchant has been analysed, the
    payments themselves before."""
    from langganan.insights.models import InsightRun

    methods = list(methods)
    analysed = InsightRun.objects.filter(
        merchant_id=merchant_id, status=InsightRun.Status.DONE
    ).exists()
    return paid_with_q(methods) if analysed else paid_with_exists(methods)


def paid_with_by_customer(*, merchant_id: int, customer_ids: Iterable[int] | None = None):
    """``{customer id: mask}`` of the merchant's customers (or of ``customer_ids``) from their
    payments; a customer without a payment is left out (mask 0)."""
    rows = TransactionPayment.objects.filter(
        transaction__merchant_id=merchant_id, transaction__customer__isnull=False
    )
    if customer_ids is not None:
        ids = list(customer_ids)
        if len(ids) == 1:
            rows = rows.filter(transaction__customer_id=ids[0])
        else:
            rows = rows.filter(transaction__customer_id__in=ids)
    masks: dict[int, int] = {}
    for customer_id, method in (
        rows.order_by().values_list("transaction__customer_id", "method").distinct()
    ):
        masks[customer_id] = masks.get(customer_id, 0) | BITS.get(method, 0)
    return masks
