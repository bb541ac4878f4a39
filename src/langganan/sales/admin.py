from django.contrib import admin

from langganan.sales.models import (
    LineItem,
    Product,
    ProductCategory,
    Transaction,
    TransactionPayment,
)


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant"]
    list_filter = ["merchant"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "merchant", "is_active"]
    list_filter = ["merchant", "category", "is_active"]
    search_fields = ["name", "sku"]


class ReadOnlyAdmin:
    """Sales are recorded by the checkout (counter, POS API, import), which also gives their
    points, cashback and tier changes: the admin only shows them. A sale added or changed here
    would skip all of that (and a paid total would no longer match its ledger)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LineItemInline(ReadOnlyAdmin, admin.TabularInline):
    model = LineItem
    extra = 0
    fields = ["product_name", "quantity", "unit_price", "discount"]
    readonly_fields = fields


class PaymentInline(ReadOnlyAdmin, admin.TabularInline):
    """How the sale was paid: read only (the checkout keeps the rows summing to the total)."""

    model = TransactionPayment
    extra = 0
    can_delete = False
    readonly_fields = ["method", "amount"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "total",
        "payment_method",
        "channel",
        "customer",
        "outlet",
        "external_id",
    ]
    list_filter = ["merchant", "kind", "payment_method", "channel", "outlet"]
    search_fields = ["external_id", "customer__full_name", "customer__phone"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["customer", "refund_of"]
    inlines = [PaymentInline, LineItemInline]


@admin.register(LineItem)
class LineItemAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["transaction", "product_name", "quantity", "unit_price", "discount"]
    raw_id_fields = ["transaction", "product"]
    search_fields = ["product_name"]
