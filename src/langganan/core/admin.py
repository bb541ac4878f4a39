from django.contrib import admin

from langganan.core.models import Membership, Merchant, Outlet


class ReadOnlyAdminMixin:
    """Viewable by staff, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OutletInline(admin.TabularInline):
    model = Outlet
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "time_zone", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [OutletInline]


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "merchant", "city", "is_active"]
    list_filter = ["merchant", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "outlet"]
    list_filter = ["merchant", "role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
