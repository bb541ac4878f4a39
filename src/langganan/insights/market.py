"""Who buys against who the merchant means to sell to (seed: "apakah target market kita sama
dengan realita yang beli?").

The buyers of a period are the customers whose stored insight has a purchase in it
(``CustomerInsight.last_purchase`` on or after the period's start). Each buyer is weighted once
(customers) and by their net spend as of the last analysis (``CustomerInsight.total_spend``,
revenue): the page reads the stored insights and the customers' own fields in one grouped query
(city, province, gender, age band, spend band), never the transactions. How buyers pay comes
from the overview the nightly analysis stores per period (``PeriodOverview.data``), weighted by
sales and by the revenue each method took, since a customer may pay in several ways.

Areas are the customers' cities (and provinces, for a target area typed as a province): the
customer record keeps no kecamatan or postcode, and no maintained package ships an offline
boundary file of Indonesian cities, so areas are ranked bars, not a map.

An empty target dimension means "no preference": everyone is in it and no gap is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, CharField, Count, F, FloatField, Q, Sum, Value, When
from django.db.models.functions import Cast, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from langganan.core.models import Merchant
from langganan.customers.listing import AGE_BANDS, age_band, list_query
from langganan.insights.models import (
    CustomerInsight,
    InsightRun,
    MarketGroup,
    MarketSnapshot,
    PeriodOverview,
    TargetMarket,
)
from langganan.sales.models import PaymentMethod

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90
UNKNOWN = "unknown"
ZERO = Decimal("0")
#: days in an average month, for spend per month (total spend over the months since the first
#: purchase, at least one)
MONTH_DAYS = 30.4375

AGE_CODES = tuple(code for code, _low, _high in AGE_BANDS)
#: lower bounds (Rupiah) of the spend bands shown, per visit and per month
SPEND_BANDS = {
    "visit": (0, 25_000, 50_000, 100_000, 250_000),
    "month": (0, 100_000, 250_000, 500_000, 1_000_000),
}
GENDERS = ("F", "M")


def age_label(code: str) -> str:
    for band, low, high in AGE_BANDS:
        if band == code:
            if low is None:
                return f"<{high + 1}"
            if high is None:
                return f"{low}+"
            return f"{low}–{high}"
    return _("not recorded")


def gender_label(code: str) -> str:
    return {"F": _("Women"), "M": _("Men")}.get(code, _("not recorded"))


def _short_rupiah(amount: int) -> str:
    return f"Rp {amount:,}".replace(",", ".")


def spend_label(basis: str, index: int) -> str:
    bands = SPEND_BANDS[basis]
    low = bands[index]
    if index == len(bands) - 1:
        return f"≥ {_short_rupiah(low)}"
    high = bands[index + 1]
    if index == 0:
        return f"< {_short_rupiah(high)}"
    return f"{_short_rupiah(low)} – {_short_rupiah(high)}"


def payment_label(code: str) -> str:
    try:
        return str(PaymentMethod(code).label)
    except ValueError:
        return code


# -- reading the target --------------------------------------------------------------------


def target_market_get(*, merchant: Merchant) -> TargetMarket | None:
    return TargetMarket.objects.filter(merchant=merchant).first()


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def target_has(target: TargetMarket | None, dimension: str) -> bool:
    """Whether the target says anything on ``dimension``."""
    if target is None:
        return False
    if dimension == "spend":
        return target.spend_min is not None or target.spend_max is not None
    return bool(
        {
            "area": target.areas,
            "gender": target.genders,
            "age": target.age_bands,
            "payment": target.payment_methods,
        }[dimension]
    )


# -- the grouped query ---------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_case(today: date) -> Case:
    """The age band of a customer today from the birth date (``unknown`` without one)."""
    whens = [When(customer__birth_date__isnull=True, then=Value(UNKNOWN))]
    # someone is at least N years old when born on or before today N years ago
    for code, low, _high in reversed(AGE_BANDS):
        if low is None:
            continue
        whens.append(When(customer__birth_date__lte=_years_before(today, low), then=Value(code)))
    return Case(*whens, default=Value(AGE_BANDS[0][0]), output_field=CharField())


def _spend_expr(basis: str):
    """A customer's spend per visit (total / orders) or per month (total / months since the
    first purchase, at least one), as a float for banding."""
    total = Cast("total_spend", FloatField())
    if basis == "month":
        months = Greatest(Cast("age_days", FloatField()) / MONTH_DAYS, Value(1.0))
        return total / months
    return total / Greatest(Cast("orders", FloatField()), Value(1.0))


def _spend_band_case() -> Case:
    whens = []
    for basis, bands in SPEND_BANDS.items():
        for index in range(len(bands) - 1, 0, -1):
            whens.append(When(basis=basis, spend__gte=float(bands[index]), then=Value(index)))
    return Case(*whens, default=Value(0))


def buyers_grouped(
    *, merchant: Merchant, start: datetime, basis: str, target, today: date | None = None
) -> list[dict]:
    """One row per (city, province, gender, age band, spend band, spend in target): buyers
    and their revenue. One query over the stored insights joined to the customers (the
    analysis runs it and stores the rows: :func:`market_snapshots_store`)."""
    today = today or timezone.localdate()
    spend_in: Q | None = None
    if target is not None and target_has(target, "spend"):
        spend_in = Q()
        if target.spend_min is not None:
            spend_in &= Q(spend__gte=float(target.spend_min))
        if target.spend_max is not None:
            spend_in &= Q(spend__lte=float(target.spend_max))
    qs = (
        CustomerInsight.objects.filter(merchant=merchant, last_purchase__gte=start)
        .annotate(basis=Value(basis, output_field=CharField()), spend=_spend_expr(basis))
        .annotate(
            age_band=_age_case(today),
            spend_band=_spend_band_case(),
            spend_in=Case(When(spend_in, then=Value(1)), default=Value(0))
            if spend_in is not None
            else Value(1),
            city=F("customer__city"),
            province=F("customer__province"),
            gender=F("customer__gender"),
        )
        .values("city", "province", "gender", "age_band", "spend_band", "spend_in")
        .annotate(customers=Count("id"), revenue=Sum("total_spend"))
        .order_by()
    )
    return list(qs)


# -- the stored groups ----------------------------------------------------------------------


def _target_spend(target: TargetMarket | None) -> tuple[str, Decimal | None, Decimal | None]:
    """What of the target the grouping depends on: the spend basis and bounds."""
    if target is None:
        return TargetMarket.SpendBasis.VISIT, None, None
    return target.spend_basis, target.spend_min, target.spend_max


def market_snapshots_store(
    *, merchant: Merchant, run: InsightRun | None = None, now: datetime | None = None
) -> list[MarketSnapshot]:
    """Group the buyers of every period (:data:`PERIODS`) ending at ``now`` (the run's
    observation end) and store them, replacing the merchant's earlier groups: the analysis
    calls this after storing the insights, and saving the target market calls it again for the
    latest run (whether a buyer's spend is in the target is part of the grouping). Without a
    finished run there is nothing to group."""
    if run is None:
        run = (
            InsightRun.objects.filter(merchant=merchant, status=InsightRun.Status.DONE)
            .order_by("-started_at", "-id")
            .first()
        )
        if run is None:
            return []
    end = now or run.observation_end or timezone.now()
    today = timezone.localdate(end)
    target = target_market_get(merchant=merchant)
    basis, low, high = _target_spend(target)
    snapshots = []
    with transaction.atomic():
        MarketSnapshot.objects.filter(merchant=merchant).delete()
        for days in PERIODS:
            start = end - timedelta(days=days)
            snapshot = MarketSnapshot.objects.create(
                merchant=merchant,
                run=run,
                period_days=days,
                period_start=start,
                period_end=end,
                today=today,
                spend_basis=basis,
                spend_min=low,
                spend_max=high,
                computed_at=timezone.now(),
            )
            grouped = buyers_grouped(
                merchant=merchant, start=start, basis=basis, target=target, today=today
            )
            MarketGroup.objects.bulk_create(
                (
                    MarketGroup(
                        snapshot=snapshot,
                        city=g["city"] or "",
                        province=g["province"] or "",
                        gender=g["gender"] or "",
                        age_band=g["age_band"],
                        spend_band=int(g["spend_band"]),
                        spend_in=bool(g["spend_in"]),
                        customers=g["customers"],
                        revenue=g["revenue"] or ZERO,
                    )
                    for g in grouped
                ),
                batch_size=1000,
            )
            snapshots.append(snapshot)
    return snapshots


def stored_groups(
    *, merchant: Merchant, period_days: int, target: TargetMarket | None
) -> tuple[MarketSnapshot, list[dict]] | None:
    """The stored groups of the period (as :func:`buyers_grouped` returns them) with their
    snapshot, or None when the analysis has not stored them for the latest run or they were
    grouped for another spend target."""
    snapshot = (
        MarketSnapshot.objects.filter(
            merchant=merchant, period_days=period_days, run__status=InsightRun.Status.DONE
        )
        .select_related("run")
        .first()
    )
    if snapshot is None:
        return None
    latest = (
        InsightRun.objects.filter(merchant=merchant, status=InsightRun.Status.DONE)
        .order_by("-started_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if snapshot.run_id != latest:
        return None
    basis, low, high = _target_spend(target)
    if (snapshot.spend_basis, snapshot.spend_min, snapshot.spend_max) != (basis, low, high):
        return None
    rows = list(
        snapshot.groups.values(
            "city",
            "province",
            "gender",
            "age_band",
            "spend_band",
            "spend_in",
            "customers",
            "revenue",
        )
    )
    return snapshot, rows


# -- shares and gaps -----------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    customers: int = 0
    revenue: Decimal = ZERO
    in_target: bool | None = None
    customer_share: float = 0.0
    revenue_share: float = 0.0
    url: str = ""

    @property
    def n_width(self) -> str:
        """The customers' share as a CSS width (``"34.5"``)."""
        return f"{self.customer_share * 100:.1f}"

    @property
    def r_width(self) -> str:
        return f"{self.revenue_share * 100:.1f}"


@dataclass
class Dimension:
    code: str
    title: str
    rows: list[Row]
    has_target: bool
    target_labels: list[str]
    #: "customers" or "sales": what the count column counts
    counted: str = "customers"
    in_customers: float | None = None
    in_revenue: float | None = None
    note: str = ""
    available: bool = True


@dataclass
class MarketMap:
    period_days: int
    start: datetime
    end: datetime
    buyers: int
    revenue: Decimal
    dimensions: list[Dimension]
    gaps: list[str] = field(default_factory=list)
    target: TargetMarket | None = None
    spend_basis: str = "visit"
    payments_from: datetime | None = None


def _finish(rows: list[Row], *, sort: bool = True) -> list[Row]:
    total_n = sum(r.customers for r in rows)
    total_r = sum((r.revenue for r in rows), ZERO)
    for row in rows:
        row.customer_share = row.customers / total_n if total_n else 0.0
        row.revenue_share = float(row.revenue / total_r) if total_r else 0.0
    if sort:
        rows.sort(key=lambda r: (-r.revenue, -r.customers, r.label))
    return rows


def _in_shares(dim: Dimension) -> None:
    if not dim.has_target:
        return
    n = sum(r.customers for r in dim.rows)
    rev = sum((r.revenue for r in dim.rows), ZERO)
    n_in = sum(r.customers for r in dim.rows if r.in_target)
    rev_in = sum((r.revenue for r in dim.rows if r.in_target), ZERO)
    dim.in_customers = n_in / n if n else None
    dim.in_revenue = float(rev_in / rev) if rev else None


def _list_url(merchant: Merchant, period_days: int, **filters) -> str:
    """The customer list filtered to these buyers: the list's own filter keys (the audience
    keys, :mod:`langganan.customers.listing`) and "bought in the last N days"
    (``last_purchase_max_days``)."""
    query = {k: v for k, v in filters.items() if v not in (None, "", [])}
    query["last_purchase_max_days"] = period_days
    base = reverse("customers:customer_list", kwargs={"slug": merchant.slug})
    return f"{base}?{list_query(query)}"


def _age_filters(code: str) -> dict:
    low, high = age_band(code) or (None, None)
    return {"age_min": low, "age_max": high}


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _payments(merchant: Merchant, period_days: int):
    """How the period's customers paid, from the stored overview: (rows, computed at) or
    (None, None) when the analysis has not stored it."""
    overview = (
        PeriodOverview.objects.filter(
            merchant=merchant, period_days=period_days, run__status="done"
        )
        .order_by("-period_end", "-id")
        .first()
    )
    if overview is None:
        return None, None
    data = overview.data or {}
    by_segment = data.get("payments_by_segment")
    source = by_segment if isinstance(by_segment, list) and by_segment else data.get("payments")
    if not isinstance(source, list) or not source:
        return None, None
    totals: dict[str, list] = {}
    for item in source:
        if not isinstance(item, dict) or not item.get("method"):
            continue
        entry = totals.setdefault(item["method"], [0, ZERO])
        entry[0] += int(item.get("sales") or 0)
        entry[1] += Decimal(str(item.get("revenue") or 0))
    return totals, overview.period_end


def market_map(
    *,
    merchant: Merchant,
    period_days: int = DEFAULT_PERIOD,
    now: datetime | None = None,
    stored: bool = True,
) -> MarketMap:
    """The buyers of ``period_days`` days against the merchant's target market.

    The period ends at the last analysis, whose stored groups are read
    (:func:`market_snapshots_store`); without them (no analysis stored them yet, the target's
    spend changed since, or ``stored=False``) the buyers are grouped now, for the period ending
    at ``now``.
    """
    target = target_market_get(merchant=merchant)
    basis = target.spend_basis if target is not None else TargetMarket.SpendBasis.VISIT
    found = (
        stored_groups(merchant=merchant, period_days=period_days, target=target)
        if stored and now is None
        else None
    )
    if found is not None:
        snapshot, grouped = found
        start, end = snapshot.period_start, snapshot.period_end
    else:
        end = now or timezone.now()
        start = end - timedelta(days=period_days)
        grouped = buyers_grouped(merchant=merchant, start=start, basis=basis, target=target)

    areas_target = {_norm(a) for a in (target.areas if target else [])}
    cities: dict[str, Row] = {}
    genders: dict[str, Row] = {}
    ages: dict[str, Row] = {}
    spends: dict[int, Row] = {}
    spend_in_n = 0
    spend_in_rev = ZERO
    for g in grouped:
        n, rev = g["customers"], g["revenue"] or ZERO
        city = " ".join((g["city"] or "").split())
        key = _norm(city) or UNKNOWN
        row = cities.get(key)
        if row is None:
            row = cities[key] = Row(key=key, label=city or _("not recorded"))
            row.in_target = False
        if areas_target and (
            (key != UNKNOWN and key in areas_target) or _norm(g["province"]) in areas_target
        ):
            row.in_target = True
        row.customers += n
        row.revenue += rev
        gender = g["gender"] or UNKNOWN
        row = genders.setdefault(gender, Row(key=gender, label=gender_label(gender)))
        row.customers += n
        row.revenue += rev
        age = g["age_band"]
        row = ages.setdefault(age, Row(key=age, label=age_label(age)))
        row.customers += n
        row.revenue += rev
        band = int(g["spend_band"])
        row = spends.setdefault(band, Row(key=str(band), label=spend_label(basis, band)))
        row.customers += n
        row.revenue += rev
        if g["spend_in"]:
            spend_in_n += n
            spend_in_rev += rev

    dims: list[Dimension] = []
    # area
    area_rows = _finish(list(cities.values()))
    for row in area_rows:
        # the list cannot filter "no city recorded": that count is not a link
        row.url = _list_url(merchant, period_days, cities=[row.label]) if row.key != UNKNOWN else ""
        if not areas_target:
            row.in_target = None
    dims.append(
        Dimension(
            code="area",
            title=_("Area (city)"),
            rows=area_rows,
            has_target=bool(areas_target),
            target_labels=list(target.areas) if target else [],
            note=_(
                "Customers' addresses are kept down to the city, so areas are cities; with no "
                "offline map of Indonesian cities in a maintained package, they are ranked bars."
            ),
        )
    )
    # gender
    gender_target = set(target.genders) if target else set()
    gender_rows = [genders[k] for k in (*GENDERS, UNKNOWN) if k in genders]
    for row in gender_rows:
        row.in_target = (row.key in gender_target) if gender_target and row.key != UNKNOWN else None
        row.url = _list_url(merchant, period_days, gender=row.key) if row.key != UNKNOWN else ""
    dims.append(
        Dimension(
            code="gender",
            title=_("Gender"),
            rows=_finish(gender_rows, sort=False),
            has_target=bool(gender_target),
            target_labels=[gender_label(g) for g in GENDERS if g in gender_target],
        )
    )
    # age
    age_target = set(target.age_bands) if target else set()
    age_rows = [ages[k] for k in (*AGE_CODES, UNKNOWN) if k in ages]
    for row in age_rows:
        row.in_target = (row.key in age_target) if age_target and row.key != UNKNOWN else None
        row.url = (
            _list_url(merchant, period_days, **_age_filters(row.key)) if row.key != UNKNOWN else ""
        )
    dims.append(
        Dimension(
            code="age",
            title=_("Age"),
            rows=_finish(age_rows, sort=False),
            has_target=bool(age_target),
            target_labels=[age_label(a) for a in AGE_CODES if a in age_target],
        )
    )
    # spend
    spend_rows = [spends[k] for k in sorted(spends)]
    has_spend = target_has(target, "spend")
    spend_dim = Dimension(
        code="spend",
        title=_("Spend per visit") if basis == "visit" else _("Spend per month"),
        rows=_finish(spend_rows, sort=False),
        has_target=has_spend,
        target_labels=[_spend_target_label(target)] if has_spend else [],
        note=_("Per visit: a customer's total spend divided by their visits.")
        if basis == "visit"
        else _(
            "Per month: a customer's total spend divided by the months since their first "
            "purchase (at least one)."
        ),
    )
    if has_spend:
        total_n = sum(r.customers for r in spend_rows)
        total_rev = sum((r.revenue for r in spend_rows), ZERO)
        spend_dim.in_customers = spend_in_n / total_n if total_n else None
        spend_dim.in_revenue = float(spend_in_rev / total_rev) if total_rev else None
    dims.append(spend_dim)
    # payment
    pay_target = set(target.payment_methods) if target else set()
    payments, payments_from = _payments(merchant, period_days)
    pay_rows: list[Row] = []
    if payments:
        for method, (sales, revenue) in payments.items():
            pay_rows.append(
                Row(
                    key=method,
                    label=payment_label(method),
                    customers=sales,
                    revenue=revenue,
                    in_target=(method in pay_target) if pay_target else None,
                )
            )
    dims.append(
        Dimension(
            code="payment",
            title=_("Payment method"),
            rows=_finish(pay_rows),
            has_target=bool(pay_target),
            target_labels=[payment_label(m) for m in PaymentMethod.values if m in pay_target],
            counted="sales",
            available=payments is not None,
            note=_(
                "A customer may pay in several ways, so this part counts sales and the revenue "
                "each method took, from the last analysis of the period."
            ),
        )
    )
    for dim in dims:
        if dim.code != "spend":
            _in_shares(dim)
    buyers = sum(r.customers for r in area_rows)
    revenue = sum((r.revenue for r in area_rows), ZERO)
    result = MarketMap(
        period_days=period_days,
        start=start,
        end=end,
        buyers=buyers,
        revenue=revenue,
        dimensions=dims,
        target=target,
        spend_basis=basis,
        payments_from=payments_from,
    )
    result.gaps = market_gaps(result)
    return result


def _spend_target_label(target: TargetMarket) -> str:
    low, high = target.spend_min, target.spend_max
    if low is not None and high is not None:
        return f"{_short_rupiah(int(low))} – {_short_rupiah(int(high))}"
    if low is not None:
        return f"≥ {_short_rupiah(int(low))}"
    return f"≤ {_short_rupiah(int(high))}"


def _joined(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return _("{first} and {last}").format(first=", ".join(labels[:-1]), last=labels[-1])


_GAP_PHRASES = {
    "area": gettext_noop(
        "{share} of revenue comes from customers in {label}; your target is {target}."
    ),
    "gender": gettext_noop("{share} of revenue comes from {label}; your target is {target}."),
    "age": gettext_noop(
        "{share} of revenue comes from customers aged {label}; your target is {target}."
    ),
    "payment": gettext_noop("{share} of revenue is paid by {label}; your target is {target}."),
}


def market_gaps(result: MarketMap, limit: int = 3) -> list[str]:
    """The largest gaps in words, largest first: for each dimension with a target, the
    out-of-target group with the largest revenue share (when it has at least a fifth of the
    revenue), e.g. "62 % pendapatan datang dari pelanggan usia 25–34; target Anda 18–24"."""
    found: list[tuple[float, str]] = []
    for dim in result.dimensions:
        if not dim.has_target or not dim.rows:
            continue
        if dim.code == "spend":
            out_share = 1 - dim.in_revenue if dim.in_revenue is not None else 0.0
            if out_share >= 0.2:
                found.append(
                    (
                        out_share,
                        _(
                            "{share} of revenue comes from customers whose spend is outside "
                            "your target of {target}."
                        ).format(share=_percent(out_share), target=dim.target_labels[0]),
                    )
                )
            continue
        outside = [r for r in dim.rows if r.in_target is False and r.key != UNKNOWN]
        if not outside:
            continue
        top = max(outside, key=lambda r: (r.revenue_share, r.customers))
        if top.revenue_share < 0.2:
            continue
        found.append(
            (
                top.revenue_share,
                _(_GAP_PHRASES[dim.code]).format(
                    share=_percent(top.revenue_share),
                    label=top.label,
                    target=_joined(dim.target_labels),
                ),
            )
        )
    found.sort(key=lambda item: -item[0])
    return [text for _share, text in found[:limit]]


# -- writing the target --------------------------------------------------------------------


def target_market_save(
    *,
    merchant: Merchant,
    user,
    areas: list[str],
    genders: list[str],
    age_bands: list[str],
    spend_basis: str,
    spend_min: Decimal | None,
    spend_max: Decimal | None,
    payment_methods: list[str],
    price_whatsapp: Decimal | None = None,
    price_sms: Decimal | None = None,
    price_email: Decimal | None = None,
) -> TargetMarket:
    """Record the merchant's target market (one row per merchant, replaced). When the spend
    target changes, the stored groups of the market page are grouped again (whether a buyer's
    spend is in the target is part of them)."""
    with transaction.atomic():
        spend_before = _target_spend(target_market_get(merchant=merchant))
        target, _created = TargetMarket.objects.update_or_create(
            merchant=merchant,
            defaults={
                "areas": list(areas),
                "genders": [g for g in GENDERS if g in genders],
                "age_bands": [a for a in AGE_CODES if a in age_bands],
                "spend_basis": spend_basis,
                "spend_min": spend_min,
                "spend_max": spend_max,
                "payment_methods": [m for m in PaymentMethod.values if m in payment_methods],
                "price_whatsapp": price_whatsapp,
                "price_sms": price_sms,
                "price_email": price_email,
                "updated_by": user if getattr(user, "pk", None) else None,
            },
        )
        if (
            _target_spend(target) != spend_before
            and MarketSnapshot.objects.filter(merchant=merchant).exists()
        ):
            market_snapshots_store(merchant=merchant)
    return target
