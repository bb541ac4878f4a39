"""What ``langganan demo`` made: its merchants and its logins, marked so that the command can
tell them from real ones.

A demo merchant holds synthetic data: ``langganan demo`` may build one beside others only
when told (``--allow-existing-data``), and replaces (``--replace``) only a demo merchant. A demo
login's password is reset on every run, so the command resets only a login it made itself,
never a real person's account that happens to be called ``demo`` or ``kasir``.

Separate tables rather than a column of ``core_merchant``: on SQLite a new column with a default
rebuilds the table and loses the loyalty settings triggers that name it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DemoMerchant(models.Model):
    merchant = models.OneToOneField(
        "core.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="demo_mark"
    )
    seed = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "demo merchant"
        verbose_name_plural = "demo merchants"

    def __str__(self) -> str:
        return f"demo {self.merchant_id}"


class DemoLogin(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="demo_login",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "demo login"
        verbose_name_plural = "demo logins"

    def __str__(self) -> str:
        return f"demo login {self.user_id}"
