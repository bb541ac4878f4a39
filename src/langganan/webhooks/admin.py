"""Django admin for webhooks: endpoints are edited here (the signing secret is generated and
shown read-only); deliveries are a read-only record, with an action to retry failed ones."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from langganan.core.admin import ReadOnlyAdminMixin
from langganan.core.errors import LanggananError
from langganan.webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from langganan.webhooks.services import webhook_delivery_retry, webhook_secret_generate


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=Event.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Empty: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["merchant", "url", "events", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "merchant", "events", "is_active", "created_at"]
    list_filter = ["is_active", "merchant"]
    search_fields = ["url", "merchant__slug", "merchant__name"]
    readonly_fields = ["secret", "created_at"]
    fields = ["merchant", "url", "events", "is_active", "secret", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # the merchant of an existing endpoint does not change (its deliveries carry it)
        return [*self.readonly_fields, "merchant"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = webhook_secret_generate()
        super().save_model(request, obj, form, change)


@admin.action(description=_("Retry the selected failed deliveries"))
def retry_deliveries(modeladmin, request, queryset):
    retried = 0
    for delivery_id in queryset.values_list("pk", flat=True):
        try:
            webhook_delivery_retry(delivery_id=delivery_id)
            retried += 1
        except LanggananError as exc:
            modeladmin.message_user(request, exc.message, messages.WARNING)
    modeladmin.message_user(request, _("%(count)d deliveries retried.") % {"count": retried})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event", "merchant"]
    search_fields = ["=event_id", "endpoint__url", "last_error"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = [retry_deliveries]
