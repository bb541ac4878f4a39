"""Racing sign-ups of one new phone number, with real threads: one customer, no error.

The phone number is unique per merchant (a database constraint); the thread that loses the race
gets the customer the other one created, as a known number would, at the counter and on the
sign-up page alike. On SQLite the IMMEDIATE transactions queue on the write lock; on PostgreSQL
the unique index decides.
"""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from langganan.counter.enrolment import counter_enrol, signup_link_get, signup_submit
from langganan.customers.models import Customer
from langganan.loyalty.models import Member, Voucher
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (enrolment writes ledger rows)
from tests.loyalty.factories import ProgramFactory, VoucherFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_cleanup")]

THREADS = 4


def _race(work) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def attempt(n: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            result = f"ok {work(n)}"
        except Exception as exc:  # reported in the assertion
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def shop(merchant, outlet):
    welcome = VoucherFactory(
        merchant=merchant, code="HALO", is_template=True, kind="shared", max_uses=None
    )
    ProgramFactory(merchant=merchant, welcome_voucher=welcome)
    return merchant, outlet


def test_racing_sign_ups_of_one_number_make_one_member(shop):
    merchant, outlet = shop
    link = signup_link_get(outlet=outlet)

    outcomes = _race(
        lambda n: (
            signup_submit(
                link=link, phone="0812-3456-7890", full_name=f"Dewi {n}", consents={"sms": True}
            ).pk
        )
    )

    assert all(o.startswith("ok") for o in outcomes), outcomes
    customer = Customer.objects.get(merchant=merchant, phone="+6281234567890")
    assert {o.split()[1] for o in outcomes} == {str(customer.pk)}
    assert Member.objects.filter(customer=customer).count() == 1
    assert Voucher.objects.filter(customer=customer).count() == 1


def test_racing_counters_enrol_one_number_once(shop):
    merchant, outlet = shop

    outcomes = _race(
        lambda n: (
            counter_enrol(
                merchant=merchant, outlet=outlet, phone="081234567890", full_name=f"Rina {n}"
            ).created
        )
    )

    assert all(o.startswith("ok") for o in outcomes), outcomes
    assert sorted(outcomes).count("ok True") == 1
    assert Customer.objects.filter(merchant=merchant).count() == 1
