"""The demo café's loyalty program: settings, tiers, rules, rewards, vouchers, members, tabs.

Called by :func:`langganan.demo.generator.demo_merchant_build` inside its database transaction,
after the sales are written. About :data:`MEMBER_SHARE` of the customers become members at their
first purchase; their history on the ledger (sign-up and birthday bonuses, points and cashback
on every sale, rewards redeemed, store credit spent, the expiry run at the end of the history)
is replayed by :mod:`langganan.demo.ledger_history` and written in bulk. The last steps use the
ordinary services: the tier review at the end of the history, and a few trusted regulars who
may run a tab (kasbon).

Everything is drawn from a ``random.Random`` seeded with the demo seed, so the same seed gives
the same program, members, codes and ledger.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from langganan.core.models import Merchant
from langganan.demo import menu
from langganan.demo.ledger_history import LedgerHistory, ledger_history_write
from langganan.demo.simulation import JAKARTA, DemoDataset
from langganan.loyalty.members import REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH
from langganan.loyalty.models import (
    Account,
    CashbackRule,
    CheckoutRecord,
    DiscountType,
    EarnRule,
    Entry,
    ExpiryPolicy,
    Journal,
    LotUse,
    Member,
    PointLot,
    Program,
    Referral,
    Reward,
    Tier,
    TierBasis,
    TierChange,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from langganan.loyalty.tab import tab_charge, tab_pay, tab_set_limit
from langganan.loyalty.tiers import tier_review_run
from langganan.loyalty.vouchers import CODE_ALPHABET, CODE_LENGTH, WELCOME_BATCH
from langganan.sales.models import Transaction

MEMBER_SHARE = 0.6
TAB_REGULARS = 6
SEED_SALT = 0x10_1A17  # keeps this stream apart from the simulation's

#: name, rank, minimum spend over 365 days (Rp), points multiplier, cashback rate, benefits
TIERS = (
    ("Silver", 1, 0, "1", "0", "1 poin per Rp 10.000"),
    ("Gold", 2, 300_000, "1.25", "0", "Poin 1,25×"),
    ("Platinum", 3, 1_000_000, "1.5", "0.02", "Poin 1,5× dan cashback 2 % tiap transaksi"),
)


@dataclass(frozen=True)
class DemoIds:
    """Database ids of what :func:`~langganan.demo.generator._write` wrote, in dataset order."""

    customers: list[int]
    sales: list[int]
    products: list[int]
    categories: dict[str, int]


@dataclass(frozen=True)
class DemoLoyalty:
    members: int
    journals: int
    vouchers: int
    tabs: int


def demo_loyalty_build(*, merchant: Merchant, dataset: DemoDataset, ids: DemoIds) -> DemoLoyalty:
    """Create the program and its members' history; see the module docstring."""
    rng = random.Random(dataset.seed * 1_000_003 + SEED_SALT)  # noqa: S311 - demo data only
    now = dataset.observation_end
    program, tiers = _program_create(merchant, ids, now)
    chosen = sorted(
        rng.sample(range(len(dataset.customers)), round(MEMBER_SHARE * len(ids.customers)))
    )
    members = _members_create(merchant, dataset, ids, chosen, rng)
    history = LedgerHistory(
        merchant=merchant, program=program, tiers=tiers, now=now, rng=rng, ids=ids
    )
    journals = ledger_history_write(history=history, dataset=dataset, members=members)
    vouchers = _vouchers_create(merchant, program, dataset, members, now, rng)
    tier_review_run(merchant=merchant, at=now)
    tabs = _tabs_open(dataset, ids, members, now, rng)
    return DemoLoyalty(members=len(members), journals=journals, vouchers=vouchers, tabs=tabs)


def _program_create(merchant: Merchant, ids: DemoIds, now: datetime) -> tuple[Program, list[Tier]]:
    program = Program.objects.create(
        merchant=merchant,
        name="Member Kopi Langganan",
        earn_step=Decimal("10000"),
        earn_points=1,
        point_value=Decimal("100"),
        min_points_to_redeem=50,
        max_redeem_share=Decimal("0.5"),
        expiry_policy=ExpiryPolicy.MONTHS,
        expiry_months=12,
        signup_bonus=20,
        birthday_bonus=50,
        tier_basis=TierBasis.SPEND,
        tier_window_days=365,
        tier_review_months=3,
        referral_referrer_points=30,
        referral_referred_points=20,
        referral_min_spend=Decimal("25000"),
        welcome_voucher_days=30,
    )
    tiers = Tier.objects.bulk_create(
        [
            Tier(
                program=program,
                name=name,
                rank=rank,
                min_spend=Decimal(spend),
                earn_multiplier=Decimal(multiplier),
                cashback_rate=Decimal(cashback),
                benefits=benefits,
            )
            for name, rank, spend, multiplier, cashback, benefits in TIERS
        ]
    )
    product = {item.name: pk for item, pk in zip(menu.MENU, ids.products, strict=True)}
    local_now = now.astimezone(JAKARTA).date()
    promo_start = local_now - timedelta(days=120)
    EarnRule.objects.bulk_create(
        [
            EarnRule(
                program=program,
                name="Poin ganda Roti & Kue",
                multiplier=Decimal("2"),
                category_id=ids.categories[menu.ROTI],
            ),
            EarnRule(
                program=program,
                name="Pekan ulang tahun kafe: poin 3×",
                multiplier=Decimal("3"),
                starts_on=promo_start,
                ends_on=promo_start + timedelta(days=6),
            ),
        ]
    )
    CashbackRule.objects.create(
        program=program,
        name="Cashback 5 % belanja Rp 100.000",
        min_spend=Decimal("100000"),
        rate=Decimal("0.05"),
        max_amount=Decimal("10000"),
    )
    Reward.objects.bulk_create(
        [
            Reward(
                program=program,
                name="Gratis Kopi Susu Gula Aren",
                points_cost=250,
                product_id=product["Kopi Susu Gula Aren"],
            ),
            Reward(
                program=program,
                name="Gratis Es Teh Manis",
                points_cost=100,
                product_id=product["Es Teh Manis"],
            ),
        ]
    )
    program.welcome_voucher = Voucher.objects.create(
        merchant=merchant,
        code="WELCOME-TEMPLATE",
        name="Selamat datang: potongan Rp 10.000",
        kind=VoucherKind.SINGLE_USE,
        max_uses=1,
        discount_type=DiscountType.FIXED,
        value=Decimal("10000"),
        min_spend=Decimal("30000"),
        is_template=True,
    )
    program.save(update_fields=["welcome_voucher"])
    return program, tiers


def _codes(rng: random.Random, n: int, alphabet: str, length: int, taken: set[str]) -> list[str]:
    codes = []
    while len(codes) < n:
        code = "".join(rng.choice(alphabet) for _ in range(length))
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


def _members_create(
    merchant: Merchant,
    dataset: DemoDataset,
    ids: DemoIds,
    chosen: list[int],
    rng: random.Random,
) -> dict[int, Member]:
    """Members enrolled at their first purchase, by dataset customer index."""
    codes = _codes(rng, len(chosen), REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH, set())
    members = Member.objects.bulk_create(
        [
            Member(
                merchant=merchant,
                customer_id=ids.customers[index],
                referral_code=code,
                enrolled_at=dataset.customers[index].joined_at,
            )
            for index, code in zip(chosen, codes, strict=True)
        ]
    )
    return dict(zip(chosen, members, strict=True))


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=JAKARTA)


def _vouchers_create(
    merchant: Merchant,
    program: Program,
    dataset: DemoDataset,
    members: dict[int, Member],
    now: datetime,
    rng: random.Random,
) -> int:
    """The shared promo code, every member's welcome voucher, and a few personal ones."""
    today = now.astimezone(JAKARTA).date()
    vouchers = [
        Voucher(
            merchant=merchant,
            code="HEMAT10",
            name="Hemat 10 % (min. Rp 50.000)",
            kind=VoucherKind.SHARED,
            discount_type=DiscountType.PERCENT,
            value=Decimal("10"),
            max_discount=Decimal("25000"),
            min_spend=Decimal("50000"),
            valid_from=now - timedelta(days=14),
            valid_until=_end_of_day(today + timedelta(days=30)),
            max_uses=200,
            per_customer_limit=1,
        ),
        Voucher(
            merchant=merchant,
            code="ULTAH-TEMPLATE",
            name="Selamat ulang tahun: gratis Kopi Susu Gula Aren",
            kind=VoucherKind.SINGLE_USE,
            max_uses=1,
            discount_type=DiscountType.FREE_ITEM,
            free_product_id=program.rewards.get(points_cost=250).product_id,
            is_template=True,
        ),
    ]
    template = program.welcome_voucher
    taken = {"HEMAT10", "ULTAH-TEMPLATE", template.code}
    ordered = sorted(members.items())
    codes = _codes(rng, len(ordered), CODE_ALPHABET, CODE_LENGTH, taken)
    for (_index, member), code in zip(ordered, codes, strict=True):
        issued = member.enrolled_at.astimezone(JAKARTA).date()
        vouchers.append(
            Voucher(
                merchant=merchant,
                code=code,
                name=template.name,
                discount_type=template.discount_type,
                value=template.value,
                min_spend=template.min_spend,
                kind=VoucherKind.SINGLE_USE,
                max_uses=1,
                customer_id=member.customer_id,
                batch=WELCOME_BATCH,
                valid_from=member.enrolled_at,
                valid_until=_end_of_day(issued + timedelta(days=program.welcome_voucher_days)),
            )
        )
    birthday = vouchers[1]
    soon = [
        member
        for index, member in ordered
        if (born := dataset.customers[index].person.birth_date) is not None
        and 0 <= (_next_birthday(born, today) - today).days < 30
    ]
    loyal = rng.sample([m for _i, m in ordered], min(12, len(ordered)))
    personal = [(m, birthday, "ulang-tahun", 30) for m in soon] + [
        (m, None, "terima-kasih", 21) for m in loyal
    ]
    for (member, source, batch, days), code in zip(
        personal, _codes(rng, len(personal), CODE_ALPHABET, CODE_LENGTH, taken), strict=True
    ):
        fields = (
            {
                "name": source.name,
                "discount_type": source.discount_type,
                "free_product_id": source.free_product_id,
            }
            if source is not None
            else {
                "name": "Terima kasih: potongan Rp 15.000",
                "discount_type": DiscountType.FIXED,
                "value": Decimal("15000"),
                "min_spend": Decimal("40000"),
            }
        )
        vouchers.append(
            Voucher(
                merchant=merchant,
                code=code,
                kind=VoucherKind.SINGLE_USE,
                max_uses=1,
                customer_id=member.customer_id,
                batch=batch,
                valid_from=now - timedelta(days=2),
                valid_until=_end_of_day(today + timedelta(days=days)),
                **fields,
            )
        )
    Voucher.objects.bulk_create(vouchers, batch_size=1000)
    return len(vouchers)


def _next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")  # pragma: no cover


def _tabs_open(
    dataset: DemoDataset,
    ids: DemoIds,
    members: dict[int, Member],
    now: datetime,
    rng: random.Random,
) -> int:
    """A few regulars of the last 60 days may run a tab: a limit, charges, part paid back."""
    since = now - timedelta(days=60)
    recent: dict[int, list[int]] = {}
    for position, txn in enumerate(dataset.transactions):
        if txn.customer in members and txn.occurred_at >= since:
            recent.setdefault(txn.customer, []).append(position)
    regulars = sorted(recent, key=lambda c: (-len(recent[c]), c))[:TAB_REGULARS]
    for index in regulars:
        customer = members[index].customer
        positions = sorted(recent[index], key=lambda p: dataset.transactions[p].occurred_at)
        limit = Decimal(rng.choice((200_000, 300_000, 500_000)))
        tab_set_limit(customer=customer, limit=limit, at=since, actor="demo")
        owed = Decimal(0)
        for position in positions[-4:]:
            txn = dataset.transactions[position]
            paid_with_credit = Entry.objects.filter(
                journal__merchant_id=customer.merchant_id,
                journal__key=f"sale:{ids.sales[position]}:credit",
                amount__gt=0,
            ).aggregate(total=Sum("amount"))["total"]
            amount = Decimal(txn.total) - (paid_with_credit or 0)
            if amount <= 0:
                continue
            if owed + amount > limit:
                break
            tab_charge(
                customer=customer,
                amount=amount,
                key=f"sale:{ids.sales[position]}:tab",
                at=txn.occurred_at,
                transaction_obj=Transaction(
                    pk=ids.sales[position], merchant_id=customer.merchant_id
                ),
            )
            owed += amount
        last = txn.occurred_at
        if owed > 0 and rng.random() < 0.7:
            paid = (owed / 2).quantize(Decimal("1000"))
            if 0 < paid < owed:
                tab_pay(
                    customer=customer,
                    amount=paid,
                    key=f"tab-pay:{customer.pk}:1",
                    at=last + timedelta(hours=1),
                    memo="bayar sebagian (tunai)",
                )
    return len(regulars)


_triggers = importlib.import_module("langganan.loyalty.migrations.0002_ledger_triggers")
_LEDGER_TABLES = _triggers.TABLES


def _ledger_delete_allowed(allowed: bool) -> None:
    """Lift (or restore) the append-only triggers of the ledger tables, inside the caller's
    transaction: DDL is transactional on SQLite and PostgreSQL, so a failure restores them."""
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres and allowed:
            # ALTER TABLE refuses while deferred foreign-key checks of this transaction are
            # pending: run them now, and keep them immediate until the triggers are back.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in _LEDGER_TABLES:
            if postgres:
                verb = "DISABLE" if allowed else "ENABLE"
                cursor.execute(f"ALTER TABLE {table} {verb} TRIGGER {table}_append_only")
            elif allowed:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            else:
                create = next(s for s in _triggers.SQLITE_FORWARD if f"{table}_no_delete " in s)
                cursor.execute(create)
        if postgres and not allowed:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@transaction.atomic
def demo_loyalty_delete(*, merchant: Merchant) -> None:
    """Delete the merchant's whole loyalty side, the ledger included (demo merchants only:
    see :func:`langganan.demo.generator.demo_merchant_delete`)."""
    LotUse.objects.filter(lot__account__merchant=merchant).delete()
    PointLot.objects.filter(account__merchant=merchant).delete()
    has_ledger = Journal.objects.filter(merchant=merchant).exists()
    if has_ledger:
        _ledger_delete_allowed(True)
        Entry.objects.filter(account__merchant=merchant)._raw_delete(using="default")
        Journal.objects.filter(merchant=merchant)._raw_delete(using="default")
        _ledger_delete_allowed(False)
    Account.objects.filter(merchant=merchant).delete()
    VoucherRedemption.objects.filter(voucher__merchant=merchant).delete()
    CheckoutRecord.objects.filter(merchant=merchant).delete()
    Referral.objects.filter(merchant=merchant).delete()
    TierChange.objects.filter(member__merchant=merchant).delete()
    Member.objects.filter(merchant=merchant).delete()
    Program.objects.filter(merchant=merchant).update(welcome_voucher=None)
    Voucher.objects.filter(merchant=merchant).delete()
    Program.objects.filter(merchant=merchant).delete()
