"""Marks for what ``langganan demo`` made, and the marking of what an earlier version made."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EARLIER_DEMO_NAME = "Kopi Langganan"
EARLIER_DEMO_KEY = "demo POS"
EARLIER_DEMO_LOGINS = ("demo", "kasir")


def mark_earlier_demos(apps, schema_editor):
    """A database built by ``langganan demo`` before these marks: its cafés are the merchants
    named like the demo café that hold the demo's API key, and its logins ``demo`` and
    ``kasir`` when every merchant they work at is one of those (a real account of that name is
    left unmarked, so the command will never reset it)."""
    ApiKey = apps.get_model("api", "ApiKey")
    Membership = apps.get_model("core", "Membership")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    DemoMerchant = apps.get_model("demo", "DemoMerchant")
    DemoLogin = apps.get_model("demo", "DemoLogin")
    demo_ids = set(
        ApiKey.objects.filter(name=EARLIER_DEMO_KEY, merchant__name=EARLIER_DEMO_NAME)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    DemoMerchant.objects.bulk_create([DemoMerchant(merchant_id=pk) for pk in sorted(demo_ids)])
    for user in User.objects.filter(username__in=EARLIER_DEMO_LOGINS):
        works_at = set(Membership.objects.filter(user=user).values_list("merchant_id", flat=True))
        if works_at and works_at <= demo_ids:
            DemoLogin.objects.create(user=user)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("core", "0004_jobs"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DemoLogin",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="demo_login",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name": "demo login", "verbose_name_plural": "demo logins"},
        ),
        migrations.CreateModel(
            name="DemoMerchant",
            fields=[
                (
                    "merchant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="demo_mark",
                        serialize=False,
                        to="core.merchant",
                    ),
                ),
                ("seed", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name": "demo merchant", "verbose_name_plural": "demo merchants"},
        ),
        migrations.RunPython(mark_earlier_demos, migrations.RunPython.noop),
    ]
