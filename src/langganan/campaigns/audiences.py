"""Audiences: saved filters over customer fields and the engine's stored insights.

A filter is a JSON object; every key is optional and all given keys must hold (AND); a list
means "any of". Unknown keys and bad values are refused with a message naming the key.

======================== ===================================================================
key                      customers kept
======================== ===================================================================
segments                 RFM segment code in the list (``champions``, ``at_risk`` …)
lifecycle                lifecycle stage in the list (``new active loyal at_risk lapsed``)
r_scores, f_scores,      RFM score (1–5) in the list
m_scores
tiers                    loyalty tier id in the list
tags                     has at least one of the tags
gender                   ``M`` or ``F``
age_min, age_max         age in whole years today (customers without a birth date are left out)
cities                   city in the list (case-insensitive)
birthday_within_days     birthday today or in the next N days (0–60)
last_purchase_min_days,  last purchase at least / at most N days ago
last_purchase_max_days
products, categories     bought at least once a product / a product of a category (ids)
clv_min, clv_max         customer lifetime value in Rupiah
p_alive_min, p_alive_max probability of still being a customer (0–1)
points_min, points_max   points balance
consent                  has consented to this channel (``email``, ``whatsapp``, ``sms``): the
                         latest consent event for the channel is a grant
stage                    the dashboard's stage in the list (``new active loyal at_risk lapsed
                         lost``, :mod:`langganan.insights.stages`)
moved_from, period       the stage at the start of the last ``period`` days (7, 30, 90 or 365;
                         30 when left out) was ``moved_from`` (``none``: not a customer yet
                         then) and the stage now is another; with ``stage``, the moves from
                         one stage to another (``CustomerInsight.stages_before``)
member                   ``true``: a member of the loyalty program; ``false``: not a member
payment_methods          paid with one of these methods (``cash``, ``qris`` …) at least once
                         (as her insight keeps them: :mod:`langganan.insights.paid_with`)
======================== ===================================================================

Filters on insights keep only customers the engine has scored. The customer list
(:mod:`langganan.customers.listing`) filters with these same keys and this same queryset, so a
list saved as an audience holds exactly the customers the list showed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractDay, ExtractMonth, Lower, Trim
from django.utils import timezone

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.customers.models import Channel, ConsentEvent, Customer, Gender
from langganan.insights.stages import DISPLAY_STAGES, display_stage_q
from langganan.loyalty.members import merchant_zone

ERR_UNKNOWN_KEY = "Unknown audience filter(s): {keys}."
ERR_BAD_VALUE = "Audience filter {key}: {why}."
LIFECYCLE_STAGES = ("new", "active", "loyal", "at_risk", "lapsed")
MAX_BIRTHDAY_WINDOW = 60
#: the periods of ``moved_from`` (the overview's periods, ``CustomerInsight.stages_before`` keys)
MOVE_PERIODS = (7, 30, 90, 365)
DEFAULT_MOVE_PERIOD = 30
#: ``moved_from`` value of a customer who had not bought yet at the period's start
NOT_YET = "none"

_LISTS = ("segments", "lifecycle", "tags", "cities", "stage", "payment_methods")
_INT_LISTS = ("tiers", "products", "categories", "r_scores", "f_scores", "m_scores")
_DAYS = ("birthday_within_days", "last_purchase_min_days", "last_purchase_max_days")
_NUMBERS = ("age_min", "age_max", "clv_min", "clv_max", "points_min", "points_max")
_PROBABILITIES = ("p_alive_min", "p_alive_max")
KEYS = frozenset(
    (
        *_LISTS,
        *_INT_LISTS,
        *_DAYS,
        *_NUMBERS,
        *_PROBABILITIES,
        "gender",
        "consent",
        "moved_from",
        "period",
        "member",
    )
)
_TRUE = ("1", "true", "yes", "ya")
_FALSE = ("0", "false", "no", "tidak")


def _bad(key: str, why: str) -> InvalidInput:
    return InvalidInput(ERR_BAD_VALUE.format(key=key, why=why), field=key)


def filters_clean(filters: Any) -> dict[str, Any]:
    """Validated, normalised filters (empty values dropped)."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise InvalidInput("Audience filters must be an object of key: value.", field="filters")
    unknown = sorted(set(filters) - KEYS)
    if unknown:
        raise InvalidInput(ERR_UNKNOWN_KEY.format(keys=", ".join(unknown)), field="filters")
    clean: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == "" or value == []:
            continue
        if key in _LISTS or key in _INT_LISTS:
            items = value if isinstance(value, list) else [value]
            if key in _INT_LISTS:
                try:
                    items = [int(v) for v in items]
                except (TypeError, ValueError):
                    raise _bad(key, "whole numbers expected") from None
            else:
                items = [str(v).strip() for v in items if str(v).strip()]
            if key == "lifecycle" and not set(items) <= set(LIFECYCLE_STAGES):
                raise _bad(key, f"one of {', '.join(LIFECYCLE_STAGES)}")
            if key == "stage" and not set(items) <= set(DISPLAY_STAGES):
                raise _bad(key, f"one of {', '.join(DISPLAY_STAGES)}")
            if key == "payment_methods" and not set(items) <= set(_payment_methods()):
                raise _bad(key, f"one of {', '.join(_payment_methods())}")
            if items:
                items = list(dict.fromkeys(items))  # each value once, in the order given
            if key.endswith("_scores") and not all(1 <= v <= 5 for v in items):
                raise _bad(key, "scores are 1 to 5")
            if items:
                clean[key] = items
        elif key == "gender":
            if value not in (Gender.MALE, Gender.FEMALE):
                raise _bad(key, "M or F")
            clean[key] = value
        elif key == "consent":
            if value not in Channel.values:
                raise _bad(key, f"one of {', '.join(Channel.values)}")
            clean[key] = value
        elif key == "moved_from":
            if value not in (*DISPLAY_STAGES, NOT_YET):
                raise _bad(key, f"one of {', '.join((*DISPLAY_STAGES, NOT_YET))}")
            clean[key] = value
        elif key == "period":
            try:
                period = int(value)
            except (TypeError, ValueError):
                raise _bad(key, "7, 30, 90 or 365 days") from None
            if period not in MOVE_PERIODS:
                raise _bad(key, "7, 30, 90 or 365 days")
            clean[key] = period
        elif key == "member":
            if isinstance(value, bool):
                clean[key] = value
            elif str(value).strip().lower() in _TRUE:
                clean[key] = True
            elif str(value).strip().lower() in _FALSE:
                clean[key] = False
            else:
                raise _bad(key, "1 (members) or 0 (not members)")
        elif key in _DAYS:
            try:
                days = int(value)
            except (TypeError, ValueError):
                raise _bad(key, "a whole number of days") from None
            limit = MAX_BIRTHDAY_WINDOW if key == "birthday_within_days" else 36500
            if not 0 <= days <= limit:
                raise _bad(key, f"0 to {limit} days")
            clean[key] = days
        elif key in _NUMBERS or key in _PROBABILITIES:
            try:
                number = Decimal(str(value))
            except (InvalidOperation, ValueError):
                raise _bad(key, "a number") from None
            if not number.is_finite() or number < 0:
                raise _bad(key, "a number of 0 or more")
            if key in _PROBABILITIES and number > 1:
                raise _bad(key, "between 0 and 1")
            clean[key] = str(number)
    # a period means the period of a move: kept with moved_from (30 days unless given), and
    # dropped without it
    if "moved_from" in clean:
        clean.setdefault("period", DEFAULT_MOVE_PERIOD)
    else:
        clean.pop("period", None)
    return clean


def _payment_methods() -> tuple[str, ...]:
    from langganan.sales.models import PaymentMethod

    return tuple(PaymentMethod.values)


class StageBefore(Func):
    """The stage of ``CustomerInsight.stages_before`` at the start of a period, as text (NULL
    when the key is absent). The keys are digits, which Django's key lookups would read as an
    array index, so the key is written out per database; ``period`` is one of
    :data:`MOVE_PERIODS` (checked), never user text."""

    output_field = CharField()

    def __init__(self, expression, period: int) -> None:
        if period not in MOVE_PERIODS:
            raise ValueError(f"period {period!r} is not one of {MOVE_PERIODS}")
        self.period = int(period)
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):  # SQLite
        return super().as_sql(
            compiler,
            connection,
            template=f"JSON_EXTRACT(%(expressions)s, '$.\"{self.period}\"')",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template=f"(%(expressions)s ->> '{self.period}')",
            **extra_context,
        )


def _stage_q(stages: list[str]) -> Q:
    q = Q(pk__in=[])
    for stage in stages:
        q |= display_stage_q(stage)
    return q


def _birthday_q(today: date, days: int) -> Q:
    q = Q(pk__in=[])
    for offset in range(days + 1):
        d = today + timedelta(days=offset)
        q |= Q(_bmonth=d.month, _bday=d.day)
        if d.month == 3 and d.day == 1 and not _is_leap(d.year):  # 29 Feb birthdays on 1 Mar
            q |= Q(_bmonth=2, _bday=29)
    return q


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def audience_queryset(
    *, merchant: Merchant, filters: Any, now: datetime | None = None
) -> QuerySet[Customer]:
    """The merchant's customers matching ``filters`` (validated here), ordered by id.

    Every key is applied here, ``consent`` too (the latest consent event of each customer for
    the channel), so the customer list, the count, the sample and the recipients are one set.
    """
    f = filters_clean(filters)
    now = now or timezone.now()
    today = now.astimezone(merchant_zone(merchant)).date()
    qs = Customer.objects.filter(merchant=merchant)
    if "segments" in f:
        qs = qs.filter(insight__segment__in=f["segments"])
    if "lifecycle" in f:
        qs = qs.filter(insight__lifecycle__in=f["lifecycle"])
    if "stage" in f:
        qs = qs.filter(_stage_q(f["stage"]))
    if "moved_from" in f:
        before = StageBefore("insight__stages_before", f["period"])
        qs = qs.filter(insight__isnull=False).annotate(_stage_before=before)
        if f["moved_from"] == NOT_YET:
            qs = qs.filter(_stage_before__isnull=True)
        else:
            qs = qs.filter(_stage_before=f["moved_from"]).exclude(display_stage_q(f["moved_from"]))
    if "member" in f:
        qs = qs.filter(loyalty_member__isnull=not f["member"])
    if "payment_methods" in f:
        # the methods she has paid with, kept on her insight by the analysis and each sale
        # (an EXISTS over every payment of the merchant was the list's slowest filter)
        from langganan.insights.paid_with import paid_with_filter

        qs = qs.filter(paid_with_filter(merchant_id=merchant.pk, methods=f["payment_methods"]))
    for key, column in (("r_scores", "r_score"), ("f_scores", "f_score"), ("m_scores", "m_score")):
        if key in f:
            qs = qs.filter(**{f"insight__{column}__in": f[key]})
    if "tiers" in f:
        qs = qs.filter(loyalty_member__tier_id__in=f["tiers"])
    if "tags" in f:
        tag_q = Q(pk__in=[])
        for tag in f["tags"]:
            tag_q |= (
                Q(tags__contains=[tag])
                if _json_contains_supported()
                else Q(tags__icontains=f'"{tag}"')
            )
        qs = qs.filter(tag_q)
    if "gender" in f:
        qs = qs.filter(gender=f["gender"])
    if "age_min" in f:
        qs = qs.filter(birth_date__lte=_years_ago(today, int(Decimal(f["age_min"]))))
    if "age_max" in f:
        oldest = _years_ago(today, int(Decimal(f["age_max"])) + 1) + timedelta(days=1)
        qs = qs.filter(birth_date__gte=oldest)
    if "cities" in f:
        # as the market page groups them: case and surrounding spaces do not matter
        wanted = [" ".join(c.split()).lower() for c in f["cities"]]
        qs = qs.annotate(_city=Trim(Lower("city"))).filter(_city__in=wanted)
    if "birthday_within_days" in f:
        qs = qs.filter(birth_date__isnull=False).annotate(
            _bmonth=ExtractMonth("birth_date"), _bday=ExtractDay("birth_date")
        )
        qs = qs.filter(_birthday_q(today, f["birthday_within_days"]))
    if "last_purchase_min_days" in f:
        qs = qs.filter(
            insight__last_purchase__lte=now - timedelta(days=f["last_purchase_min_days"])
        )
    if "last_purchase_max_days" in f:
        qs = qs.filter(
            insight__last_purchase__gte=now - timedelta(days=f["last_purchase_max_days"])
        )
    if "products" in f or "categories" in f:
        from langganan.sales.models import LineItem

        bought = LineItem.objects.filter(transaction__customer_id=OuterRef("pk"))
        if "products" in f:
            qs = qs.filter(Exists(bought.filter(product_id__in=f["products"])))
        if "categories" in f:
            qs = qs.filter(Exists(bought.filter(product__category_id__in=f["categories"])))
    if "clv_min" in f:
        qs = qs.filter(insight__clv__gte=Decimal(f["clv_min"]))
    if "clv_max" in f:
        qs = qs.filter(insight__clv__lte=Decimal(f["clv_max"]))
    if "p_alive_min" in f:
        qs = qs.filter(insight__p_alive__gte=float(f["p_alive_min"]))
    if "p_alive_max" in f:
        qs = qs.filter(insight__p_alive__lte=float(f["p_alive_max"]))
    if "points_min" in f or "points_max" in f:
        from langganan.loyalty.models import Account, AccountKind

        points = Account.objects.filter(customer_id=OuterRef("pk"), kind=AccountKind.POINTS)
        if "points_min" in f:
            wanted = Decimal(f["points_min"])
            qs = qs.filter(Exists(points.filter(balance__gte=wanted)))
        if "points_max" in f:
            wanted = Decimal(f["points_max"])
            qs = qs.filter(Q(Exists(points.filter(balance__lte=wanted))) | ~Exists(points))
    if "consent" in f:
        latest = ConsentEvent.objects.filter(
            customer_id=OuterRef("pk"), channel=f["consent"]
        ).order_by("-occurred_at", "-id")
        qs = qs.annotate(_consent=Subquery(latest.values("granted")[:1])).filter(_consent=True)
    return qs.order_by("id")


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def audience_ids(*, merchant: Merchant, filters: Any, now: datetime | None = None) -> list[int]:
    """Ids of the customers in the audience, consent applied, ascending."""
    f = filters_clean(filters)
    return list(
        audience_queryset(merchant=merchant, filters=f, now=now).values_list("id", flat=True)
    )


def audience_count(*, merchant: Merchant, filters: Any, now: datetime | None = None) -> int:
    """How many customers the audience holds now (the live count of the builder)."""
    return audience_queryset(merchant=merchant, filters=filters, now=now).count()


def audience_sample(
    *, merchant: Merchant, filters: Any, size: int = 10, now: datetime | None = None
) -> list[Customer]:
    """A few customers of the audience (the first by id), to check it before sending."""
    qs = audience_queryset(merchant=merchant, filters=filters, now=now)
    return list(qs.select_related("insight")[:size])
