"""A new ``core_merchant.settings_version`` whenever the merchant's loyalty program, its tiers,
earning rules or cashback rules change (see :mod:`langganan.core.settings_sql`)."""

from django.db import migrations

from langganan.core.settings_sql import DIRECT, VIA_PROGRAM, run_settings_triggers

TABLES = {
    "loyalty_program": DIRECT,
    "loyalty_tier": VIA_PROGRAM,
    "loyalty_earnrule": VIA_PROGRAM,
    "loyalty_cashbackrule": VIA_PROGRAM,
}


def forward(apps, schema_editor):
    run_settings_triggers(schema_editor, TABLES, forward=True)


def backward(apps, schema_editor):
    run_settings_triggers(schema_editor, TABLES, forward=False)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0002_ledger_triggers"), ("core", "0002_merchant_settings_version")]
    operations = [migrations.RunPython(forward, backward)]
