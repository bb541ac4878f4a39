"""What customers and channels send back: channel webhooks and the opt-out page.

No login: the WhatsApp and SMS webhooks are called by the providers, the opt-out page by
customers. The tenant comes from the URL — the :class:`~.models.ChannelAccount` for a webhook,
the signed token for the opt-out page — and every request proves itself:

- **WhatsApp** (Cloud API): ``GET`` is the subscription check (``hub.verify_token`` must equal
  the account's ``verify_token``; the answer is ``hub.challenge``); ``POST`` carries
  ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the account's app_secret>``.
- **SMS** (generic gateway): ``POST`` carries ``X-Langganan-Signature: <hex HMAC-SHA256 of the
  raw body with the account's callback_secret>`` (a ``sha256=`` prefix is accepted).

An account without its secret refuses every callback (403): an unsigned STOP could otherwise
unsubscribe anybody. Malformed JSON is a 400; anything well-formed is a 200, even when nothing in
it concerns us, so the provider does not retry it forever.

The opt-out link (``/c/optout/<token>/``) shows a confirmation page; its ``POST`` (the page's
button, or a mail app's RFC 8058 one-click ``List-Unsubscribe=One-Click``) withdraws consent.
It is CSRF-exempt because one-click POSTs come without cookies; the signed token is what
authorises it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from langganan.core.errors import InvalidInput
from langganan.customers.models import Channel, Customer

from .callbacks import CallbackReport, sms_callback_apply, whatsapp_callback_apply
from .models import ChannelAccount
from .optout import opt_out_read, opt_out_record

logger = logging.getLogger(__name__)

OPT_OUT_LINK_SOURCE = "opt-out link"
MAX_BODY_BYTES = 1024 * 1024
ERR_NOT_FOUND = "No such channel account."
ERR_SIGNATURE = "Bad or missing signature."
ERR_NOT_CONFIGURED = "This channel account has no webhook secret configured."
ERR_VERIFY = "Verification failed."
ERR_JSON = "The body is not valid JSON."
ERR_TOO_LARGE = "The body is too large."


def _account(account_id: int, channel: str) -> ChannelAccount | None:
    # inactive accounts still take callbacks: a STOP must count after sending was switched off
    return ChannelAccount.objects.filter(pk=account_id, channel=channel).first()


def _signature_ok(*, secret: str, body: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def _callback(request, account: ChannelAccount, *, secret_key: str, header: str, apply):
    """Check the signature, parse the JSON, apply it; the HTTP answer."""
    secret = str(account.settings.get(secret_key) or "")
    if not secret:
        logger.warning("%s callback for account %s refused: no %s", account, account.pk, secret_key)
        return HttpResponseForbidden(ERR_NOT_CONFIGURED, content_type="text/plain")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse(ERR_TOO_LARGE, status=413, content_type="text/plain")
    if not _signature_ok(secret=secret, body=body, header=request.headers.get(header, "")):
        return HttpResponseForbidden(ERR_SIGNATURE, content_type="text/plain")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(ERR_JSON, status=400, content_type="text/plain")
    report: CallbackReport = apply(account=account, payload=payload)
    return JsonResponse({"statuses": report.statuses, "opt_outs": report.opt_outs})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request, account_id: int):
    account = _account(account_id, Channel.WHATSAPP)
    if account is None:
        return HttpResponse(ERR_NOT_FOUND, status=404, content_type="text/plain")
    if request.method == "GET":
        token = str(account.settings.get("verify_token") or "")
        given = request.GET.get("hub.verify_token", "")
        if (
            request.GET.get("hub.mode") == "subscribe"
            and token
            and hmac.compare_digest(given.encode(), token.encode())
        ):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden(ERR_VERIFY, content_type="text/plain")
    return _callback(
        request,
        account,
        secret_key="app_secret",
        header="X-Hub-Signature-256",
        apply=whatsapp_callback_apply,
    )


@csrf_exempt
@require_http_methods(["POST"])
def sms_webhook(request, account_id: int):
    account = _account(account_id, Channel.SMS)
    if account is None:
        return HttpResponse(ERR_NOT_FOUND, status=404, content_type="text/plain")
    return _callback(
        request,
        account,
        secret_key="callback_secret",
        header="X-Langganan-Signature",
        apply=sms_callback_apply,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def opt_out(request, token: str):
    """The opt-out link: confirm (GET), then withdraw consent (POST, also one-click)."""
    try:
        customer_id, channel = opt_out_read(token)
    except InvalidInput:
        customer = None
    else:
        customer = Customer.objects.select_related("merchant").filter(pk=customer_id).first()
    if customer is None:
        return render(request, "campaigns/optout_invalid.html", status=404)
    context = {
        "merchant": customer.merchant,
        "channel": channel,
        "channel_label": Channel(channel).label,
    }
    if request.method == "POST":
        opt_out_record(customer=customer, channel=channel, source=OPT_OUT_LINK_SOURCE)
        return render(request, "campaigns/optout_done.html", context)
    return render(request, "campaigns/optout.html", context)
