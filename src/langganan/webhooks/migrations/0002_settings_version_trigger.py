"""A new ``core_merchant.settings_version`` whenever the merchant's webhook endpoints change
(see :mod:`langganan.core.settings_sql`)."""

from django.db import migrations

from langganan.core.settings_sql import DIRECT, settings_triggers_operation


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial"), ("core", "0002_merchant_settings_version")]
    operations = [settings_triggers_operation({"webhooks_webhookendpoint": DIRECT})]
