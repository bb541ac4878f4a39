"""The customer a till names, with their membership, in one hand-joined query.

The cashier's card and every checkout start by reading the customer with their membership,
its tier and the referral that brought them (and, for the card, the stored insight). As an ORM
``select_related`` over those five tables this cost about 5 ms of CPU per request on the API
benchmark's database; written once here with :mod:`langganan.core.rows` it costs well under
one. The instances are the models' own, with the relations cached exactly as
``select_related`` leaves them, so the services that follow read no more than before.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connections

from langganan.core.models import Merchant
from langganan.core.rows import (
    ModelColumns,
    fetch_all,
    fetch_one,
    fetch_values,
    model_columns,
    set_related,
)
from langganan.customers.models import Customer
from langganan.insights.models import CustomerInsight
from langganan.loyalty.models import Account, Member, PointLot, Referral, Tier, Voucher
from langganan.sales.models import Product

#: The lookups a till can use: the customer's id, their phone number (E.164) or member code.
_BIGINT = 2**63
_WHERE = {"pk": "c.id = %s", "phone": "c.phone = %s", "member_code": "c.member_code = %s"}


def customer_with_member(
    merchant: Merchant, *, by: str, value: object, insight: bool = False
) -> Customer | None:
    """The merchant's customer whose ``by`` (``pk``, ``phone`` or ``member_code``) equals
    ``value`` (the lowest id when several match), or None.

    ``customer.loyalty_member`` (None when not a member) with ``.tier`` and
    ``.referral_received``, and with ``insight=True`` ``customer.insight``, are read in the
    same query; another merchant's membership or insight is treated as none.
    """
    if by == "pk" and not (isinstance(value, int) and -_BIGINT <= value < _BIGINT):
        return None  # as the ORM: an id no column can hold matches nothing
    connection = connections[Customer.objects.db]
    columns = _columns(insight)
    sql = _sql(connection.alias, by, insight)
    found = fetch_one(connection, sql, [merchant.pk, value], columns)
    if found is None:
        return None
    customer, member, tier, referral = found[:4]
    customer.merchant = merchant
    if member is not None and member.merchant_id != merchant.pk:
        member = None
    set_related(customer, Customer.loyalty_member, member)
    if member is not None:
        set_related(member, Member.customer, customer)
        set_related(member, Member.tier, tier)
        set_related(member, Member.referral_received, referral)
        if referral is not None:
            set_related(referral, Referral.referred, member)
    if insight:
        row = found[4]
        if row is not None and row.merchant_id != merchant.pk:
            row = None
        set_related(customer, Customer.insight, row)
        if row is not None:
            set_related(row, CustomerInsight.customer, customer)
    return customer


def _columns(insight: bool) -> tuple[ModelColumns, ...]:
    base = (
        model_columns(Customer, "c"),
        model_columns(Member, "mb"),
        model_columns(Tier, "t"),
        model_columns(Referral, "rr"),
    )
    return (*base, model_columns(CustomerInsight, "i")) if insight else base


@functools.lru_cache(maxsize=16)
def _sql(alias: str, by: str, insight: bool) -> str:
    # cached by the database alias: each thread has its own connection object
    connection = connections[alias]
    qn = connection.ops.quote_name
    columns = ", ".join(c.sql(connection) for c in _columns(insight))
    joins = [
        f"LEFT JOIN {qn(Member._meta.db_table)} mb ON mb.customer_id = c.id",
        f"LEFT JOIN {qn(Tier._meta.db_table)} t ON t.id = mb.tier_id",
        f"LEFT JOIN {qn(Referral._meta.db_table)} rr ON rr.referred_id = mb.id",
    ]
    if insight:
        joins.append(f"LEFT JOIN {qn(CustomerInsight._meta.db_table)} i ON i.customer_id = c.id")
    return (
        f"SELECT {columns} FROM {qn(Customer._meta.db_table)} c "  # noqa: S608 (names only)
        + " ".join(joins)
        + f" WHERE c.merchant_id = %s AND {_WHERE[by]} ORDER BY c.id LIMIT 1"
    )


def customer_accounts_of(customer: Customer, *, lock: bool = False) -> list[Account]:
    """The customer's ledger accounts (points, store credit, tab: those they have), in id
    order; ``lock=True`` locks their rows (``SELECT … FOR UPDATE`` where the database has it;
    inside a transaction)."""
    connection = connections[Account.objects.db]
    columns = model_columns(Account, "a")
    sql = _list_sql(connection.alias, "accounts")
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    accounts = fetch_all(connection, sql, [customer.merchant_id, customer.pk], columns)
    for account in accounts:
        set_related(account, Account.customer, customer)
    return accounts


def personal_vouchers_of(customer: Customer) -> list[Voucher]:
    """The customer's active personal vouchers (templates left out), soonest to expire first,
    then by code; their dates and uses are the caller's to check."""
    connection = connections[Voucher.objects.db]
    columns = model_columns(Voucher, "v")
    return fetch_all(
        connection,
        _list_sql(connection.alias, "vouchers"),
        [customer.merchant_id, customer.pk],
        columns,
    )


def products_by_id(merchant: Merchant, ids: Iterable[int]) -> dict[int, Product]:
    """The merchant's products among ``ids`` (active or not), by id: another merchant's, an
    unknown id or one no column can hold is simply absent."""
    wanted = sorted({i for i in ids if isinstance(i, int) and -_BIGINT <= i < _BIGINT})
    if not wanted:
        return {}
    connection = connections[Product.objects.db]
    columns = model_columns(Product, "p")
    found = fetch_all(
        connection, _products_sql(connection.alias, len(wanted)), [merchant.pk, *wanted], columns
    )
    for product in found:
        product.merchant = merchant
    return {p.pk: p for p in found}


@functools.cache
def _products_sql(alias: str, count: int) -> str:
    connection = connections[alias]
    qn = connection.ops.quote_name
    holders = ", ".join(["%s"] * count)
    return (
        f"SELECT {model_columns(Product, 'p').sql(connection)} "  # noqa: S608 (names only)
        f"FROM {qn(Product._meta.db_table)} p WHERE p.merchant_id = %s AND p.id IN ({holders})"
    )


def points_left_by_expiry(account: Account) -> list[tuple[datetime, Decimal]]:
    """``(expires_at, points left)`` of the account's lots that still hold points and expire,
    soonest first, one row per expiry time (a member has one lot per earning)."""
    connection = connections[PointLot.objects.db]
    return fetch_values(
        connection,
        _lots_sql(connection.alias),
        [account.pk],
        [PointLot._meta.get_field("expires_at"), PointLot._meta.get_field("remaining")],
    )


@functools.cache
def _lots_sql(alias: str) -> str:
    qn = connections[alias].ops.quote_name
    return (
        f"SELECT l.expires_at, SUM(l.remaining) FROM {qn(PointLot._meta.db_table)} l "  # noqa: S608 (names only)
        "WHERE l.account_id = %s AND l.remaining > 0 AND l.expires_at IS NOT NULL "
        "GROUP BY l.expires_at ORDER BY l.expires_at"
    )


#: The single-table reads: model, table alias, WHERE, ORDER BY (portable SQL).
_LISTS = {
    "accounts": (Account, "a", "a.merchant_id = %s AND a.customer_id = %s", "a.id"),
    "vouchers": (
        Voucher,
        "v",
        "v.merchant_id = %s AND v.customer_id = %s AND v.is_active AND NOT v.is_template",
        "CASE WHEN v.valid_until IS NULL THEN 1 ELSE 0 END, v.valid_until, v.code",
    ),
}


@functools.lru_cache(maxsize=8)
def _list_sql(alias: str, which: str) -> str:
    # cached by the database alias: each thread has its own connection object
    connection = connections[alias]
    model, table, where, order = _LISTS[which]
    return (
        f"SELECT {model_columns(model, table).sql(connection)} "  # noqa: S608 (names only)
        f"FROM {connection.ops.quote_name(model._meta.db_table)} {table} "
        f"WHERE {where} ORDER BY {order}"
    )


def care_brief(*, merchant_id: int, customer_id: int) -> tuple[int, int | None]:
    """How many of the customer's complaints are open, and her latest feedback rating."""
    from langganan.care.models import OPEN_STATUSES, Complaint

    connection = connections[Complaint.objects.db]
    rows = fetch_values(
        connection,
        _care_sql(connection.alias),
        [merchant_id, customer_id, *OPEN_STATUSES, merchant_id, customer_id],
        [None, None],
    )
    open_n, rating = rows[0]
    return int(open_n or 0), (int(rating) if rating is not None else None)


@functools.cache
def _care_sql(alias: str) -> str:
    from langganan.care.models import OPEN_STATUSES, Complaint, Feedback

    qn = connections[alias].ops.quote_name
    holders = ", ".join(["%s"] * len(OPEN_STATUSES))
    return (
        f"SELECT (SELECT COUNT(*) FROM {qn(Complaint._meta.db_table)} c "  # noqa: S608 (names)
        f"WHERE c.merchant_id = %s AND c.customer_id = %s AND c.status IN ({holders})), "
        f"(SELECT f.rating FROM {qn(Feedback._meta.db_table)} f "
        "WHERE f.merchant_id = %s AND f.customer_id = %s "
        "ORDER BY f.created_at DESC, f.id DESC LIMIT 1)"
    )
