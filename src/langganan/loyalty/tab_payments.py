"""Paying off the tab (kasbon) at the counter or from a POS, and the list of open tabs.

:func:`tab_payment_record` is the one service the kasbon page and ``POST
/api/v1/customers/{id}/tab/payments`` call: a full or partial payment, posted to the ledger by
:func:`langganan.loyalty.tab.tab_pay` (the tab account + amount, ``tab_payments`` − amount),
described by a :class:`~langganan.loyalty.models.TabPayment` row (method, outlet, who), once
per idempotency key exactly like a checkout (the key's
:class:`~langganan.loyalty.models.CheckoutRecord`, operation ``tab_payment``, is written in the
same database transaction): the same key with the same request replays the first result, with
a different request it is refused, and a double tap on the page records one payment.

:func:`tabs_open` lists the customers who owe, with their limit, the age of the oldest unpaid
charge (payments settle the oldest charges first, see :func:`~langganan.loyalty.tab.tab_ageing`)
and their last payment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils import timezone

from langganan.core.errors import InvalidInput, NotFound
from langganan.core.models import Merchant, Outlet
from langganan.core.money import to_money
from langganan.core.units import one_unit
from langganan.customers.models import Customer
from langganan.loyalty.models import (
    Entry,
    JournalKind,
    TabPayment,
    TabPaymentMethod,
)

OPERATION = "tab_payment"
ERR_METHOD = "payment method must be one of: {choices}"
ERR_CUSTOMER_NOT_FOUND = "customer not found"


def _fingerprint(customer_id: int, amount: Decimal, method: str, memo: str) -> str:
    raw = {"customer_id": customer_id, "amount": str(amount), "method": method, "memo": memo}
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


def _journal_key(idempotency_key: str) -> str:
    """The ledger key of the payment: one journal per idempotency key, even after the key's
    record was purged (the journal key is unique per merchant)."""
    return "tabpay:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def tab_payment_record(
    *,
    merchant: Merchant,
    customer_id: int,
    amount: Decimal | int | str,
    method: str,
    idempotency_key: str,
    outlet: Outlet | None = None,
    recorded_by: Any = None,
    memo: str = "",
    at: datetime | None = None,
    refuse_while_running: bool = False,
) -> dict[str, Any]:
    """Record a payment of ``amount`` towards the tab of the merchant's customer
    ``customer_id``, once per ``idempotency_key``.

    Refused (:class:`InvalidInput`) when the amount is not positive, more than the customer
    owes, or the method unknown; :class:`NotFound` for a customer of another merchant. Returns
    a JSON-ready dict (the payment, what the customer still owes and the limit) with
    ``"replayed"``: True when the key was seen before with the same request.
    """
    from langganan.loyalty.checkout import _claim_key, _refuse_if_running
    from langganan.loyalty.tab import tab_balance, tab_pay

    if method not in TabPaymentMethod.values:
        raise InvalidInput(
            ERR_METHOD.format(choices=", ".join(TabPaymentMethod.values)), field="method"
        )
    value = to_money(amount)
    memo = (memo or "").strip()[:200]
    customer = (
        Customer.objects.select_related("merchant")
        .filter(merchant=merchant, pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(ERR_CUSTOMER_NOT_FOUND, field="customer_id")
    at = at or timezone.now()
    fingerprint = _fingerprint(customer.pk, value, method, memo)
    with one_unit():
        if refuse_while_running and idempotency_key:
            _refuse_if_running(merchant=merchant, operation=OPERATION, key=idempotency_key)
        claimed = _claim_key(
            merchant=merchant,
            outlet=outlet,
            operation=OPERATION,
            key=idempotency_key,
            fingerprint=fingerprint,
        )
        if isinstance(claimed, dict):
            return claimed
        journal = tab_pay(
            customer=customer,
            amount=value,
            key=_journal_key(idempotency_key),
            at=at,
            memo=memo,
        )
        payment = TabPayment.objects.create(
            merchant=merchant,
            customer=customer,
            journal=journal,
            outlet=outlet,
            amount=value,
            method=method,
            recorded_by=recorded_by,
            paid_at=at,
        )
        owed, limit = tab_balance(customer=customer)
        result = {
            "payment": {
                "id": payment.pk,
                "amount": str(value),
                "method": method,
                "paid_at": at.isoformat(),
                "journal_id": journal.pk,
                "outlet": outlet.code if outlet is not None else None,
            },
            "customer_id": customer.pk,
            "tab": {"owed": str(owed), "limit": str(limit), "settled": owed == 0},
        }
        claimed.response = result
        claimed.save(update_fields=["response"])
    return {**result, "replayed": False}


# -- selectors --------------------------------------------------------------------------------


@dataclass
class OpenTab:
    """One customer who owes on their tab."""

    customer: Customer
    owed: Decimal
    limit: Decimal
    oldest_unpaid_on: date | None
    oldest_age_days: int | None
    last_payment_at: datetime | None
    last_payment_amount: Decimal | None

    @property
    def available(self) -> Decimal:
        return max(Decimal("0"), self.limit - self.owed)

    @property
    def over_limit(self) -> bool:
        return self.owed > self.limit


def tabs_open(*, merchant: Merchant, at: datetime | None = None) -> list[OpenTab]:
    """Every customer who owes on their tab, the oldest unpaid charge first (then the largest
    debt): balance, limit, the oldest unpaid charge's day and age in days (merchant-local), the
    last payment (any payment, from the counter, a POS or an import)."""
    from langganan.loyalty.tab import tab_ageing

    at = at or timezone.now()
    zone = ZoneInfo(merchant.time_zone or "Asia/Jakarta")
    today = at.astimezone(zone).date()
    ageing = tab_ageing(merchant=merchant, at=at)
    if not ageing:
        return []
    customer_ids = [row.customer.pk for row in ageing]
    last_at = dict(
        Entry.objects.filter(
            account__customer_id__in=customer_ids,
            account__kind="tab",
            journal__kind=JournalKind.TAB_PAYMENT,
            posted_at__lte=at,
        )
        .values_list("account__customer_id")
        .annotate(last=Max("posted_at"))
        .values_list("account__customer_id", "last")
    )
    last_amount: dict[int, Decimal] = {}
    if last_at:
        rows = Entry.objects.filter(
            account__customer_id__in=list(last_at),
            account__kind="tab",
            journal__kind=JournalKind.TAB_PAYMENT,
            posted_at__in=list(set(last_at.values())),
        ).values_list("account__customer_id", "posted_at", "amount")
        for customer_id, posted_at, amount in rows:
            if posted_at == last_at.get(customer_id):
                last_amount[customer_id] = last_amount.get(customer_id, Decimal("0")) + amount
    tabs = [
        OpenTab(
            customer=row.customer,
            owed=row.owed,
            limit=row.limit,
            oldest_unpaid_on=row.oldest_unpaid_on,
            oldest_age_days=(today - row.oldest_unpaid_on).days if row.oldest_unpaid_on else None,
            last_payment_at=last_at.get(row.customer.pk),
            last_payment_amount=last_amount.get(row.customer.pk),
        )
        for row in ageing
    ]
    tabs.sort(key=lambda t: (-(t.oldest_age_days or 0), -t.owed, t.customer.pk))
    return tabs


def tab_payments_of(*, customer: Customer, limit: int = 10) -> list[TabPayment]:
    """The customer's latest payments recorded at the counter or by a POS, newest first."""
    return list(
        TabPayment.objects.filter(customer=customer)
        .select_related("outlet", "recorded_by")
        .order_by("-paid_at", "-id")[:limit]
    )
