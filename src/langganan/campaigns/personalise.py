"""The values a message template is filled with, loaded in bulk for many customers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from langganan.core.money import format_rupiah
from langganan.customers.greetings import derive_greeting
from langganan.customers.models import Customer
from langganan.loyalty.members import merchant_zone

from .holidays_calendar import holiday_name
from .models import Campaign

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


@dataclass(frozen=True)
class Person:
    """The profile fields a message needs (read as plain values: no model instances)."""

    id: int
    full_name: str
    greeting: str
    gender: str
    birth_date: date | None
    phone: str | None
    email: str

    FIELDS = ("id", "full_name", "greeting", "gender", "birth_date", "phone", "email")

    @classmethod
    def of(cls, customer: Customer) -> Person:
        return cls(*(getattr(customer, f) for f in cls.FIELDS))


def people(ids: list[int]) -> dict[int, Person]:
    """Profiles by id, read in chunks."""
    found: dict[int, Person] = {}
    for start in range(0, len(ids), 5000):
        rows = Customer.objects.filter(pk__in=ids[start : start + 5000]).values_list(*Person.FIELDS)
        found.update((row[0], Person(*row)) for row in rows)
    return found


def customer_values(
    *,
    campaign: Campaign,
    customers: Iterable[Customer | Person],
    now: datetime | None = None,
    language: str = "id",
) -> dict[int, dict[str, str]]:
    """Template values per customer id (insight, member tier and points loaded in bulk).

    Offer values (voucher, expiring points) are added by the caller per recipient.
    """
    from langganan.insights.models import CustomerInsight
    from langganan.loyalty.models import Account, AccountKind, Member

    now = now or timezone.now()
    persons = [c if isinstance(c, Person) else Person.of(c) for c in customers]
    ids = [p.id for p in persons]
    today = now.astimezone(merchant_zone(campaign.merchant)).date()
    tiers: dict[int, str] = {}
    points: dict[int, int] = {}
    usual: dict[int, Any] = {}
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
        usual.update(
            CustomerInsight.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "usual_order"
            )
        )
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
    for person in persons:
        first_name = (person.full_name or "").split(" ")[0]
        greeting = person.greeting or derive_greeting(person.gender, person.birth_date, today)
        member_points = points.get(person.id)
        values[person.id] = {
            **common,
            "greeting": greeting,
            "name": first_name,
            "full_name": person.full_name,
            "salutation": f"{greeting} {first_name}".strip(),
            "usual_order": usual_order_text(usual.get(person.id), language),
            "points": _number(member_points) if member_points is not None else "",
            "tier": tiers.get(person.id, ""),
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
