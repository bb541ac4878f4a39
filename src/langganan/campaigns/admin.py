"""Django admin for campaigns.

Messages are a read-only delivery record per message (status, attempts, provider id, last
error), filtered by status, channel and campaign; the one change allowed is the "send again"
action for failed or interrupted (``unknown``) messages. Channel accounts and messaging policies
are edited here; a channel account's credentials are shown masked (last four characters).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from langganan.core.admin import ReadOnlyAdminMixin
from langganan.core.errors import LanggananError

from .delivery import REQUEUEABLE, message_requeue
from .models import (
    Audience,
    Campaign,
    ChannelAccount,
    Message,
    MessageTemplate,
    MessagingPolicy,
    Recipient,
)


@admin.action(description=_("Send the selected failed or interrupted messages again"))
def requeue_messages(modeladmin, request, queryset):
    requeued = 0
    wanted = list(queryset.filter(status__in=REQUEUEABLE).values_list("pk", flat=True))
    skipped = queryset.exclude(status__in=REQUEUEABLE).count()
    for message_id in wanted:
        try:
            message_requeue(message_id=message_id)
            requeued += 1
        except LanggananError as exc:  # changed meanwhile
            modeladmin.message_user(request, exc.message, messages.WARNING)
    if skipped:
        modeladmin.message_user(
            request,
            _("%(count)d messages skipped: only failed or unknown ones can be sent again.")
            % {"count": skipped},
            messages.WARNING,
        )
    modeladmin.message_user(request, _("%(count)d messages queued again.") % {"count": requeued})


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "campaign",
        "customer",
        "channel",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "campaign", "merchant"]
    search_fields = ["=pk", "to", "=provider_id", "last_error"]
    list_select_related = ["campaign", "customer"]
    date_hierarchy = "created_at"
    actions = [requeue_messages]


#: Keys of ``ChannelAccount.settings`` that hold credentials (SMTP password, provider tokens,
#: webhook and callback secrets): the admin never shows them in full.
SECRET_SETTINGS = frozenset(
    {"password", "access_token", "app_secret", "verify_token", "api_key", "callback_secret"}
)
MASK = "••••••••"
#: A credential shorter than this is shown as the mask alone (its last four would give away
#: too much of it).
SHOW_TAIL_FROM = 12


def settings_masked(settings: dict) -> dict:
    """The settings as the admin shows them: each credential as ``MASK``, followed by its last
    four characters when it is long enough for that to say little about it."""
    shown = {}
    for key, value in (settings or {}).items():
        if key in SECRET_SETTINGS and value:
            text = str(value)
            value = MASK + (text[-4:] if len(text) >= SHOW_TAIL_FROM else "")
        shown[key] = value
    return shown


def settings_unmasked(edited: dict, stored: dict) -> dict:
    """The settings to save: a credential still showing the mask keeps its stored value; a
    new value replaces it; a removed key is removed."""
    result = dict(edited)
    for key, value in edited.items():
        if key in SECRET_SETTINGS and isinstance(value, str) and value.startswith(MASK):
            result[key] = (stored or {}).get(key, "")
    return result


class ChannelAccountForm(forms.ModelForm):
    class Meta:
        model = ChannelAccount
        fields = ["merchant", "channel", "settings", "price_per_message", "is_active"]
        help_texts = {
            "settings": _(
                "Credentials are shown masked; leave a masked value as it is to keep it, or "
                "replace it with the new value."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["settings"] = settings_masked(self.instance.settings)

    def clean_settings(self):
        edited = self.cleaned_data.get("settings")
        if not isinstance(edited, dict):
            raise forms.ValidationError(_("Settings must be a JSON object."))
        stored = self.instance.settings if self.instance.pk else {}
        return settings_unmasked(edited, stored)


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    form = ChannelAccountForm
    list_display = ["merchant", "channel", "price_per_message", "is_active"]
    list_filter = ["channel", "is_active", "merchant"]
    search_fields = ["merchant__slug", "merchant__name"]

    def get_fields(self, request, obj=None):
        # staff who may only view see the settings masked too (a read-only field would show
        # the stored JSON as it is)
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            fields = ["settings_shown" if f == "settings" else f for f in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            readonly.append("settings_shown")
        return readonly

    @admin.display(description=_("settings"))
    def settings_shown(self, obj):
        return json.dumps(settings_masked(obj.settings), ensure_ascii=False, indent=2)


@admin.register(MessagingPolicy)
class MessagingPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "merchant",
        "quiet_start_hour",
        "quiet_end_hour",
        "cap_messages",
        "cap_days",
    ]
    search_fields = ["merchant__slug", "merchant__name"]


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant", "updated_at")
    list_filter = ("merchant",)
    search_fields = ("name",)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant", "whatsapp_template", "created_at")
    list_filter = ("merchant",)
    search_fields = ("name", "body_id", "body_en")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Campaigns are created and run from the dashboard (their rules live in the services);
    the admin shows them and lets staff correct names and dates."""

    list_display = ("name", "merchant", "kind", "channel", "status", "started_at", "last_run_at")
    list_filter = ("merchant", "kind", "channel", "status")
    search_fields = ("name",)
    readonly_fields = ("kind", "channel", "started_at", "last_run_at", "created_at")
    raw_id_fields = ("voucher_template", "outlet", "template", "audience")


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was assigned to which campaign, treated or held out: a record, never edited."""

    list_display = ("campaign", "customer", "occasion", "group", "assigned_at")
    list_filter = ("group", "campaign__kind", "merchant")
    search_fields = ("customer__full_name", "customer__phone", "campaign__name")
    raw_id_fields = ("customer", "campaign", "voucher")
