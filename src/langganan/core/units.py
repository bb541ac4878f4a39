"""All-or-nothing units of work, without a savepoint around every service they call.

Each service opens its own ``transaction.atomic()`` block so that it is safe on its own (from
the CLI, the dashboard, a loop that catches one customer's error and goes on to the next).
Nested in a caller's transaction, each such block is a savepoint: two more round trips to the
database (``SAVEPOINT``, ``RELEASE``), and a checkout calls four or five of them. Measured on
the API benchmark, a member's sale made 24 statements, eight of them savepoints.

A caller whose whole block fails on any error (the checkout: a sale is recorded with all its
rewards or not at all) runs it in :func:`one_unit`. Inside, the services' blocks opened with
:func:`atomic` make no savepoint: an error leaving one marks the unit for rollback, which is
what would happen anyway since nothing inside catches it and goes on.

A service block that *recovers* from an error (``try: create … except IntegrityError: get``)
keeps ``transaction.atomic()``: its savepoint is what lets the transaction go on, in a unit
or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_IN_UNIT: ContextVar[bool] = ContextVar("langganan_in_unit", default=False)


@contextmanager
def one_unit(using: str | None = None) -> Iterator[None]:
    """``transaction.atomic()`` in which the blocks of :func:`atomic` make no savepoint.

    Nothing inside may catch an error raised through such a block and go on: the unit is
    marked for rollback and its next query fails (Django's ``TransactionManagementError``).
    """
    with transaction.atomic(using=using):
        token = _IN_UNIT.set(True)
        try:
            yield
        finally:
            _IN_UNIT.reset(token)


def atomic(using: str | None = None) -> transaction.Atomic:
    """A service's own block, for one that does not recover from errors inside it: a
    savepoint when nested, except inside :func:`one_unit`."""
    return transaction.atomic(using=using, savepoint=not _IN_UNIT.get())
