"""The customer list's reads: its filters, its sort orders, and the rows of a page or export.

The list's filters are the audience filter keys of :mod:`langganan.campaigns.audiences`, read
from the URL's query (lists repeat: ``?segments=champions&segments=loyal``), and the list is
:func:`~langganan.campaigns.audiences.audience_queryset` of those filters, sorted: a list saved
as an audience holds exactly the customers the list showed, and a count on the overview that
links here with the same keys (``?stage=loyal``, ``?moved_from=loyal&stage=at_risk&period=30``)
is the length of the list it opens.

Sorting reads only stored columns (the customer's own, the stored insight, the points
account), with the id as the last key, so that pages never repeat or skip a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from langganan.campaigns import audiences
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.customers.selectors import customer_search

#: ``sort=`` values (``-`` before one: descending) and the columns they order by
SORTS: dict[str, str] = {
    "name": "full_name",
    "city": "city",
    "joined": "joined_at",
    "last_purchase": "insight__last_purchase",
    "orders": "insight__orders",
    "total_spend": "insight__total_spend",
    "clv": "insight__clv",
    "p_alive": "insight__p_alive",
    "points": "points_balance",
}
DEFAULT_SORT = "name"
#: the age bands of the filter's select: (code, youngest, oldest) — as the market page's bands
AGE_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    ("u18", None, 17),
    ("18_24", 18, 24),
    ("25_34", 25, 34),
    ("35_44", 35, 44),
    ("45_54", 45, 54),
    ("55p", 55, None),
)
#: keys of the URL that are not filters
NOT_FILTERS = frozenset({"q", "sort", "page"})
#: the audience keys that hold a list of values (a URL repeats them)
LIST_KEYS = frozenset(
    {
        "segments",
        "lifecycle",
        "stage",
        "r_scores",
        "f_scores",
        "m_scores",
        "tiers",
        "tags",
        "cities",
        "products",
        "categories",
        "payment_methods",
    }
)
#: other names a link may use for a key (the market page's "bought in the last N days")
ALIASES = {"last_purchase_days": "last_purchase_max_days"}


def sort_parse(value: str | None) -> str:
    """The ``sort=`` value if known (``clv``, ``-clv``), else the default."""
    value = (value or "").strip()
    return value if value.lstrip("-") in SORTS else DEFAULT_SORT


def age_band(code: str) -> tuple[int | None, int | None] | None:
    for band, low, high in AGE_BANDS:
        if band == code:
            return low, high
    return None


def age_band_of(age_min: Any, age_max: Any) -> str:
    """The band whose bounds are exactly ``age_min``–``age_max`` (empty string if none)."""

    def _int(value):
        try:
            return None if value in (None, "") else int(Decimal(str(value)))
        except (ArithmeticError, ValueError):
            return "bad"

    low, high = _int(age_min), _int(age_max)
    for band, band_low, band_high in AGE_BANDS:
        if (band_low, band_high) == (low, high):
            return band
    return ""


def _points_balance():
    from langganan.loyalty.models import Account, AccountKind

    account = Account.objects.filter(customer_id=OuterRef("pk"), kind=AccountKind.POINTS)
    return Subquery(account.values("balance")[:1])


def customer_list(
    *,
    merchant: Merchant,
    filters: dict[str, Any],
    query: str = "",
    sort: str = DEFAULT_SORT,
    now: datetime | None = None,
) -> QuerySet[Customer]:
    """The merchant's customers matching ``filters`` (audience keys, validated by
    :func:`~langganan.campaigns.audiences.filters_clean`: :class:`InvalidInput` when bad) and
    the search text ``query``, sorted by ``sort``, with their insight, membership and tier and
    ``points_balance`` (``None``: no points account)."""
    customers = audiences.audience_queryset(merchant=merchant, filters=filters, now=now)
    if query:
        customers = customers.filter(pk__in=customer_search(merchant=merchant, query=query))
    sort = sort_parse(sort)
    column = SORTS[sort.lstrip("-")]
    descending = sort.startswith("-")
    if column == "full_name":
        # the (merchant, full_name) index, read forwards or backwards
        order = ["-full_name", "-id"] if descending else ["full_name", "id"]
    else:
        key = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        order = [key, "id"]
    return (
        customers.annotate(points_balance=_points_balance())
        .select_related("insight", "loyalty_member__tier")
        .order_by(*order)
    )


#: the sorts by a column of the stored insight, which :class:`InsightOrdered` pages through
INSIGHT_SORTS = frozenset(key for key, column in SORTS.items() if column.startswith("insight__"))


class InsightOrdered:
    """The merchant's whole list sorted by a column of the stored insight, page by page.

    Ordering all the customers joined to their insights (customers without one last) made
    PostgreSQL join and sort every customer before the 25 of a page were picked (at 100,000
    customers, 290 ms of a 350 ms page). Here a page's ids are read from the insight alone, in
    the order of its ``(merchant, column DESC, customer)`` index, then those customers are
    fetched from ``customers`` (the list's queryset, with everything a row shows). The order is
    the list's: the column (nulls last), then the customer's id; the customers whose column is
    empty or who have no insight come after, by id. The count is the queryset's.

    Only for the unfiltered, unsearched list (:func:`customer_page_source`): a filter keeps the
    queryset's own order.
    """

    def __init__(self, customers: QuerySet[Customer], *, merchant: Merchant, sort: str) -> None:
        from langganan.insights.models import CustomerInsight

        self.customers = customers
        field = SORTS[sort.lstrip("-")].removeprefix("insight__")
        key = F(field).desc() if sort.startswith("-") else F(field).asc()
        filled = CustomerInsight.objects.filter(merchant=merchant, **{f"{field}__isnull": False})
        empty = Customer.objects.filter(merchant=merchant).filter(
            Q(insight__isnull=True) | Q(**{f"insight__{field}__isnull": True})
        )
        self.parts = (
            filled.order_by(key, "customer_id").values_list("customer_id", flat=True),
            empty.order_by("id").values_list("id", flat=True),
        )

    def count(self) -> int:
        return self.customers.count()

    def __len__(self) -> int:
        return self.count()

    def ids(self, start: int, stop: int) -> list[int]:
        """The ids of the customers at positions ``start`` to ``stop`` of the list."""
        ids: list[int] = []
        offset = start
        for part in self.parts:
            wanted = stop - start - len(ids)
            if wanted <= 0:
                break
            got = list(part[offset : offset + wanted])
            if got:
                ids += got
                offset = 0
            else:  # the whole part lies before the page
                offset = max(0, offset - part.count())
        return ids

    def __getitem__(self, key: slice) -> list[Customer]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("InsightOrdered is read by slices")
        start = key.start or 0
        stop = key.stop if key.stop is not None else self.count()
        ids = self.ids(start, stop)
        rows = {c.pk: c for c in self.customers.filter(pk__in=ids)} if ids else {}
        return [rows[i] for i in ids if i in rows]


def customer_page_source(
    customers: QuerySet[Customer],
    *,
    merchant: Merchant,
    filters: dict[str, Any],
    query: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Customer] | InsightOrdered:
    """What the list's pages are cut from: ``customers`` (from :func:`customer_list`), or for
    the whole list sorted by an insight column, :class:`InsightOrdered` over it."""
    sort = sort_parse(sort)
    if filters or query or sort.lstrip("-") not in INSIGHT_SORTS:
        return customers
    return InsightOrdered(customers, merchant=merchant, sort=sort)


@dataclass(frozen=True)
class Chip:
    """One active filter value as the list shows it, with the URL without it."""

    key: str
    label: str
    value: str
    remove_url: str


def filters_as_query(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """An audience filter as the list's URL query pairs (lists repeated; ``member`` 1/0)."""
    pairs: list[tuple[str, str]] = []
    for key, value in filters.items():
        if isinstance(value, list):
            pairs.extend((key, str(v)) for v in value)
        elif isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        else:
            pairs.append((key, str(value)))
    return pairs


def list_query(filters: dict[str, Any], *, query: str = "", sort: str = "", **extra) -> str:
    """The query string of the list for ``filters`` (and search, sort), without ``?``."""
    pairs = filters_as_query(filters)
    if query:
        pairs.append(("q", query))
    if sort and sort != DEFAULT_SORT:
        pairs.append(("sort", sort))
    pairs.extend((k, str(v)) for k, v in extra.items() if v not in (None, ""))
    return urlencode(pairs)


def without(filters: dict[str, Any], key: str, value: Any = None) -> dict[str, Any]:
    """``filters`` without ``key`` (or only without ``value`` of a list key). Removing the
    move's stage removes its period too; removing an age bound keeps the other."""
    rest = dict(filters)
    if value is not None and isinstance(rest.get(key), list):
        kept = [v for v in rest[key] if v != value]
        if kept:
            rest[key] = kept
        else:
            rest.pop(key)
    else:
        rest.pop(key, None)
    if key == "moved_from":
        rest.pop("period", None)
    return rest
