"""A tab charge racing an erasure: the erasure waits for the tab and then refuses, never erasing
a customer who owes money. On PostgreSQL with real threads and row locks; SQLite serialises
writers, so there the charge commits before the erasure starts, and the erasure refuses."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from langganan.core.errors import Conflict

ROW_LOCKS = connection.vendor == "postgresql"


def test_a_charge_committed_before_the_erasure_makes_it_refuse(db):
    from langganan.loyalty.tab import tab_charge, tab_set_limit
    from langganan.privacy.services import customer_erase
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    tab_set_limit(customer=customer, limit=Decimal("50000"), at=timezone.now())
    tab_charge(customer=customer, amount=Decimal("20000"), key="serial:1", at=timezone.now())
    with pytest.raises(Conflict) as refused:
        customer_erase(customer=customer, reference="R-serial", actor="test")
    assert refused.value.code == "tab_outstanding"
    customer.refresh_from_db()
    assert customer.full_name


# the race needs row locks (PostgreSQL); SQLite serialises writers: the test above is its case
if ROW_LOCKS:

    def test_a_tab_charge_committed_while_the_erasure_waits_makes_it_refuse(transactional_db):
        from langganan.loyalty.models import Account
        from langganan.loyalty.tab import tab_charge, tab_set_limit
        from langganan.privacy.services import customer_erase
        from tests.factories import CustomerFactory

        customer = CustomerFactory()
        tab_set_limit(customer=customer, limit=Decimal("50000"), at=timezone.now())
        outcome: dict = {}

        def erase():
            try:
                customer_erase(customer=customer, reference="R-race", actor="test")
                outcome["result"] = "erased"
            except Conflict as exc:
                outcome["result"] = exc.code
            finally:
                connections.close_all()

        with transaction.atomic():
            Account.objects.select_for_update().get(customer=customer, kind="tab")
            eraser = threading.Thread(target=erase)
            eraser.start()
            time.sleep(0.5)
            assert eraser.is_alive()  # waiting for the tab
            tab_charge(customer=customer, amount=Decimal("20000"), key="race:1", at=timezone.now())
        eraser.join(timeout=20)
        assert outcome == {"result": "tab_outstanding"}
        customer.refresh_from_db()
        assert customer.full_name
