"""Campaign pages of the dashboard: campaigns with their ROI, audiences, message templates.

Views parse input, call one service or selector, and render. Owners and managers only (the
pages show customers: samples, previews, recipients): the rule of each page is in
langganan.web.permissions, applied by merchant_view. Another merchant's campaign, audience or
template is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from langganan.core.errors import InvalidInput, LanggananError, NotFound
from langganan.core.jobs.selectors import worker_running
from langganan.core.models import Role
from langganan.core.selectors import merchants_for_user
from langganan.customers.forms import CustomerFilterForm, filter_chips, form_data
from langganan.customers.listing import filters_as_query
from langganan.privacy import audit
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone

from . import audiences, selectors, services, templating
from .forms import AudienceForm, CampaignForm, TemplateForm, show_error
from .holidays_calendar import HOLIDAYS, holiday_name
from .models import Campaign, CampaignStatus
from .roi import campaign_report

MANAGING_ROLES = (Role.OWNER, Role.MANAGER)
SAMPLE_SIZE = 10
SEARCH_MAX_LENGTH = 100


def _render(request, merchant, membership, template: str, context: dict, status: int = 200):
    """Render in the merchant's time zone, with what the page header needs."""
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        "can_manage": membership.role in MANAGING_ROLES,
        "worker_missing": not worker_running(),
        **context,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, template, context, status=status)


def _require_manager(membership) -> None:
    if membership.role not in MANAGING_ROLES:
        raise PermissionDenied


def _language() -> str:
    return "en" if (translation.get_language() or "id").startswith("en") else "id"


def _get(getter, **kwargs):
    try:
        return getter(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _preview(request, merchant, campaign: Campaign) -> dict:
    """The preview part of a page: customers to choose from and the chosen one's message."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    language = "en" if request.GET.get("language") == "en" else "id"
    choices = selectors.preview_customer_choices(merchant=merchant, query=query)
    customer_id = _int(request.GET.get("customer"))
    customer = None
    if customer_id is None and query and choices:
        customer = choices[0]
    elif customer_id is not None:
        customer = _get(selectors.preview_customer_get, merchant=merchant, customer_id=customer_id)
    rendered = error = None
    if customer is not None:
        audit.record(request, merchant, "message.preview", customer, campaign=campaign.pk)
        try:
            rendered = services.message_preview(
                campaign=campaign, customer=customer, language=language
            )
        except LanggananError as exc:
            error = exc.message
    return {
        "preview_q": query,
        "preview_language": language,
        "preview_choices": choices,
        "preview_customer": customer,
        "preview": rendered,
        "preview_error": error,
    }


# --- campaigns -------------------------------------------------------------------------------


@merchant_view
@require_safe
def campaign_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    campaigns = list(selectors.campaign_list(merchant=merchant))
    conversions = selectors.campaign_conversions(merchant=merchant, campaigns=campaigns)
    rows = [(c, conversions.get(c.pk)) for c in campaigns]
    return _render(request, merchant, membership, "campaigns/campaign_list.html", {"rows": rows})


@merchant_view
@require_safe
def campaign_detail(request, slug: str, pk: int):
    merchant, membership = merchant_for_request(request, slug)
    campaign = _get(selectors.campaign_get, merchant=merchant, campaign_id=pk)
    report = campaign_report(campaign=campaign)
    context = {
        "campaign": campaign,
        "report": report,
        "report_groups": [(_("Treated"), report.treated), (_("Holdout"), report.holdout)],
        "recipients": selectors.recipients_summary(campaign=campaign),
        "status_counts": selectors.message_status_counts(campaign=campaign),
        "sample": selectors.message_sample(campaign=campaign),
        "can_activate": campaign.status in (CampaignStatus.DRAFT, CampaignStatus.PAUSED),
        "can_pause": campaign.status == CampaignStatus.ACTIVE,
        "holiday_label": (
            holiday_name(campaign.holiday, _language()) if campaign.holiday in HOLIDAYS else ""
        ),
    }
    return _render(request, merchant, membership, "campaigns/campaign_detail.html", context)


@merchant_view
@require_safe
def campaign_preview(request, slug: str, pk: int):
    merchant, membership = merchant_for_request(request, slug)
    campaign = _get(selectors.campaign_get, merchant=merchant, campaign_id=pk)
    context = {"campaign": campaign, **_preview(request, merchant, campaign)}
    return _render(request, merchant, membership, "campaigns/campaign_preview.html", context)


def _campaign_command(request, slug: str, pk: int, command: str):
    merchant, membership = merchant_for_request(request, slug)
    campaign = _get(selectors.campaign_get, merchant=merchant, campaign_id=pk)
    _require_manager(membership)
    try:
        if command == "activate":
            services.campaign_activate(campaign=campaign, now=timezone.now())
            messages.success(request, _("The campaign is active."))
        else:
            services.campaign_pause(campaign=campaign)
            messages.success(request, _("The campaign is paused."))
    except LanggananError as exc:
        messages.error(request, exc.message)
    return redirect("campaigns_web:campaign_detail", slug=merchant.slug, pk=campaign.pk)


@merchant_view
@require_POST
def campaign_activate(request, slug: str, pk: int):
    return _campaign_command(request, slug, pk, "activate")


@merchant_view
@require_POST
def campaign_pause(request, slug: str, pk: int):
    return _campaign_command(request, slug, pk, "pause")


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_create(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    _require_manager(membership)
    initial = {}
    if request.method != "POST" and request.GET.get("audience", "").isdigit():
        # "start a campaign" from a customer list saved as an audience: that audience chosen
        audience = _get(
            selectors.audience_get, merchant=merchant, audience_id=int(request.GET["audience"])
        )
        initial["audience"] = audience.pk
    form = CampaignForm(request.POST or None, merchant=merchant, initial=initial)
    if request.method == "POST" and form.is_valid():
        options = form.options()
        try:
            with timezone.override(merchant_zone(merchant)):
                campaign = services.campaign_create(
                    merchant=merchant,
                    name=options.pop("name"),
                    kind=options.pop("kind"),
                    channel=options.pop("channel"),
                    template=options.pop("template"),
                    audience=options.pop("audience"),
                    **options,
                )
        except LanggananError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Campaign saved as a draft."))
            return redirect("campaigns_web:campaign_detail", slug=merchant.slug, pk=campaign.pk)
    return _render(
        request,
        merchant,
        membership,
        "campaigns/campaign_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# --- audiences -------------------------------------------------------------------------------


@merchant_view
@require_safe
def audience_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    audience_rows = list(selectors.audience_list(merchant=merchant))
    # each audience's filters in words and how many customers are in it now
    form = CustomerFilterForm(merchant=merchant)
    with timezone.override(merchant_zone(merchant)):
        for audience in audience_rows:
            audience.chips = filter_chips(form, audience.filters or {})
            try:
                audience.size = audiences.audience_count(
                    merchant=merchant, filters=audience.filters
                )
            except InvalidInput:
                audience.size = None
    return _render(
        request, merchant, membership, "campaigns/audience_list.html", {"audiences": audience_rows}
    )


def _audience_builder(request, slug: str, pk: int | None):
    merchant, membership = merchant_for_request(request, slug)
    audience = _get(selectors.audience_get, merchant=merchant, audience_id=pk) if pk else None
    count = sample = save_params = None
    if request.method == "POST":
        _require_manager(membership)
        form = AudienceForm(form_data(request.POST), merchant=merchant)
        if form.is_valid() and not form.cleaned_data["name"].strip():
            form.add_error("name", _("Give the audience a name to save it."))
        if form.is_valid():
            try:
                if audience is None:
                    audience = services.audience_create(
                        merchant=merchant, name=form.cleaned_data["name"], filters=form.filters()
                    )
                else:
                    services.audience_update(
                        audience=audience, name=form.cleaned_data["name"], filters=form.filters()
                    )
            except LanggananError as exc:
                show_error(form, exc)
            else:
                messages.success(request, _("Audience saved."))
                if request.POST.get("then") == "campaign":
                    url = reverse("campaigns_web:campaign_create", args=[merchant.slug])
                    return redirect(f"{url}?audience={audience.pk}")
                return redirect("campaigns_web:audience_list", slug=merchant.slug)
    elif set(request.GET) - {"then"}:
        form = AudienceForm(form_data(request.GET), merchant=merchant)
    else:
        initial = AudienceForm.initial_from(audience) if audience else {}
        form = AudienceForm(initial=initial, merchant=merchant)
    # the live count and sample: of the submitted filters, or of the saved ones
    filters = None
    if form.is_bound and form.filters_valid():
        filters = form.filters()
    elif not form.is_bound:
        filters = audience.filters if audience else {}
    if filters is not None:
        save_params = filters_as_query(filters)
        try:
            with timezone.override(merchant_zone(merchant)):
                count = audiences.audience_count(merchant=merchant, filters=filters)
                sample = audiences.audience_sample(
                    merchant=merchant, filters=filters, size=SAMPLE_SIZE
                )
        except InvalidInput as exc:
            show_error(form, exc)
    return _render(
        request,
        merchant,
        membership,
        "campaigns/audience_form.html",
        {
            "form": form,
            "audience": audience,
            "count": count,
            "sample": sample,
            "save_params": save_params,
            "then": (request.POST or request.GET).get("then") == "campaign",
        },
        status=400 if form.errors else 200,
    )


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def audience_create(request, slug: str):
    return _audience_builder(request, slug, None)


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def audience_edit(request, slug: str, pk: int):
    return _audience_builder(request, slug, pk)


# --- message templates -----------------------------------------------------------------------


@merchant_view
@require_safe
def template_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    templates = list(selectors.template_list(merchant=merchant))
    return _render(
        request, merchant, membership, "campaigns/template_list.html", {"templates": templates}
    )


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def template_create(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    _require_manager(membership)
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(merchant=merchant, **form.cleaned_data)
        except LanggananError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Template saved. Preview it with a customer below."))
            return redirect("campaigns_web:template_detail", slug=merchant.slug, pk=template.pk)
    return _render(
        request,
        merchant,
        membership,
        "campaigns/template_form.html",
        {"form": form, "fields": templating.field_help(_language())},
        status=400 if form.errors else 200,
    )


@merchant_view
@require_safe
def template_detail(request, slug: str, pk: int):
    """A template with its preview for a real customer (as a broadcast over ``channel``)."""
    merchant, membership = merchant_for_request(request, slug)
    template = _get(selectors.template_get, merchant=merchant, template_id=pk)
    channel = request.GET.get("channel", "whatsapp")
    if channel not in ("email", "whatsapp", "sms"):
        channel = "whatsapp"
    draft = Campaign(merchant=merchant, template=template, channel=channel, kind="broadcast")
    context = {"template": template, "channel": channel, **_preview(request, merchant, draft)}
    return _render(request, merchant, membership, "campaigns/template_detail.html", context)
