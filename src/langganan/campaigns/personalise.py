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


def _either(items: list[str], language: str) -> str:
    """ "A", "A atau B", "A, B atau C" (English: "or")."""
    word = " or " if language == "en" else " atau "
    if len(items) <= 2:
        return word.join(items)
    return ", ".join(items[:-1]) + word + items[-1]


def usual_order_text(usual: Any, language: str = "id") -> str:
    """The most usual item(s) of a stored usual order: "Es Kopi Susu", or "Es Kopi Susu atau
    Teh Manis" when they share rank 1 (bought equally often); "" when nothing is known.

    ``usual`` is a list of ``{item, rank, times, share}`` (as the analysis stores it); rows
    without a rank are ranked densely by ``times``; plain strings are taken in order.
    """
    rows = [u for u in usual or [] if _item(u)]
    if not rows:
        return ""
    if not all(isinstance(u, dict) for u in rows):
        return _item(rows[0])
    if all(u.get("rank") is not None for u in rows):
        ranks = [int(u["rank"]) for u in rows]
    else:
        distinct = sorted({int(u.get("times") or 0) for u in rows}, reverse=True)
        ranks = [distinct.index(int(u.get("times") or 0)) + 1 for u in rows]
    best = min(ranks)
    items: list[str] = []
    for u, rank in zip(rows, ranks, strict=True):
        if rank == best and _item(u) not in items:
            items.append(_item(u))
    return _either(items, language)


def _top_items(
    counts: dict[int, dict[str, int]], orders: dict[int, int], top: int
) -> list[tuple[int, int, str, int, float, int]]:
    """Each customer's ``top`` items by the number of orders holding them (ties by item), as
    the engine's usual-order rows: customer_id, rank, item, times, share, n_transactions."""
    rows = []
    for customer_id, items in counts.items():
        n = orders[customer_id]
        best = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        rows += [
            (customer_id, rank, item, times, times / n, n)
            for rank, (item, times) in enumerate(best, start=1)
        ]
    return rows


def usual_orders(ids: list[int], *, until: datetime) -> dict[int, list[dict[str, Any]]]:
    """The usual order of each customer with line items, read from her sales up to ``until``.

    The same definition and evidence rules as the nightly analysis (``analytics.habits`` and
    ``analytics.evidence``), so a message names what the customer page will show, even when
    the message is rendered before the analysis has seen her latest visits. A customer with
    sales but too little evidence gets ``[]``; one with no line items at all is left out.
    """
    import pandas as pd
    from django.db.models import Count

    from langganan.analytics.evidence import EvidenceRules, usual_with_evidence
    from langganan.analytics.pipeline import PipelineSettings
    from langganan.sales.models import LineItem, Transaction

    top = PipelineSettings().usual_top
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        sales = dict(
            Transaction.objects.filter(
                customer_id__in=chunk, kind="sale", occurred_at__lte=until, items__isnull=False
            )
            .order_by()
            .values_list("customer_id")
            .annotate(n=Count("id", distinct=True))
        )
        counts: dict[int, dict[str, int]] = {}
        for customer_id, item, times in (
            LineItem.objects.filter(
                transaction__customer_id__in=chunk,
                transaction__kind="sale",
                transaction__occurred_at__lte=until,
            )
            .order_by()
            .values_list("transaction__customer_id", "product_name")
            .annotate(times=Count("transaction_id", distinct=True))
        ):
            counts.setdefault(customer_id, {})[item] = times
        frame = pd.DataFrame(
            _top_items(counts, sales, top),
            columns=["customer_id", "rank", "item", "times", "share", "n_transactions"],
        )
        found.update((customer_id, []) for customer_id in counts)
        for row in usual_with_evidence(frame, EvidenceRules()).itertuples(index=False):
            found[int(row.customer_id)].append(
                {
                    "item": row.item,
                    "rank": int(row.rank),
                    "times": int(row.times),
                    "share": round(float(row.share), 4),
                }
            )
    return found


def usual_outlets(ids: list[int], *, merchant: Any, until: datetime) -> dict[int, str]:
    """Each customer's own outlet: the active outlet of most of her visits up to ``until``,
    on a tie the one she visited last. Customers with no visit are left out."""
    from django.db.models import Count, Max

    from langganan.sales.models import Transaction

    names = dict(merchant.outlets.filter(is_active=True).values_list("id", "name"))
    best: dict[int, tuple[int, datetime, int]] = {}
    for start in range(0, len(ids), 5000):
        for customer_id, outlet_id, visits, last in (
            Transaction.objects.filter(
                customer_id__in=ids[start : start + 5000],
                kind="sale",
                occurred_at__lte=until,
                outlet_id__in=list(names),
            )
            .order_by()
            .values_list("customer_id", "outlet_id")
            .annotate(visits=Count("id"), last=Max("occurred_at"))
        ):
            key = (visits, last, outlet_id)
            if customer_id not in best or key > best[customer_id]:
                best[customer_id] = key
    return {customer_id: names[key[2]] for customer_id, key in best.items()}


def _uses(campaign: Campaign, *names: str) -> bool:
    """Whether the campaign's template mentions any of the fields (True without a template)."""
    template = campaign.template if campaign.template_id else None
    if template is None:
        return True
    text = " ".join(
        getattr(template, f, "") or "" for f in ("subject_id", "subject_en", "body_id", "body_en")
    )
    return any("{" + name + "}" in text for name in names)


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
    # what we know, read when the message is rendered (not only what the last analysis stored)
    if _uses(campaign, "usual_order"):
        usual.update(usual_orders(ids, until=now))
    own_outlet: dict[int, str] = {}
    if _uses(campaign, "outlet", "usual_outlet"):
        own_outlet = usual_outlets(ids, merchant=campaign.merchant, until=now)
    first = campaign.merchant.outlets.filter(is_active=True).order_by("code").first()
    default_outlet = first.name if first else campaign.merchant.name
    campaign_outlet = campaign.outlet.name if campaign.outlet_id else ""
    common = {
        "merchant": campaign.merchant.name,
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
            "usual_outlet": own_outlet.get(person.id) or campaign_outlet or default_outlet,
            # the campaign's own outlet when it has one, else the customer's
            "outlet": campaign_outlet or own_outlet.get(person.id) or default_outlet,
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
