"""Racing redemptions with real threads: the limits hold on SQLite and PostgreSQL.

Each thread is one cashier: in its own database transaction it records a sale, checks the code
and redeems it, as checkout does. On SQLite the IMMEDIATE transactions queue on the write lock;
on PostgreSQL the voucher row lock serialises the redemptions and the CHECK on ``uses`` is the
last guard.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from langganan.loyalty.models import Voucher, VoucherRedemption
from langganan.loyalty.vouchers import VoucherRefused, voucher_check, voucher_redeem
from langganan.sales.models import Transaction
from tests.factories import CustomerFactory, OutletFactory
from tests.loyalty.factories import VoucherFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(voucher: Voucher, customers: list, outlet) -> list[str]:
    """One thread per entry of ``customers`` (None: a walk-in); returns the sorted outcomes."""
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(customers))

    def attempt(customer) -> None:
        close_old_connections()
        try:
            barrier.wait()
            at = timezone.now()
            with transaction.atomic():
                sale = Transaction.objects.create(
                    merchant=voucher.merchant,
                    outlet=outlet,
                    customer=customer,
                    occurred_at=at,
                    total=Decimal("100000"),
                    payment_method="cash",
                )
                quote = voucher_check(
                    merchant=voucher.merchant,
                    code=voucher.code,
                    customer=customer,
                    lines=[],
                    subtotal=Decimal("100000"),
                    at=at,
                )
                voucher_redeem(quote=quote, customer=customer, transaction_obj=sale, at=at)
            result = "ok"
        except VoucherRefused as exc:
            result = exc.reason
        except Exception as exc:  # reported in the assertion
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def _assert_consistent(voucher: Voucher, expected_uses: int) -> None:
    voucher.refresh_from_db()
    assert voucher.uses == expected_uses
    assert VoucherRedemption.objects.filter(voucher=voucher).count() == expected_uses
    assert Transaction.objects.filter(voucher_redemptions__voucher=voucher).count() == (
        expected_uses
    )


def test_fifty_cashiers_racing_for_one_single_use_code_redeem_it_once(ledger_cleanup):
    outlet = OutletFactory()
    voucher = VoucherFactory(merchant=outlet.merchant, kind="single", max_uses=1)
    outcomes = _race(voucher, [None] * 50, outlet)
    assert outcomes == ["ok"] + ["used_up"] * 49
    _assert_consistent(voucher, 1)


def test_a_shared_code_with_five_uses_is_redeemed_exactly_five_times(ledger_cleanup):
    outlet = OutletFactory()
    voucher = VoucherFactory(merchant=outlet.merchant, kind="shared", max_uses=5)
    customers = CustomerFactory.create_batch(30, merchant=outlet.merchant)
    outcomes = _race(voucher, customers, outlet)
    assert outcomes == ["ok"] * 5 + ["used_up"] * 25
    _assert_consistent(voucher, 5)


def test_one_customer_racing_twenty_times_uses_a_once_per_customer_code_once(ledger_cleanup):
    outlet = OutletFactory()
    customer = CustomerFactory(merchant=outlet.merchant)
    voucher = VoucherFactory(
        merchant=outlet.merchant, kind="shared", max_uses=None, per_customer_limit=1
    )
    outcomes = _race(voucher, [customer] * 20, outlet)
    assert outcomes == ["customer_limit"] * 19 + ["ok"]
    _assert_consistent(voucher, 1)
