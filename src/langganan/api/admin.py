"""Django admin for API keys: viewed and revoked here, created with ``langganan apikey
create`` (which shows the key once). The hash is read-only; nothing is deleted."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from langganan.core.errors import LanggananError

from .models import ApiKey
from .services import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "merchant",
        "outlet",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["merchant", "revoked_at"]
    search_fields = ["prefix", "name", "outlet__code", "merchant__slug"]
    readonly_fields = [
        "merchant",
        "outlet",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = ["name", *readonly_fields]
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        now = timezone.now()
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                api_key_revoke(prefix=key.prefix, at=now)
            except LanggananError:
                continue
            revoked += 1
        self.message_user(
            request, _("%(count)d API keys revoked.") % {"count": revoked}, messages.SUCCESS
        )
