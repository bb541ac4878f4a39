"""Triggers that give a merchant a new ``settings_version`` when a setting of theirs changes.

Used by the migrations of the apps whose tables hold merchant settings (loyalty programs,
tiers, earning and cashback rules, webhook endpoints): any INSERT, UPDATE or DELETE of such a
row, through the ORM, the admin, a bulk update or plain SQL, sets a new random stamp on the
merchant row, so :mod:`langganan.core.settings_cache` never serves a stale copy.
"""

from __future__ import annotations

from django.db.migrations import RunPython

#: The merchant of a row: its own ``merchant_id``, or the one of its program.
DIRECT = "{row}.merchant_id"
VIA_PROGRAM = "(SELECT merchant_id FROM loyalty_program WHERE id = {row}.program_id)"

_PG_STAMP = "(random() * 4611686018427387903)::bigint"


def _pg_function(name: str, merchant: str) -> str:
    old, new = merchant.format(row="OLD"), merchant.format(row="NEW")
    # constant table and column names only: no value is ever formatted in
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE core_merchant SET settings_version = {_PG_STAMP} WHERE id = {old};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE core_merchant SET settings_version = {_PG_STAMP} WHERE id = {new};
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""  # noqa: S608


def settings_triggers(vendor: str, tables: dict[str, str]) -> tuple[list[str], list[str]]:
    """``(forward, backward)`` statements for ``tables`` (table name → ``DIRECT`` or
    ``VIA_PROGRAM``) on ``vendor`` (``sqlite`` or ``postgresql``)."""
    forward: list[str] = []
    backward: list[str] = []
    for table, merchant in tables.items():
        if vendor == "postgresql":
            function = f"{table}_settings_version"
            forward += [
                _pg_function(function, merchant),
                f"""CREATE TRIGGER {table}_settings_version
                AFTER INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {function}()""",
            ]
            backward += [
                f"DROP TRIGGER IF EXISTS {table}_settings_version ON {table}",
                f"DROP FUNCTION IF EXISTS {function}()",
            ]
        elif vendor == "sqlite":
            old, new = merchant.format(row="OLD"), merchant.format(row="NEW")
            for verb, ids in (("INSERT", new), ("UPDATE", f"{new}, {old}"), ("DELETE", old)):
                name = f"{table}_settings_{verb.lower()}"
                forward.append(
                    f"""CREATE TRIGGER {name} AFTER {verb} ON {table}
                    BEGIN
                        UPDATE core_merchant SET settings_version = random() WHERE id IN ({ids});
                    END"""  # noqa: S608
                )
                backward.append(f"DROP TRIGGER IF EXISTS {name}")
        else:
            raise RuntimeError(
                f"merchant settings triggers need SQLite or PostgreSQL, not {vendor}"
            )
    return forward, backward


def settings_triggers_operation(tables: dict[str, str]) -> RunPython:
    """The migration operation that creates the triggers of ``tables`` (and drops them when
    migrating back)."""

    def run(schema_editor, forward: bool) -> None:
        statements = settings_triggers(schema_editor.connection.vendor, tables)
        for statement in statements[0 if forward else 1]:
            schema_editor.execute(statement)

    return RunPython(
        lambda apps, schema_editor: run(schema_editor, True),
        lambda apps, schema_editor: run(schema_editor, False),
    )
