"""Staff pages for manual WhatsApp: the queue of wa.me links, and opening one (marks it sent).
Owners and managers only (names and phone numbers): see langganan.web.permissions."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from langganan.core.errors import NotFound
from langganan.web.access import merchant_for_request, merchant_view
from langganan.web.views import _render_for_merchant

from .channels.manual import manual_mark_sent, manual_queue, wa_me_link
from .models import Campaign, MessageStatus


@merchant_view
@require_safe
def manual_list(request, slug: str):
    """The queued manual WhatsApp messages, each with its wa.me link (``?campaign=<id>``
    narrows it to one campaign of the merchant)."""
    merchant, membership = merchant_for_request(request, slug)
    campaign = None
    campaign_id = request.GET.get("campaign", "")
    if campaign_id:
        campaign = Campaign.objects.filter(
            merchant=merchant, pk=campaign_id if campaign_id.isdigit() else 0
        ).first()
        if campaign is None:
            raise Http404
    queue = manual_queue(merchant=merchant, campaign=campaign)
    rows = [(message, wa_me_link(message.to, message.body)) for message in queue]
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "campaigns/manual_queue.html",
        {"rows": rows, "campaign": campaign},
    )


@merchant_view
@require_POST
def manual_open(request, slug: str, message_id: int):
    """Mark the message sent and open WhatsApp with it typed in."""
    merchant, _membership = merchant_for_request(request, slug)
    try:
        message = manual_mark_sent(merchant=merchant, message_id=message_id, at=timezone.now())
    except NotFound as exc:
        raise Http404 from exc
    if message.status == MessageStatus.SUPPRESSED:
        flash.warning(request, _("This customer no longer wants WhatsApp messages; not sent."))
        return redirect("campaigns:manual_list", slug=merchant.slug)
    if message.status not in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
        flash.warning(request, _("This message can no longer be sent."))
        return redirect("campaigns:manual_list", slug=merchant.slug)
    return redirect(wa_me_link(message.to, message.body))
