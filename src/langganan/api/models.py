"""API keys: one per till (outlet), of which only a SHA-256 hash is stored.

A key is shown once, when it is created (``langganan apikey create``); afterwards humans
recognise it by its ``prefix`` (the first characters of the key, which are not secret enough to
use on their own). A revoked key stops working at once and is kept for the record.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet


class ApiKey(models.Model):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("outlet")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["merchant", "outlet", "-created_at"]
        indexes = [models.Index(fields=["merchant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".strip()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
