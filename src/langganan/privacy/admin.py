"""The privacy records in the admin: read only (the audit log is evidence; requests, corrections
and erasures are written by the services and the dashboard)."""

from django.contrib import admin

from langganan.privacy.models import AuditEvent, Correction, Erasure, PrivacyRequest


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly):
    list_display = ["at", "merchant", "actor", "action", "object_type", "object_id", "ip"]
    list_filter = ["merchant", "action"]
    date_hierarchy = "at"


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnly):
    list_display = ["reference", "merchant", "kind", "received_at", "deadline", "status"]
    list_filter = ["merchant", "kind", "status"]
    raw_id_fields = ["customer"]


@admin.register(Correction)
class CorrectionAdmin(ReadOnly):
    list_display = ["at", "merchant", "customer", "field", "actor"]
    list_filter = ["merchant", "field"]
    raw_id_fields = ["customer"]


@admin.register(Erasure)
class ErasureAdmin(ReadOnly):
    list_display = ["at", "merchant", "customer", "reference", "actor"]
    list_filter = ["merchant"]
    raw_id_fields = ["customer"]
