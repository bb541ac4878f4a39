"""The message channels page (owners): WhatsApp by hand (always there), the WhatsApp Cloud API,
an SMS gateway and e-mail over SMTP, each with its price per message and a "send me a test".

Secrets (tokens, keys, passwords) are never shown back: a field left empty keeps the stored
value. A test message goes straight through the channel's adapter (no outbox, no customer) and
says what the provider answered.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from langganan.core.phones import normalize_phone
from langganan.web.access import merchant_for_request, merchant_view
from langganan.web.views import _render_for_merchant

from .channels.base import Outgoing, SendError, adapter_for
from .models import ChannelAccount

#: per channel: (settings key, label, secret?) — the keys the adapters read
FIELDS: dict[str, list[tuple[str, object, bool]]] = {
    "whatsapp": [
        ("phone_number_id", gettext_lazy("Phone number ID (from Meta)"), False),
        ("access_token", gettext_lazy("Access token"), True),
        ("app_secret", gettext_lazy("App secret (checks the delivery reports)"), True),
        ("verify_token", gettext_lazy("Webhook verify token"), True),
    ],
    "sms": [
        ("url", gettext_lazy("Gateway address (https://…)"), False),
        ("api_key", gettext_lazy("API key"), True),
        ("sender", gettext_lazy("Sender name"), False),
        ("callback_secret", gettext_lazy("Delivery report secret"), True),
    ],
    "email": [
        ("host", gettext_lazy("SMTP server"), False),
        ("port", gettext_lazy("Port"), False),
        ("username", gettext_lazy("User name"), False),
        ("password", gettext_lazy("Password"), True),
        ("use_tls", gettext_lazy("Use STARTTLS (yes/no)"), False),
        ("from_email", gettext_lazy("Sender address"), False),
        ("reply_to", gettext_lazy("Reply-to address"), False),
    ],
}
TITLES = {
    "whatsapp": gettext_lazy("WhatsApp Business (Cloud API)"),
    "sms": gettext_lazy("SMS gateway"),
    "email": gettext_lazy("E-mail (SMTP)"),
}
TEST_BODY = gettext_lazy("Test message from Langganan: this channel works.")


def channel_form(channel: str, account: ChannelAccount | None, data=None) -> forms.Form:
    """A form of the channel's settings; secrets start empty (empty keeps what is stored)."""
    fields: dict[str, forms.Field] = {}
    for key, label, secret in FIELDS[channel]:
        widget = forms.PasswordInput(render_value=False) if secret else forms.TextInput
        help_text = ""
        if secret and account is not None and account.settings.get(key):
            help_text = _("Stored. Leave empty to keep it.")
        fields[key] = forms.CharField(
            label=label, required=False, max_length=500, widget=widget, help_text=help_text
        )
    fields["price_per_message"] = forms.DecimalField(
        label=_("Price per message (Rp)"), min_value=0, max_digits=12, decimal_places=2
    )
    fields["is_active"] = forms.BooleanField(label=_("Send through this channel"), required=False)
    form_class = type(f"{channel.title()}Form", (forms.Form,), fields)
    initial = {"price_per_message": Decimal("0"), "is_active": True}
    if account is not None:
        initial = {
            key: account.settings.get(key, "")
            for key, _label, secret in FIELDS[channel]
            if not secret
        }
        initial["price_per_message"] = account.price_per_message.quantize(Decimal(1))
        initial["is_active"] = account.is_active
    return form_class(data, initial=initial, prefix=channel)


def _accounts(merchant) -> dict[str, ChannelAccount]:
    return {a.channel: a for a in ChannelAccount.objects.filter(merchant=merchant)}


def _page(request, merchant, membership, forms_by_channel=None, status=200, tested=None):
    accounts = _accounts(merchant)
    cards = []
    for channel in FIELDS:
        form = (forms_by_channel or {}).get(channel) or channel_form(channel, accounts.get(channel))
        cards.append(
            {
                "channel": channel,
                "title": TITLES[channel],
                "account": accounts.get(channel),
                "form": form,
                "tested": tested if tested and tested["channel"] == channel else None,
            }
        )
    return _render_for_merchant(
        request, merchant, membership, "campaigns/channels.html", {"cards": cards}, status=status
    )


@merchant_view
@require_safe
def channels(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    return _page(request, merchant, membership)


@merchant_view
@require_POST
def channel_save(request, slug: str, channel: str):
    if channel not in FIELDS:
        raise Http404
    merchant, membership = merchant_for_request(request, slug)
    account = _accounts(merchant).get(channel)
    form = channel_form(channel, account, request.POST)
    if not form.is_valid():
        return _page(request, merchant, membership, {channel: form}, status=400)
    stored = dict(account.settings) if account is not None else {}
    for key, _label, secret in FIELDS[channel]:
        value = form.cleaned_data[key].strip()
        if secret and not value:
            continue  # empty keeps the stored secret
        if value:
            stored[key] = value
        else:
            stored.pop(key, None)
    ChannelAccount.objects.update_or_create(
        merchant=merchant,
        channel=channel,
        defaults={
            "settings": stored,
            "price_per_message": form.cleaned_data["price_per_message"],
            "is_active": form.cleaned_data["is_active"],
        },
    )
    messages.success(request, _("%(channel)s saved.") % {"channel": TITLES[channel]})
    url = reverse("campaigns_web:channels", args=[merchant.slug])
    return redirect(f"{url}#channel-{channel}")


@merchant_view
@require_POST
def channel_test(request, slug: str, channel: str):
    """Send one test message to the address the owner types, through the stored settings."""
    if channel not in FIELDS:
        raise Http404
    merchant, membership = merchant_for_request(request, slug)
    account = _accounts(merchant).get(channel)
    to = request.POST.get("to", "").strip()[:200]
    tested = {"channel": channel, "ok": False, "text": ""}
    if account is None:
        tested["text"] = _("Save the settings first.")
    elif channel == "email" and "@" not in to:
        tested["text"] = _("Enter your e-mail address.")
    elif channel != "email" and not _phone(to):
        tested["text"] = _("Enter your phone number, e.g. 0812-3456-7890.")
    else:
        outgoing = Outgoing(
            message_id=0,
            to=to if channel == "email" else _phone(to),
            body=str(TEST_BODY),
            subject=str(TEST_BODY),
        )
        try:
            result = adapter_for(account).send(outgoing)
        except SendError as exc:
            tested["text"] = _("The provider refused: %(reason)s") % {"reason": str(exc)[:300]}
        except Exception as exc:  # noqa: BLE001 — a wrong host or port: say so, never a 500
            tested["text"] = _("Could not reach the provider: %(reason)s") % {
                "reason": str(exc)[:300] or exc.__class__.__name__
            }
        else:
            tested = {
                "channel": channel,
                "ok": True,
                "text": _("Sent. The provider's message id: %(id)s") % {"id": result.provider_id},
            }
    return _page(request, merchant, membership, tested=tested, status=200 if tested["ok"] else 400)


def _phone(text: str) -> str | None:
    try:
        return normalize_phone(text)
    except ValueError:
        return None
