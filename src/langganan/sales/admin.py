from django.contrib import admin

from langganan.sales.models import LineItem, Product, ProductCategory, Transaction


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


class LineItemInline(admin.TabularInline):
    model = LineItem
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
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
    inlines = [LineItemInline]


@admin.register(LineItem)
class LineItemAdmin(admin.ModelAdmin):
    list_display = ["transaction", "product_name", "quantity", "unit_price", "discount"]
    raw_id_fields = ["transaction", "product"]
    search_fields = ["product_name"]
