"""Write the simulated demo café into the database, and ensure the demo logins.

The simulation (:mod:`langganan.demo.simulation`) runs first, outside any transaction; the
writes then happen in one ``transaction.atomic`` with ``bulk_create`` in batches, so the
database is either untouched or holds the whole merchant.

What the demo makes is marked (:mod:`langganan.demo.models`): a demo merchant, and its two
logins. The owner login is an owner of its own demo café only — no other membership, not
staff, not a superuser, so no Django admin — and a login is reset only when the demo made it:
against a database with real merchants and accounts the demo can neither take over an account
nor replace a real merchant.
"""

from __future__ import annotations

import secrets
import time as clock
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from langganan.core.errors import Conflict
from langganan.core.models import Membership, Merchant, Role
from langganan.core.services import merchant_create, outlet_create, staff_user_create
from langganan.customers.models import ConsentEvent, Customer
from langganan.demo import menu
from langganan.demo.btyd import PurchaseParams
from langganan.demo.campaigns import demo_campaigns_build, demo_campaigns_delete
from langganan.demo.care import demo_care_build, demo_care_delete
from langganan.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED
from langganan.demo.loyalty import DemoIds, demo_loyalty_build, demo_loyalty_delete
from langganan.demo.models import DemoLogin, DemoMerchant
from langganan.demo.simulation import OUTLETS, DemoDataset, simulate_demo
from langganan.demo.truth import write_dataset_truth
from langganan.sales.models import (
    LineItem,
    Product,
    ProductCategory,
    Transaction,
    TransactionPayment,
)

DEMO_SLUG = "demo"
DEMO_NAME = "Kopi Langganan"
DEMO_USERNAME = "demo"
DEMO_CASHIER = "kasir"
DEMO_OUTLET = "JKT-01"
DEMO_KEY_NAME = "demo POS"
DEMO_ADDRESS = "http://127.0.0.1:8000"
BATCH_SIZE = 2000
ERR_MERCHANT_IN_USE = "the merchant's data is referenced elsewhere and cannot be replaced"
ERR_NOT_A_DEMO_MERCHANT = (
    "merchant {slug} exists and was not built by `langganan demo`: the demo neither replaces it "
    "nor adds logins to it; choose another --slug"
)
ERR_NOT_A_DEMO_LOGIN = (
    "a login named {username} exists and was not made by `langganan demo`: the demo does not "
    "reset it; choose another --slug (its logins are named after it)"
)
ERR_REAL_MERCHANTS = (
    "this database holds {count} merchant(s) not built by `langganan demo` ({slugs}): the demo "
    "is meant for an empty database. Point DATABASE_URL or LANGGANAN_DATA_DIR at a new one, or "
    "add --allow-existing-data to build the demo café beside them anyway"
)


@dataclass(frozen=True)
class DemoBuild:
    """What :func:`demo_merchant_build` did."""

    merchant: Merchant
    built: bool  # False when the merchant already existed and was left as it was
    customers: int = 0
    transactions: int = 0
    line_items: int = 0
    consent_events: int = 0
    members: int = 0
    seconds: float = 0.0
    truth_rows: int | None = None
    dataset: DemoDataset | None = None


def demo_merchant_build(
    *,
    slug: str = DEMO_SLUG,
    name: str = DEMO_NAME,
    n_customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    end: date,
    replace: bool = False,
    truth_path: str | Path | None = None,
    params: PurchaseParams | None = None,
) -> DemoBuild:
    """Build the demo café; an existing merchant is left alone unless ``replace``.

    ``params``: the customers' purchase and dropout rates (the demo's defaults when None; a
    benchmark asks for busier customers to reach its number of transactions)."""
    started = clock.perf_counter()
    existing = Merchant.objects.filter(slug=slug).first()
    if existing is not None and not is_demo_merchant(existing):
        raise Conflict(ERR_NOT_A_DEMO_MERCHANT.format(slug=slug), field="slug")
    if existing is not None and not replace:
        return DemoBuild(merchant=existing, built=False)
    dataset = simulate_demo(n_customers=n_customers, seed=seed, end=end, params=params)
    with transaction.atomic():
        if existing is not None:
            demo_merchant_delete(merchant=existing)
        merchant = merchant_create(slug=slug, name=name, business_type="cafe")
        DemoMerchant.objects.create(merchant=merchant, seed=seed)
        counts, ids = _write(merchant, dataset)
        loyalty = demo_loyalty_build(merchant=merchant, dataset=dataset, ids=ids)
        campaigns = demo_campaigns_build(merchant=merchant, end=end, seed=seed)
        demo_care_build(merchant=merchant, end=end, seed=seed)
    truth_rows = write_dataset_truth(truth_path, dataset) if truth_path else None
    return DemoBuild(
        merchant=merchant,
        built=True,
        customers=counts["customers"],
        transactions=counts["transactions"] + campaigns.response_sales,
        line_items=counts["line_items"] + campaigns.response_lines,
        consent_events=counts["consent_events"],
        members=loyalty.members,
        seconds=clock.perf_counter() - started,
        truth_rows=truth_rows,
        dataset=dataset,
    )


@transaction.atomic
def demo_merchant_delete(*, merchant: Merchant) -> None:
    """Delete a merchant and everything it owns, children before the rows they protect.

    Its loyalty ledger goes too (:func:`demo_loyalty_delete`): a demo merchant's data is
    synthetic, so the append-only rule of the ledger is lifted for this deletion only.
    """
    from langganan.api.models import ApiKey

    demo_care_delete(merchant=merchant)  # its recoveries protect vouchers and the ledger
    demo_campaigns_delete(merchant=merchant)
    demo_loyalty_delete(merchant=merchant)
    ApiKey.objects.filter(merchant=merchant).delete()  # it protects the outlet
    LineItem.objects.filter(transaction__merchant=merchant).delete()
    Transaction.objects.filter(merchant=merchant, refund_of__isnull=False).delete()
    Transaction.objects.filter(merchant=merchant).delete()
    Product.objects.filter(merchant=merchant).delete()
    ProductCategory.objects.filter(merchant=merchant).delete()
    try:
        merchant.delete()
    except ProtectedError as exc:
        raise Conflict(ERR_MERCHANT_IN_USE, field="slug") from exc


def is_demo_merchant(merchant: Merchant) -> bool:
    """Whether ``langganan demo`` built this merchant."""
    return DemoMerchant.objects.filter(merchant=merchant).exists()


def demo_database_check(*, allow_existing_data: bool = False) -> None:
    """Refuse a database that holds merchants the demo did not build, unless allowed."""
    real = Merchant.objects.filter(demo_mark__isnull=True).order_by("slug")
    count = real.count()
    if count and not allow_existing_data:
        slugs = ", ".join(real.values_list("slug", flat=True)[:5]) + (", …" if count > 5 else "")
        raise Conflict(ERR_REAL_MERCHANTS.format(count=count, slugs=slugs))


def demo_usernames(slug: str) -> tuple[str, str]:
    """The owner's and the cashier's login of the demo at ``slug``: ``demo`` and ``kasir``
    for the default slug, ``demo-<slug>`` and ``kasir-<slug>`` for another, so each demo café
    has its own logins and none works at two."""
    if slug == DEMO_SLUG:
        return DEMO_USERNAME, DEMO_CASHIER
    return f"{DEMO_USERNAME}-{slug}", f"{DEMO_CASHIER}-{slug}"


def _demo_login_ensure(
    *, merchant: Merchant, username: str, role: str, outlet_code: str | None = None
) -> tuple[AbstractBaseUser, str]:
    from langganan.core.selectors import outlet_get

    if not is_demo_merchant(merchant):
        raise Conflict(ERR_NOT_A_DEMO_MERCHANT.format(slug=merchant.slug), field="slug")
    outlet = outlet_get(merchant=merchant, code=outlet_code) if outlet_code else None
    existing = get_user_model().objects.filter(username=username).first()
    if existing is not None and not DemoLogin.objects.filter(user=existing).exists():
        raise Conflict(ERR_NOT_A_DEMO_LOGIN.format(username=username), field="username")
    password = secrets.token_urlsafe(12)
    user = staff_user_create(
        merchant=merchant,
        username=username,
        password=password,
        role=role,
        outlet=outlet,
        reset_password_if_exists=True,
    )
    # the dashboard of its own café only: no admin, and no membership anywhere else
    user.is_staff = False
    user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    Membership.objects.filter(user=user).exclude(merchant=merchant).delete()
    DemoLogin.objects.get_or_create(user=user)
    return user, password


@transaction.atomic
def demo_login_ensure(
    *, merchant: Merchant, username: str | None = None
) -> tuple[AbstractBaseUser, str]:
    """Make ``username`` (by default :func:`demo_usernames`' owner) the owner of the demo
    merchant ``merchant`` and of nothing else, with a new random password; not staff, not a
    superuser (the dashboard, not the Django admin).

    Returns the user and the password (shown to the person running the demo once). Refused
    (:class:`Conflict`) when ``merchant`` is not a demo merchant or a login of that name exists
    that the demo did not make.
    """
    return _demo_login_ensure(
        merchant=merchant,
        username=username or demo_usernames(merchant.slug)[0],
        role=Role.OWNER,
    )


@transaction.atomic
def demo_cashier_ensure(
    *, merchant: Merchant, username: str | None = None, outlet_code: str = DEMO_OUTLET
) -> tuple[AbstractBaseUser, str]:
    """Make ``username`` (by default :func:`demo_usernames`' cashier) a cashier of the demo
    merchant at the outlet ``outlet_code`` only, with a new random password (shown once, like
    the owner's); refused like :func:`demo_login_ensure`."""
    return _demo_login_ensure(
        merchant=merchant,
        username=username or demo_usernames(merchant.slug)[1],
        role=Role.CASHIER,
        outlet_code=outlet_code,
    )


@transaction.atomic
def demo_api_key_ensure(
    *, merchant: Merchant, outlet_code: str = DEMO_OUTLET, name: str = DEMO_KEY_NAME
) -> str:
    """A new API key of the demo outlet, returned to be shown once, like the password.

    Only a hash of a key is stored, so an existing key cannot be shown again: the demo's
    earlier keys (those with ``name`` on that outlet) are revoked and a new one is made. Other
    keys of the merchant are left alone."""
    from langganan.api.models import ApiKey
    from langganan.api.services import api_key_create
    from langganan.core.selectors import outlet_get

    outlet = outlet_get(merchant=merchant, code=outlet_code)
    ApiKey.objects.filter(
        merchant=merchant, outlet=outlet, name=name, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    _key, raw = api_key_create(merchant=merchant, outlet=outlet, name=name)
    return raw


def _money(rupiah: int) -> Decimal:
    return Decimal(rupiah).quantize(Decimal("0.01"))


def _write(merchant: Merchant, dataset: DemoDataset) -> tuple[dict[str, int], DemoIds]:
    outlets = {
        code: outlet_create(merchant=merchant, code=code, name=name, address=address, city=city)
        for code, name, address, city, _share in OUTLETS
    }
    categories = ProductCategory.objects.bulk_create(
        [ProductCategory(merchant=merchant, name=name) for name in menu.CATEGORIES]
    )
    category_ids = dict(
        zip(menu.CATEGORIES, _ids(categories, ProductCategory, merchant, "name"), strict=True)
    )
    products = Product.objects.bulk_create(
        [
            Product(
                merchant=merchant,
                name=item.name,
                sku=item.sku,
                category_id=category_ids[item.category],
                price=_money(item.price),
            )
            for item in menu.MENU
        ]
    )
    product_ids = _ids(products, Product, merchant, "name")

    customers = Customer.objects.bulk_create(
        [
            Customer(
                merchant=merchant,
                full_name=c.person.full_name,
                gender=c.person.gender,
                birth_date=c.person.birth_date,
                phone=c.person.phone,
                email=c.person.email,
                city=c.person.city,
                province=c.person.province,
                member_code=c.member_code,
                joined_at=c.joined_at,
                acquisition_source=c.person.acquisition_source,
                tags=list(c.tags),
            )
            for c in dataset.customers
        ],
        batch_size=BATCH_SIZE,
    )
    customer_ids = _ids(customers, Customer, merchant, "member_code")

    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                merchant=merchant,
                customer_id=customer_ids[e.customer],
                channel=e.channel,
                granted=e.granted,
                occurred_at=e.occurred_at,
                source=e.source,
                wording_version=e.wording_version,
            )
            for e in dataset.consents
        ],
        batch_size=BATCH_SIZE,
    )

    sales = Transaction.objects.bulk_create(
        [
            Transaction(
                merchant=merchant,
                outlet=outlets[t.outlet_code],
                customer_id=None if t.customer is None else customer_ids[t.customer],
                occurred_at=t.occurred_at,
                total=_money(t.total),
                payment_method=t.payment_method,
                channel=t.channel,
                external_id=t.receipt,
            )
            for t in dataset.transactions
        ],
        batch_size=BATCH_SIZE,
    )
    sale_ids = _ids(sales, Transaction, merchant, "external_id")
    # how each sale was paid: one row of its method (the payments table is the truth for the
    # payment mix)
    TransactionPayment.objects.bulk_create(
        [
            TransactionPayment(
                transaction_id=sale_id, method=t.payment_method, amount=_money(t.total)
            )
            for sale_id, t in zip(sale_ids, dataset.transactions, strict=True)
            if _money(t.total) > 0
        ],
        batch_size=BATCH_SIZE,
    )

    lines = []
    for sale_id, txn in zip(sale_ids, dataset.transactions, strict=True):
        for line in txn.lines:
            lines.append(
                LineItem(
                    transaction_id=sale_id,
                    product_id=product_ids[line.item],
                    product_name=menu.MENU[line.item].name,
                    quantity=Decimal(line.quantity),
                    unit_price=_money(line.unit_price),
                    discount=_money(line.discount),
                )
            )
    LineItem.objects.bulk_create(lines, batch_size=BATCH_SIZE)
    counts = {
        "customers": len(customers),
        "transactions": len(sales),
        "line_items": len(lines),
        "consent_events": len(dataset.consents),
    }
    return counts, DemoIds(
        customers=customer_ids, sales=sale_ids, products=product_ids, categories=category_ids
    )


def _ids(objs: list, model, merchant: Merchant, key: str) -> list[int]:
    """The primary keys ``bulk_create`` set, or (on a backend that cannot return them) a lookup."""
    if all(obj.pk is not None for obj in objs):
        return [obj.pk for obj in objs]
    by_key = dict(  # pragma: no cover - SQLite ≥ 3.35 and PostgreSQL return the ids
        model.objects.filter(merchant=merchant).values_list(key, "pk").iterator()
    )
    return [by_key[getattr(obj, key)] for obj in objs]  # pragma: no cover
