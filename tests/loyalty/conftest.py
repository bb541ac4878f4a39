"""Fixtures for the loyalty tests.

Ledger tables refuse DELETE (a database trigger). Django empties tables after a transactional
test with DELETE on SQLite (TRUNCATE, which the triggers do not cover, on PostgreSQL), so
``ledger_cleanup`` removes the SQLite triggers for the clean-up only and puts them back.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

triggers = importlib.import_module("langganan.loyalty.migrations.0002_ledger_triggers")


@pytest.fixture
def ledger_cleanup(transactional_db):
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for statement in triggers.SQLITE_BACKWARD:
            cursor.execute(statement)
        for table in (
            "loyalty_tabpayment",  # refers to its journal
            "loyalty_entry",
            "loyalty_lotuse",
            "loyalty_pointlot",
            "loyalty_journal",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        for statement in triggers.SQLITE_FORWARD:
            cursor.execute(statement)
