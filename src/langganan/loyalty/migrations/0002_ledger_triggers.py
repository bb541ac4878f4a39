"""Database-enforced ledger rules (SQLite and PostgreSQL).

- ledger entries and journals are append-only: UPDATE and DELETE are refused;
- each inserted entry is added to its account's balance, so a balance is always the sum of its
  entries (the application never writes ``balance`` itself), and the account's CHECK constraint
  (balance >= floor) refuses an overdraft even when two requests race.
"""

from django.db import migrations

APPEND_ONLY_MESSAGE = "ledger rows are append-only: post a reversing entry instead"
TABLES = ("loyalty_entry", "loyalty_journal")

SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"""
        for table in TABLES
        for verb in ("UPDATE", "DELETE")
    ),
    # SQLite keeps fractional decimals as binary floats: round the running sum to the cent.
    """CREATE TRIGGER loyalty_entry_balance AFTER INSERT ON loyalty_entry
    BEGIN
        UPDATE loyalty_account SET balance = ROUND(balance + NEW.amount, 2)
        WHERE id = NEW.account_id;
    END""",
]
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {t}_no_{v}" for t in TABLES for v in ("update", "delete")),
    "DROP TRIGGER IF EXISTS loyalty_entry_balance",
]

POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION loyalty_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION loyalty_append_only()"""
        for table in TABLES
    ),
    """CREATE OR REPLACE FUNCTION loyalty_entry_balance() RETURNS trigger AS $$
    BEGIN
        UPDATE loyalty_account SET balance = balance + NEW.amount WHERE id = NEW.account_id;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER loyalty_entry_balance AFTER INSERT ON loyalty_entry
    FOR EACH ROW EXECUTE FUNCTION loyalty_entry_balance()""",
]
POSTGRES_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in TABLES),
    "DROP TRIGGER IF EXISTS loyalty_entry_balance ON loyalty_entry",
    "DROP FUNCTION IF EXISTS loyalty_entry_balance()",
    "DROP FUNCTION IF EXISTS loyalty_append_only()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def _run(schema_editor, which: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"the loyalty ledger needs SQLite or PostgreSQL, not {vendor}")
    for statement in STATEMENTS[vendor][which]:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
