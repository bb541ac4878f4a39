"""Builders shared by the jobs tests: a shop with a loyalty program, members with points that
have expired, birthdays today, a tier to review into, and a sale at the counter."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import close_old_connections, connection

from langganan.loyalty.models import PointLot
from langganan.loyalty.points import points_earn
from tests.factories import CustomerFactory, OutletFactory, ProductFactory
from tests.loyalty.factories import MemberFactory, ProgramFactory, TierFactory

JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass
class Shop:
    merchant: Any
    outlet: Any
    program: Any
    coffee: Any
    members: list
    now: datetime


def make_shop(members: int = 4, now: datetime | None = None) -> Shop:
    now = now or datetime.now(JAKARTA).replace(microsecond=0)
    today = now.astimezone(JAKARTA).date()
    outlet = OutletFactory()
    merchant = outlet.merchant
    program = ProgramFactory(merchant=merchant, birthday_bonus=100, max_redeem_share=Decimal("1"))
    TierFactory(program=program, name="Sahabat", rank=1, min_spend=0, min_visits=0)
    coffee = ProductFactory(merchant=merchant, name="Kopi Susu", price=Decimal("25000"))
    born = date(1990, today.month, min(today.day, 28))
    rows = []
    for i in range(members):
        customer = CustomerFactory(merchant=merchant, birth_date=born)
        member = MemberFactory(customer=customer)
        points_earn(customer=customer, points=50, key=f"old:{i}", at=now - timedelta(days=400))
        rows.append(member)
    PointLot.objects.filter(account__merchant=merchant).update(expires_at=now - timedelta(days=1))
    return Shop(merchant, outlet, program, coffee, rows, now)


def sell(shop: Shop, key: str, member=None) -> None:
    """A sale at the counter (points earned, tier upgrade checked) for a member."""
    from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout

    member = member or shop.members[0]
    checkout(
        merchant=shop.merchant,
        outlet=shop.outlet,
        idempotency_key=key,
        request=CheckoutRequest(
            lines=[BasketLine(product_id=shop.coffee.pk, quantity=Decimal("2"))],
            customer_id=member.customer_id,
            occurred_at=shop.now,
        ),
    )


def together(*calls) -> list:
    """Run the calls in threads started at the same moment, each with its own connection;
    return their results (an exception is returned, not raised)."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 (the tests assert on it)
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
