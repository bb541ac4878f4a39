"""The values a message template is filled with, loaded in bulk for many customers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from langganan.core.money import format_rupiah
from langganan.customers.models import Customer
from langganan.loyalty.members import merchant_zone

from .holidays_calendar import holiday_name
from .models import Campaign
from .optout import opt_out_token

MONTHS_ID = (
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
).split()
MONTHS_EN = (
    "January February March April May June July August September October November December"
).split()


def format_date(day: date, language: str = "id") -> str:
    """``17 Agustus 2026`` (or ``17 August 2026``)."""
    months = MONTHS_EN if language == "en" else MONTHS_ID
    return f"{day.day} {months[day.month - 1]} {day.year}"


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _item(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("item") or entry.get("name") or "")
    return str(entry or "")


def usual_order_text(usual: Any, language: str = "id") -> str:
    """ "Es Kopi Susu dan Roti Bakar" from the stored usual order (at most two items)."""
    items = [name for name in map(_item, usual or []) if name][:2]
    joiner = " and " if language == "en" else " dan "
    return joiner.join(items)


def opt_out_url(*, customer_id: int, channel: str) -> str:
    """The customer's opt-out link for one channel (a signed token; see :mod:`.optout`)."""
    token = opt_out_token(customer_id=customer_id, channel=channel)
    try:
        path = reverse("campaigns:optout", kwargs={"token": token})
    except NoReverseMatch:
        path = f"/c/optout/{token}/"
    return f"{settings.PUBLIC_BASE_URL}{path}"


def customer_values(
    *,
    campaign: Campaign,
    customers: Iterable[Customer],
    now: datetime | None = None,
    language: str = "id",
) -> dict[int, dict[str, str]]:
    """Template values per customer id (insight, member tier and points loaded in bulk).

    Offer values (voucher, expiring points) are added by the caller per recipient.
    """
    from langganan.loyalty.models import Account, AccountKind, Member

    now = now or timezone.now()
    customers = list(customers)
    ids = [c.pk for c in customers]
    today = now.astimezone(merchant_zone(campaign.merchant)).date()
    tiers: dict[int, str] = {}
    points: dict[int, int] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for customer_id, tier in Member.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "tier__name"
        ):
            tiers[customer_id] = tier or ""
        for customer_id, balance in Account.objects.filter(
            customer_id__in=chunk, kind=AccountKind.POINTS
        ).values_list("customer_id", "balance"):
            points[customer_id] = int(balance)
    usual: dict[int, Any] = {}
    from langganan.insights.models import CustomerInsight

    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for customer_id, order in CustomerInsight.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "usual_order"
        ):
            usual[customer_id] = order
    outlet = campaign.outlet.name if campaign.outlet_id else ""
    if not outlet:
        first = campaign.merchant.outlets.filter(is_active=True).order_by("code").first()
        outlet = first.name if first else campaign.merchant.name
    common = {
        "merchant": campaign.merchant.name,
        "outlet": outlet,
        "holiday": holiday_name(campaign.holiday, language) if campaign.holiday else "",
    }
    values: dict[int, dict[str, str]] = {}
    for customer in customers:
        first_name = (customer.full_name or "").split(" ")[0]
        greeting = customer.greeting_on(today)
        member_points = points.get(customer.pk)
        values[customer.pk] = {
            **common,
            "greeting": greeting,
            "name": first_name,
            "full_name": customer.full_name,
            "salutation": f"{greeting} {first_name}".strip(),
            "usual_order": usual_order_text(usual.get(customer.pk), language),
            "points": _number(member_points) if member_points is not None else "",
            "tier": tiers.get(customer.pk, ""),
        }
    return values


def offer_values(
    *,
    voucher: Any = None,
    expiring_points: int | None = None,
    expiry_date: date | None = None,
    merchant: Any = None,
    language: str = "id",
) -> dict[str, str]:
    """Values of the offer a recipient gets: their voucher, their expiring points."""
    values: dict[str, str] = {}
    if voucher is not None:
        values["voucher_code"] = voucher.code
        if voucher.discount_type == "percent":
            values["voucher_value"] = f"{voucher.value.normalize():f}%"
        elif voucher.discount_type == "fixed":
            values["voucher_value"] = format_rupiah(voucher.value)
        if voucher.valid_until is not None:
            zone = merchant_zone(merchant) if merchant is not None else None
            last = voucher.valid_until.astimezone(zone) if zone else voucher.valid_until
            # valid_until is midnight after the last valid day
            values["voucher_until"] = format_date(
                (last - timezone.timedelta(seconds=1)).date(), language
            )
    if expiring_points:
        values["expiring_points"] = _number(expiring_points)
    if expiry_date is not None:
        values["expiry_date"] = format_date(expiry_date, language)
    return values
