from django.contrib import admin

from langganan.customers.models import ConsentEvent, Customer


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = ["channel", "granted", "occurred_at", "source", "wording_version"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "member_code", "merchant", "city", "joined_at"]
    list_filter = ["merchant", "gender", "city"]
    search_fields = ["full_name", "phone", "member_code", "email", "external_ref"]
    date_hierarchy = "joined_at"
    inlines = [ConsentEventInline]


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """Consent history is evidence: it is read here, never edited or deleted."""

    list_display = ["customer", "channel", "granted", "occurred_at", "source", "wording_version"]
    list_filter = ["channel", "granted", "source"]
    raw_id_fields = ["customer"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
