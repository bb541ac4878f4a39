"""Database rules for erasure and the audit log (SQLite and PostgreSQL).

- ``privacy_auditevent`` refuses UPDATE: an audit event is never changed. DELETE stays possible
  for retention pruning, for deleting a merchant, and for a test database's clean-up; the ORM
  refuses it everywhere else (:class:`langganan.privacy.models.AuditEventQuerySet`).
- ``loyalty_journal`` stays append-only with one exception: erasing a person may replace a
  journal's free-text ``memo`` (a referral's memo names both members) with the fixed marker
  ``[dihapus]`` — every other column must stay as it was, and the ledger entries (the amounts)
  keep refusing every UPDATE and DELETE.
"""

from django.db import migrations

ERASED = "[dihapus]"
LEDGER_MESSAGE = "ledger rows are append-only: post a reversing entry instead"
AUDIT_MESSAGE = "audit events are append-only"
JOURNAL_KEPT = ("id", "merchant_id", "kind", "key", "transaction_id", "reverses_id", "posted_at")

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS loyalty_journal_no_update",
    f"""CREATE TRIGGER loyalty_journal_no_update BEFORE UPDATE ON loyalty_journal
    WHEN NOT (NEW.memo = '{ERASED}' AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in JOURNAL_KEPT)})
    BEGIN SELECT RAISE(ABORT, '{LEDGER_MESSAGE}'); END""",
    f"""CREATE TRIGGER privacy_auditevent_no_update BEFORE UPDATE ON privacy_auditevent
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS privacy_auditevent_no_update",
    "DROP TRIGGER IF EXISTS loyalty_journal_no_update",
    f"""CREATE TRIGGER loyalty_journal_no_update BEFORE UPDATE ON loyalty_journal
    BEGIN SELECT RAISE(ABORT, '{LEDGER_MESSAGE}'); END""",
]

_NEW = ", ".join(f"NEW.{c}" for c in JOURNAL_KEPT)
_OLD = ", ".join(f"OLD.{c}" for c in JOURNAL_KEPT)
POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION loyalty_journal_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.memo = '{ERASED}'
           AND ROW({_NEW}) IS NOT DISTINCT FROM ROW({_OLD}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{LEDGER_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS loyalty_journal_append_only ON loyalty_journal",
    """CREATE TRIGGER loyalty_journal_append_only BEFORE UPDATE OR DELETE ON loyalty_journal
    FOR EACH ROW EXECUTE FUNCTION loyalty_journal_guard()""",
    f"""CREATE OR REPLACE FUNCTION privacy_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{AUDIT_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER privacy_auditevent_no_update BEFORE UPDATE ON privacy_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_audit_append_only()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS privacy_auditevent_no_update ON privacy_auditevent",
    "DROP FUNCTION IF EXISTS privacy_audit_append_only()",
    "DROP TRIGGER IF EXISTS loyalty_journal_append_only ON loyalty_journal",
    """CREATE TRIGGER loyalty_journal_append_only BEFORE UPDATE OR DELETE ON loyalty_journal
    FOR EACH ROW EXECUTE FUNCTION loyalty_append_only()""",
    "DROP FUNCTION IF EXISTS loyalty_journal_guard()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def _run(schema_editor, which: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"the audit log needs SQLite or PostgreSQL, not {vendor}")
    for statement in STATEMENTS[vendor][which]:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial"), ("loyalty", "0002_ledger_triggers")]
    operations = [migrations.RunPython(forward, backward)]
