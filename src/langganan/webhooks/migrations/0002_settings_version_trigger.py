"""A new ``core_merchant.settings_version`` whenever the merchant's webhook endpoints change
(see :mod:`langganan.core.settings_sql`)."""

from django.db import migrations

from langganan.core.settings_sql import DIRECT, run_settings_triggers

TABLES = {"webhooks_webhookendpoint": DIRECT}


def forward(apps, schema_editor):
    run_settings_triggers(schema_editor, TABLES, forward=True)


def backward(apps, schema_editor):
    run_settings_triggers(schema_editor, TABLES, forward=False)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial"), ("core", "0002_merchant_settings_version")]
    operations = [migrations.RunPython(forward, backward)]
