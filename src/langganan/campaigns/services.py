"""Campaign writes: templates, audiences, campaigns, and running a campaign's trigger.

Running a campaign (:func:`campaign_run`) is one database transaction per campaign, holding the
campaign's row lock so two runs of the same campaign queue one after the other:

1. the kind's trigger says who is due, for which occasion (:mod:`.triggers`);
2. pairs already assigned are dropped; so are customers who cannot be messaged now — no consent
   for the campaign's channel, no phone or email, or over the frequency cap — *before* the
   holdout draw, so treated and holdout come from the same eligible population;
3. each remaining customer is drawn into the holdout with the campaign's probability (a hash of
   campaign, customer and occasion: reproducible, and independent of everything else);
4. treated customers get their offer (a personal voucher from the template, bonus points) and a
   rendered message in the outbox, written in this same transaction; holdout customers get
   nothing but their recipient row.

The worker (:mod:`.delivery`) sends the outbox; consent is checked again at that moment.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from langganan.core.bulk import db_value, insert_rows
from langganan.core.errors import Conflict, InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import Channel, Customer

from . import audiences, guardrails, templating
from .holidays_calendar import ERR_UNKNOWN_HOLIDAY, HOLIDAYS
from .links import opt_out_url
from .models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Group,
    Message,
    MessageStatus,
    MessageTemplate,
    Recipient,
)
from .personalise import Person, customer_values, offer_values, people
from .triggers import DUE, Due

ERR_NAME_TAKEN = "There is already a {what} with this name."
ERR_NAME_EMPTY = "The name is empty."
ERR_KIND = "Unknown campaign kind {kind!r}."
ERR_CHANNEL = "Unknown channel {channel!r}."
ERR_OTHER_MERCHANT = "The {what} belongs to another merchant."
ERR_HOLIDAY_MISSING = "A holiday campaign needs a holiday."
ERR_VOUCHER_NOT_TEMPLATE = "The voucher must be a template voucher (copied into personal codes)."
ERR_HOLDOUT = "The holdout must be at least 0 % and below 100 %."
ERR_MANUAL_CHANNEL = "Manual WhatsApp campaigns use the WhatsApp channel."
ERR_FINISHED = "This campaign has finished."
ERR_NOT_ACTIVE = "Only an active campaign can run."
ERR_BODY_TOO_LONG = "The message is longer than {limit} characters."

logger = logging.getLogger(__name__)

CHUNK = 2000
SMS_LIMIT = 918  # six concatenated 153-character parts


# -- templates and audiences -----------------------------------------------------------------


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(ERR_NAME_EMPTY, field="name")
    return name


@transaction.atomic
def template_create(
    *,
    merchant: Merchant,
    name: str,
    body_id: str,
    body_en: str = "",
    subject_id: str = "",
    subject_en: str = "",
    whatsapp_template: str = "",
) -> MessageTemplate:
    """A message template; unknown ``{fields}`` and unbalanced brackets are refused."""
    name = _name(name)
    templating.template_check(body_id)
    for text in (body_en, subject_id, subject_en):
        if text:
            templating.template_check(text)
    if MessageTemplate.objects.filter(merchant=merchant, name=name).exists():
        raise Conflict(ERR_NAME_TAKEN.format(what="template"), field="name")
    return MessageTemplate.objects.create(
        merchant=merchant,
        name=name,
        body_id=body_id.strip(),
        body_en=body_en.strip(),
        subject_id=subject_id.strip(),
        subject_en=subject_en.strip(),
        whatsapp_template=whatsapp_template.strip(),
    )


@transaction.atomic
def audience_create(*, merchant: Merchant, name: str, filters: Any) -> Audience:
    """A saved audience (filters validated, see :mod:`.audiences`)."""
    name = _name(name)
    clean = audiences.filters_clean(filters)
    if Audience.objects.filter(merchant=merchant, name=name).exists():
        raise Conflict(ERR_NAME_TAKEN.format(what="audience"), field="name")
    return Audience.objects.create(merchant=merchant, name=name, filters=clean)


@transaction.atomic
def audience_update(
    *, audience: Audience, name: str | None = None, filters: Any = None
) -> Audience:
    if name is not None:
        name = _name(name)
        clash = Audience.objects.filter(merchant_id=audience.merchant_id, name=name)
        if clash.exclude(pk=audience.pk).exists():
            raise Conflict(ERR_NAME_TAKEN.format(what="audience"), field="name")
        audience.name = name
    if filters is not None:
        audience.filters = audiences.filters_clean(filters)
    audience.save()
    return audience


# -- campaigns -------------------------------------------------------------------------------

_OPTIONS = {
    "language",
    "manual_whatsapp",
    "outlet",
    "voucher_template",
    "voucher_valid_days",
    "bonus_points",
    "send_at",
    "days_before",
    "holiday",
    "holdout_percent",
    "attribution_days",
    "status",
}


@transaction.atomic
def campaign_create(
    *,
    merchant: Merchant,
    name: str,
    kind: str,
    channel: str,
    template: MessageTemplate,
    audience: Audience | None = None,
    **options: Any,
) -> Campaign:
    """A campaign (a draft unless ``status="active"``); options are :class:`Campaign` fields."""
    unknown = set(options) - _OPTIONS
    if unknown:
        raise InvalidInput(f"Unknown campaign option(s): {', '.join(sorted(unknown))}.")
    name = _name(name)
    if kind not in CampaignKind.values:
        raise InvalidInput(ERR_KIND.format(kind=kind), field="kind")
    if channel not in Channel.values:
        raise InvalidInput(ERR_CHANNEL.format(channel=channel), field="channel")
    if template.merchant_id != merchant.pk:
        raise InvalidInput(ERR_OTHER_MERCHANT.format(what="template"), field="template")
    if audience is not None and audience.merchant_id != merchant.pk:
        raise InvalidInput(ERR_OTHER_MERCHANT.format(what="audience"), field="audience")
    voucher = options.get("voucher_template")
    if voucher is not None:
        if voucher.merchant_id != merchant.pk:
            raise InvalidInput(ERR_OTHER_MERCHANT.format(what="voucher"), field="voucher_template")
        if not voucher.is_template:
            raise InvalidInput(ERR_VOUCHER_NOT_TEMPLATE, field="voucher_template")
    outlet = options.get("outlet")
    if outlet is not None and outlet.merchant_id != merchant.pk:
        raise InvalidInput(ERR_OTHER_MERCHANT.format(what="outlet"), field="outlet")
    if kind == CampaignKind.HOLIDAY:
        key = options.get("holiday") or ""
        if not key:
            raise InvalidInput(ERR_HOLIDAY_MISSING, field="holiday")
        if key not in HOLIDAYS:
            raise InvalidInput(
                ERR_UNKNOWN_HOLIDAY.format(key=key, keys=", ".join(HOLIDAYS)), field="holiday"
            )
    holdout = Decimal(str(options.get("holdout_percent", "10")))
    if not Decimal("0") <= holdout < Decimal("100"):
        raise InvalidInput(ERR_HOLDOUT, field="holdout_percent")
    options["holdout_percent"] = holdout
    if options.get("manual_whatsapp") and channel != Channel.WHATSAPP:
        raise InvalidInput(ERR_MANUAL_CHANNEL, field="manual_whatsapp")
    has_voucher = voucher is not None or kind == CampaignKind.WELCOME
    templating.template_check(template.body_id, has_voucher=has_voucher)
    if template.body_en:
        templating.template_check(template.body_en, has_voucher=has_voucher)
    if Campaign.objects.filter(merchant=merchant, name=name).exists():
        raise Conflict(ERR_NAME_TAKEN.format(what="campaign"), field="name")
    status = options.pop("status", CampaignStatus.DRAFT)
    campaign = Campaign.objects.create(
        merchant=merchant,
        name=name,
        kind=kind,
        channel=channel,
        template=template,
        audience=audience,
        **options,
    )
    if status == CampaignStatus.ACTIVE:
        campaign_activate(campaign=campaign, now=timezone.now())
    return campaign


@transaction.atomic
def campaign_activate(*, campaign: Campaign, now: datetime) -> Campaign:
    """Start (or resume) the campaign; triggers count from the first start.

    A broadcast that has already run resumes as finished: its held messages go out, and it is
    not run again.
    """
    if campaign.status == CampaignStatus.FINISHED:
        raise Conflict(ERR_FINISHED)
    ran = campaign.kind == CampaignKind.BROADCAST and campaign.last_run_at is not None
    campaign.status = CampaignStatus.FINISHED if ran else CampaignStatus.ACTIVE
    campaign.started_at = campaign.started_at or now
    campaign.save(update_fields=["status", "started_at"])
    if campaign.status == CampaignStatus.ACTIVE:
        campaign_id = campaign.pk
        transaction.on_commit(lambda: _run_soon(campaign_id))
    return campaign


def _run_soon(campaign_id: int) -> None:
    """Ask the worker to run a campaign just activated now, not at the next triggers schedule
    (up to 15 minutes later). A queue that cannot be reached leaves it to that schedule."""
    from django_q.tasks import async_task

    try:
        async_task(
            "langganan.campaigns.services.campaign_run_queued",
            campaign_id,
            task_name=f"campaign {campaign_id}: run on activation",
        )
    except Exception:  # the activation stands; the schedule runs the campaign later
        logger.exception("campaign %s: could not queue its first run", campaign_id)


def campaign_run_queued(campaign_id: int) -> dict[str, object]:
    """The worker's task queued by :func:`campaign_activate`: run the campaign if it is still
    active (it may have been paused, finished or deleted meanwhile)."""
    campaign = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.ACTIVE).first()
    if campaign is None:
        return {"campaign": campaign_id, "ran": False}
    try:
        report = campaign_run(campaign=campaign)
    except Conflict:  # paused or finished meanwhile
        return {"campaign": campaign_id, "ran": False}
    return {"campaign": campaign_id, "ran": True, "queued": report.queued}


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Stop the campaign: nothing new is queued and queued messages wait until it resumes.

    A finished broadcast can still be paused while some of its messages wait to be sent.
    """
    holding = campaign.messages.filter(status=MessageStatus.QUEUED).exists()
    if campaign.status == CampaignStatus.FINISHED and not holding:
        raise Conflict(ERR_FINISHED)
    campaign.status = CampaignStatus.PAUSED
    campaign.save(update_fields=["status"])
    return campaign


# -- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunReport:
    campaign_id: int
    due: int = 0
    already: int = 0
    no_consent: int = 0
    no_address: int = 0
    capped: int = 0
    open_complaint: int = 0
    treated: int = 0
    holdout: int = 0
    queued: int = 0


def in_holdout(*, campaign_id: int, customer_id: int, occasion: str, percent: Decimal) -> bool:
    """The holdout draw: a uniform number from a hash of (campaign, customer, occasion)."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}:{occasion}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return u * 100 < float(percent)


def _address(customer: Customer | Person, channel: str) -> str:
    if channel == Channel.EMAIL:
        return (customer.email or "").strip()
    return customer.phone or ""


def _drop_assigned(campaign: Campaign, due: list[Due]) -> list[Due]:
    """``due`` without the (customer, occasion) pairs already assigned, nor repeats; one query
    per chunk of customers, however many occasions (a win-back has one per last-purchase day)."""
    ids = sorted({d.customer_id for d in due})
    taken: set[tuple[int, str]] = set()
    for start in range(0, len(ids), 5000):
        taken.update(
            Recipient.objects.filter(
                campaign=campaign, customer_id__in=ids[start : start + 5000]
            ).values_list("customer_id", "occasion")
        )
    seen: set[tuple[int, str]] = set()
    fresh = []
    for d in due:
        key = (d.customer_id, d.occasion)
        if key not in taken and key not in seen:
            seen.add(key)
            fresh.append(d)
    return fresh


def _welcome_voucher(customer: Customer, now: datetime):
    from langganan.loyalty.models import Member, Voucher
    from langganan.loyalty.vouchers import WELCOME_BATCH, voucher_issue_welcome

    existing = (
        Voucher.objects.filter(
            merchant_id=customer.merchant_id, customer=customer, batch=WELCOME_BATCH
        )
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    member = Member.objects.filter(customer=customer).first()
    return voucher_issue_welcome(member=member, at=now) if member is not None else None


@dataclass(slots=True)
class _Assignment:
    customer_id: int
    occasion: str
    group: str
    voucher: Any = None
    bonus_points: int = 0


def _give_offers(campaign: Campaign, treated: list[_Assignment], now: datetime) -> None:
    """Vouchers and bonus points for the treated recipients (inside the run's transaction)."""
    from langganan.loyalty.models import Member
    from langganan.loyalty.points import points_earn
    from langganan.loyalty.vouchers import voucher_issue_bulk

    if not treated:
        return
    if campaign.voucher_template_id:
        by_occasion: dict[str, list[_Assignment]] = {}
        for a in treated:
            by_occasion.setdefault(a.occasion, []).append(a)
        for occasion, group in by_occasion.items():
            batch = f"campaign-{campaign.pk}" + (f"-{occasion}" if occasion else "")
            issued = voucher_issue_bulk(
                template=campaign.voucher_template,
                customers=[
                    Customer(pk=a.customer_id, merchant_id=campaign.merchant_id) for a in group
                ],
                at=now,
                batch=batch[:64],
                valid_days=campaign.voucher_valid_days,
            )
            by_customer = {v.customer_id: v for v in issued}
            for a in group:
                a.voucher = by_customer.get(a.customer_id)
    needs_profiles = campaign.kind == CampaignKind.WELCOME or campaign.bonus_points
    if not needs_profiles:
        return
    customers = Customer.objects.select_related("merchant").in_bulk(
        [a.customer_id for a in treated]
    )
    if campaign.kind == CampaignKind.WELCOME and not campaign.voucher_template_id:
        for a in treated:
            a.voucher = _welcome_voucher(customers[a.customer_id], now)
    if campaign.bonus_points:
        members = set(
            Member.objects.filter(customer_id__in=list(customers)).values_list(
                "customer_id", flat=True
            )
        )
        for a in treated:
            if a.customer_id in members:
                points_earn(
                    customer=customers[a.customer_id],
                    points=campaign.bonus_points,
                    key=f"campaign:{campaign.pk}:{a.customer_id}:{a.occasion}",
                    at=now,
                    kind="bonus",
                    memo=campaign.name[:100],
                )
                a.bonus_points = campaign.bonus_points


def campaign_run(*, campaign: Campaign, now: datetime | None = None) -> RunReport:
    """Assign who is due now and queue their messages (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("merchant", "template", "voucher_template", "outlet", "audience")
            .get(pk=campaign.pk)
        )
        if campaign.status != CampaignStatus.ACTIVE:
            raise Conflict(ERR_NOT_ACTIVE)
        due_all = DUE[CampaignKind(campaign.kind)](campaign, now)
        due = _drop_assigned(campaign, due_all)
        counts = {"due": len(due_all), "already": len(due_all) - len(due)}
        policy = guardrails.policy_for(campaign.merchant)
        ids = sorted({d.customer_id for d in due})
        consenting = guardrails.consented_ids(
            merchant=campaign.merchant, channel=campaign.channel, customer_ids=ids
        )
        capped = guardrails.capped_ids(policy=policy, customer_ids=consenting, now=now)
        complained = guardrails.open_complaint_ids(
            merchant=campaign.merchant, customer_ids=consenting
        )
        persons = people(sorted(consenting))
        no_consent = no_address = over_cap = open_complaint = 0
        eligible: list[Due] = []
        for d in due:
            person = persons.get(d.customer_id)
            if person is None:
                no_consent += 1
            elif not _address(person, campaign.channel):
                no_address += 1
            elif d.customer_id in complained:
                open_complaint += 1
            elif d.customer_id in capped:
                over_cap += 1
            else:
                eligible.append(d)
        assignments = [
            _Assignment(
                d.customer_id,
                d.occasion,
                Group.HOLDOUT
                if in_holdout(
                    campaign_id=campaign.pk,
                    customer_id=d.customer_id,
                    occasion=d.occasion,
                    percent=campaign.holdout_percent,
                )
                else Group.TREATED,
            )
            for d in eligible
        ]
        treated = [a for a in assignments if a.group == Group.TREATED]
        _give_offers(campaign, treated, now)
        at = db_value(Recipient, "assigned_at", now)
        insert_rows(
            Recipient,
            (
                "merchant",
                "campaign",
                "customer",
                "occasion",
                "group",
                "assigned_at",
                "voucher",
                "bonus_points",
            ),
            (
                (
                    campaign.merchant_id,
                    campaign.pk,
                    a.customer_id,
                    a.occasion,
                    a.group,
                    at,
                    a.voucher.pk if a.voucher is not None else None,
                    a.bonus_points,
                )
                for a in assignments
            ),
        )
        queued = _queue_messages(campaign, treated, eligible, persons, policy, now)
        if campaign.kind == CampaignKind.BROADCAST:
            campaign.status = CampaignStatus.FINISHED
        campaign.last_run_at = now
        campaign.save(update_fields=["status", "last_run_at"])
    return RunReport(
        campaign_id=campaign.pk,
        no_consent=no_consent,
        no_address=no_address,
        capped=over_cap,
        open_complaint=open_complaint,
        treated=len(treated),
        holdout=len(assignments) - len(treated),
        queued=queued,
        **counts,
    )


def _queue_messages(campaign, treated, eligible, persons, policy, now) -> int:
    """Render and write the treated recipients' messages (same transaction as the decision)."""
    if not treated:
        return 0
    due_by_key = {(d.customer_id, d.occasion): d for d in eligible}
    recipient_ids = {
        (customer_id, occasion): pk
        for customer_id, occasion, pk in Recipient.objects.filter(
            campaign=campaign, group=Group.TREATED, message__isnull=True
        ).values_list("customer_id", "occasion", "id")
    }
    created = db_value(Message, "created_at", now)
    send_from = db_value(Message, "next_attempt_at", guardrails.quiet_hours_end(policy, now))
    email = campaign.channel == Channel.EMAIL
    template = campaign.template
    language = campaign.language
    subject, body = template_texts(template, language)
    columns = (
        "merchant",
        "campaign",
        "recipient",
        "customer",
        "channel",
        "manual",
        "to",
        "language",
        "subject",
        "body",
        "template_name",
        "template_params",
        "status",
        "attempts",
        "next_attempt_at",
        "provider_id",
        "last_error",
        "created_at",
    )

    def rows():
        for start in range(0, len(treated), CHUNK):
            chunk = treated[start : start + CHUNK]
            values = customer_values(
                campaign=campaign,
                customers=[persons[a.customer_id] for a in chunk],
                now=now,
                language=language,
            )
            for a in chunk:
                d = due_by_key[(a.customer_id, a.occasion)]
                merged = values[a.customer_id]
                if d.tier:
                    merged["tier"] = d.tier
                if a.voucher is not None or d.expiring_points or d.expiry_date:
                    merged.update(
                        offer_values(
                            voucher=a.voucher,
                            expiring_points=d.expiring_points,
                            expiry_date=d.expiry_date,
                            merchant=campaign.merchant,
                        )
                    )
                url = (
                    opt_out_url(customer_id=a.customer_id, channel=campaign.channel)
                    if email
                    else ""
                )
                rendered = templating.render(
                    subject=subject, body=body, values=merged, language=language, opt_out_url=url
                )
                yield (
                    campaign.merchant_id,
                    campaign.pk,
                    recipient_ids[(a.customer_id, a.occasion)],
                    a.customer_id,
                    campaign.channel,
                    campaign.manual_whatsapp,
                    _address(persons[a.customer_id], campaign.channel),
                    language,
                    rendered.subject,
                    rendered.body,
                    template.whatsapp_template,
                    db_value(Message, "template_params", rendered.params),
                    MessageStatus.QUEUED,
                    0,
                    send_from,
                    "",
                    "",
                    created,
                )

    return insert_rows(Message, columns, rows())


def campaigns_run_due(
    *, merchant: Merchant | None = None, now: datetime | None = None
) -> list[RunReport]:
    """Run every active campaign (of one merchant, or of all); one transaction each."""
    now = now or timezone.now()
    campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE)
    if merchant is not None:
        campaigns = campaigns.filter(merchant=merchant)
    reports = []
    for campaign in campaigns.order_by("id"):
        try:
            reports.append(campaign_run(campaign=campaign, now=now))
        except Conflict:  # paused or finished meanwhile
            continue
    return reports


def template_texts(template: MessageTemplate, language: str) -> tuple[str, str]:
    """(subject, body) in ``language``; the Indonesian text when there is no English one."""
    if language == "en" and template.body_en:
        return template.subject_en or template.subject_id, template.body_en
    return template.subject_id, template.body_id


def message_preview(
    *,
    campaign: Campaign,
    customer: Customer,
    language: str = "id",
    now: datetime | None = None,
) -> templating.Rendered:
    """The campaign's message as this customer would get it (nothing is written).

    Offer fields show an example value (the voucher is issued only when the message is queued).
    """
    if customer.merchant_id != campaign.merchant_id:
        raise InvalidInput(ERR_OTHER_MERCHANT.format(what="customer"), field="customer")
    now = now or timezone.now()
    values = customer_values(campaign=campaign, customers=[customer], now=now, language=language)
    merged = dict(values[customer.pk])
    if campaign.voucher_template_id or campaign.kind == CampaignKind.WELCOME:
        merged.setdefault("voucher_code", "CONTOH123" if language != "en" else "EXAMPLE123")
    subject, body = template_texts(campaign.template, language)
    url = (
        opt_out_url(customer_id=customer.pk, channel=campaign.channel)
        if campaign.channel == Channel.EMAIL
        else ""
    )
    return templating.render(
        subject=subject, body=body, values=merged, language=language, opt_out_url=url
    )
