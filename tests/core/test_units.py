"""All-or-nothing units (langganan.core.units) and the savepoint-free insert
(langganan.core.rows.insert_unless_exists), on whichever database the suite runs on."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from langganan.core import units
from langganan.core.models import Outlet
from langganan.core.rows import insert_unless_exists
from langganan.loyalty.models import CheckoutRecord

pytestmark = pytest.mark.django_db(transaction=True)  # real transactions, not the test's one


def _savepoints(seen: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in seen.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def _record(merchant, key: str) -> CheckoutRecord:
    return CheckoutRecord(
        merchant=merchant, operation="checkout", key=key, request_hash="h", response={}
    )


def test_inside_a_unit_a_services_block_makes_no_savepoint(merchant):
    with CaptureQueriesContext(connection) as seen, units.one_unit():
        with units.atomic():
            Outlet.objects.create(merchant=merchant, code="A", name="A")
        with units.atomic():
            Outlet.objects.create(merchant=merchant, code="B", name="B")
    assert _savepoints(seen) == []
    assert Outlet.objects.filter(merchant=merchant, code__in=["A", "B"]).count() == 2


def test_outside_a_unit_a_services_block_is_a_savepoint_that_can_recover(merchant):
    with CaptureQueriesContext(connection) as seen, transaction.atomic():
        Outlet.objects.create(merchant=merchant, code="A", name="A")
        with pytest.raises(IntegrityError), units.atomic():
            Outlet.objects.create(merchant=merchant, code="A", name="again")
        Outlet.objects.create(merchant=merchant, code="B", name="B")  # the transaction goes on
    assert len(_savepoints(seen)) >= 2  # SAVEPOINT, ROLLBACK TO SAVEPOINT
    assert set(Outlet.objects.filter(merchant=merchant).values_list("code", flat=True)) >= {
        "A",
        "B",
    }


def test_an_error_inside_a_unit_undoes_the_whole_unit(merchant):
    with pytest.raises(IntegrityError), units.one_unit():
        Outlet.objects.create(merchant=merchant, code="A", name="A")
        with units.atomic():
            Outlet.objects.create(merchant=merchant, code="B", name="B")
        with units.atomic():
            Outlet.objects.create(merchant=merchant, code="B", name="again")
    assert not Outlet.objects.filter(merchant=merchant, code__in=["A", "B"]).exists()


def test_a_unit_nested_in_a_transaction_undoes_only_itself(merchant):
    with transaction.atomic():
        Outlet.objects.create(merchant=merchant, code="KEEP", name="kept")
        with pytest.raises(IntegrityError), units.one_unit():
            Outlet.objects.create(merchant=merchant, code="A", name="A")
            with units.atomic():
                Outlet.objects.create(merchant=merchant, code="A", name="again")
        Outlet.objects.create(merchant=merchant, code="AFTER", name="after")
    codes = set(Outlet.objects.filter(merchant=merchant).values_list("code", flat=True))
    assert {"KEEP", "AFTER"} <= codes and "A" not in codes


def test_a_block_that_recovers_keeps_its_savepoint_inside_a_unit(merchant):
    with units.one_unit():
        Outlet.objects.create(merchant=merchant, code="A", name="A")
        try:
            with transaction.atomic():  # what a recovering service uses
                Outlet.objects.create(merchant=merchant, code="A", name="again")
        except IntegrityError:
            pass
        Outlet.objects.create(merchant=merchant, code="B", name="B")
    assert Outlet.objects.filter(merchant=merchant, code__in=["A", "B"]).count() == 2


def test_insert_unless_exists_inserts_once_without_an_error_or_a_savepoint(merchant):
    with CaptureQueriesContext(connection) as seen, transaction.atomic():
        first = _record(merchant, "k1")
        assert insert_unless_exists(first, unique=("merchant", "operation", "key"))
        again = _record(merchant, "k1")
        assert not insert_unless_exists(again, unique=("merchant", "operation", "key"))
        assert again.pk is None
        # the transaction is healthy after the conflict (PostgreSQL would refuse otherwise)
        other = _record(merchant, "k2")
        assert insert_unless_exists(other, unique=("merchant", "operation", "key"))
    assert _savepoints(seen) == []
    stored = CheckoutRecord.objects.get(pk=first.pk)
    assert (stored.key, stored.response, stored.created_at is not None) == ("k1", {}, True)
    assert not first._state.adding and first._state.db == "default"
    assert CheckoutRecord.objects.filter(merchant=merchant).count() == 2


def test_insert_unless_exists_wants_exactly_a_unique_constraint(merchant):
    with pytest.raises(TypeError, match="no unique constraint"):
        insert_unless_exists(_record(merchant, "k"), unique=("merchant", "key"))
    assert not CheckoutRecord.objects.exists()
