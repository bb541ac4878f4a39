from django.contrib import admin

from langganan.insights.models import CustomerInsight, InsightRun


@admin.register(InsightRun)
class InsightRunAdmin(admin.ModelAdmin):
    list_display = [
        "merchant",
        "started_at",
        "finished_at",
        "engine",
        "status",
        "customers",
        "transactions",
    ]
    list_filter = ["merchant", "status", "engine"]
    search_fields = ["merchant__slug", "merchant__name"]
    readonly_fields = [f.name for f in InsightRun._meta.fields]


@admin.register(CustomerInsight)
class CustomerInsightAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "merchant",
        "segment",
        "lifecycle",
        "p_alive",
        "clv",
        "next_purchase_date",
    ]
    list_filter = ["merchant", "segment", "lifecycle"]
    search_fields = ["customer__full_name", "customer__phone", "customer__member_code"]
    raw_id_fields = ["customer", "run"]
