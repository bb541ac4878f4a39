"""A new ``core_merchant.settings_version`` whenever the merchant's loyalty program, its tiers,
earning rules or cashback rules change (see :mod:`langganan.core.settings_sql`)."""

from django.db import migrations

from langganan.core.settings_sql import DIRECT, VIA_PROGRAM, settings_triggers_operation


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0002_ledger_triggers"), ("core", "0002_merchant_settings_version")]
    operations = [
        settings_triggers_operation(
            {
                "loyalty_program": DIRECT,
                "loyalty_tier": VIA_PROGRAM,
                "loyalty_earnrule": VIA_PROGRAM,
                "loyalty_cashbackrule": VIA_PROGRAM,
            }
        )
    ]
