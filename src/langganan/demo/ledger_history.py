"""Replay the demo members' loyalty history and write it to the ledger in bulk.

The services post one event at a time (a dozen queries each); the demo has tens of thousands of
events, so this module replays them in memory with the same rules and writes the same rows the
services would have written, with ``bulk_create``:

- sign-up bonus at enrolment (key ``signup:<customer id>``), a birthday bonus on each birthday
  after it (``birthday:<customer id>:<year>``), each with its :class:`PointLot`;
- per sale, in the order checkout posts them: a reward redeemed with points
  (``sale:<id>:redeem``, oldest-expiring usable lots first, with :class:`LotUse` rows), store
  credit spent (``sale:<id>:credit``), points earned by :func:`points_for_sale`
  (``sale:<id>:earn``), cashback by :func:`cashback_for_sale` (``sale:<id>:cashback``), then
  the upgrade to a better tier when the 365-day spend reaches it (a ``TierChange``);
- the expiry run at the end of the history (``expire:lot:<lot id>``).

Entries are inserted in time order per account, so the database triggers keep every balance
equal to the sum of its entries and the floors are never crossed
(``langganan loyalty check`` passes).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from langganan.core.models import Merchant
from langganan.demo import menu
from langganan.demo.simulation import JAKARTA, DemoDataset
from langganan.loyalty.credit import cashback_for_sale
from langganan.loyalty.ledger import system_account
from langganan.loyalty.models import (
    Account,
    AccountKind,
    Entry,
    Journal,
    JournalKind,
    LotUse,
    Member,
    PointLot,
    Program,
    Tier,
    TierChange,
    Unit,
)
from langganan.loyalty.points import SaleLine, points_expires_at, points_for_sale

if TYPE_CHECKING:
    from langganan.demo.loyalty import DemoIds

BATCH = 2000
ZERO = Decimal("0")
REDEEM_CHANCE = 0.35  # a member with enough points takes a reward at this share of visits
CREDIT_SPEND_CHANCE = 0.5
CREDIT_SPEND_MIN = Decimal("5000")


@dataclass
class _Lot:
    journal: int  # index into LedgerHistory.journals
    account: str
    earned_at: datetime
    expires_at: datetime | None
    amount: int
    remaining: int
    uses: list[tuple[int, int]] = field(default_factory=list)  # (journal index, points)


@dataclass
class LedgerHistory:
    """The replay's settings and what it collected, ready to be written."""

    merchant: Merchant
    program: Program
    tiers: list[Tier]
    now: datetime
    rng: random.Random
    ids: DemoIds
    journals: list[Journal] = field(default_factory=list)
    postings: list[tuple[int, str, Decimal]] = field(default_factory=list)
    lots: list[_Lot] = field(default_factory=list)
    tier_changes: list[TierChange] = field(default_factory=list)
    rules: Any = None

    def post(self, journal: Journal, lines: list[tuple[str, Decimal | int]]) -> int:
        self.journals.append(journal)
        index = len(self.journals) - 1
        self.postings.extend((index, account, Decimal(amount)) for account, amount in lines)
        return index

    def journal(self, kind: str, key: str, at: datetime, sale: int | None = None, memo=""):
        return Journal(
            merchant=self.merchant,
            kind=kind,
            key=key,
            transaction_id=sale,
            memo=memo,
            posted_at=at,
        )


class _Rules:
    """A program's rules loaded once, answering the two ``filter`` calls the pure earning and
    cashback functions make (``is_active=…``, ``min_spend__lte=…``) without a query per sale."""

    def __init__(self, rows: list) -> None:
        self.rows = rows

    def filter(self, **conditions) -> list:
        rows = self.rows
        for name, value in conditions.items():
            if name.endswith("__lte"):
                rows = [r for r in rows if getattr(r, name.removesuffix("__lte")) <= value]
            else:
                rows = [r for r in rows if getattr(r, name) == value]
        return rows


class _RulesLoaded:
    """The program as :func:`points_for_sale` and :func:`cashback_for_sale` read it, with its
    earning and cashback rules loaded once."""

    def __init__(self, program: Program) -> None:
        self._program = program
        self.earn_rules = _Rules(list(program.earn_rules.all()))
        self.cashback_rules = _Rules(list(program.cashback_rules.all()))

    def __getattr__(self, name: str):
        return getattr(self._program, name)


@dataclass
class _Member:
    """One member's running state during the replay."""

    member: Member
    points: str
    credit: str
    tier: Tier | None = None
    lots: list[_Lot] = field(default_factory=list)
    credit_balance: Decimal = ZERO
    window: deque = field(default_factory=deque)
    window_spend: Decimal = ZERO


def ledger_history_write(
    *, history: LedgerHistory, dataset: DemoDataset, members: dict[int, Member]
) -> int:
    """Replay and write every member's history; returns the number of journals written."""
    sales: dict[int, list[int]] = {index: [] for index in members}
    for position, txn in enumerate(dataset.transactions):
        if txn.customer in sales:
            sales[txn.customer].append(position)
    history.rules = _RulesLoaded(history.program)
    rewards = sorted(history.program.rewards.all(), key=lambda r: -r.points_cost)
    states = {}
    for index, member in sorted(members.items()):
        state = _Member(member=member, points=f"p{index}", credit=f"c{index}")
        states[index] = state
        _replay(history, dataset, index, state, sales[index], rewards)
    _expire_due(history, states)
    return _write(history, states)


def _sale_lines(ids: DemoIds, txn) -> list[SaleLine]:
    return [
        SaleLine(
            product_id=ids.products[line.item],
            category_id=ids.categories[menu.MENU[line.item].category],
            quantity=Decimal(line.quantity),
            amount=Decimal(line.amount),
        )
        for line in txn.lines
    ]


def _birthdays(born: date | None, start: datetime, end: datetime) -> list[datetime]:
    if born is None:
        return []
    days = []
    for year in range(start.astimezone(JAKARTA).year, end.astimezone(JAKARTA).year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February: celebrated on 28 February in a common year
            day = date(year, 2, 28)
        at = datetime.combine(day, time(), JAKARTA)
        if start <= at < end:
            days.append(at)
    return days


def _earn(h: LedgerHistory, s: _Member, kind: str, key: str, at, points: int, **extra) -> None:
    if points <= 0:
        return
    index = h.post(
        h.journal(kind, key, at, **extra), [(s.points, points), ("points_issued", -points)]
    )
    lot = _Lot(
        journal=index,
        account=s.points,
        earned_at=at,
        expires_at=points_expires_at(program=h.program, earned_at=at),
        amount=points,
        remaining=points,
    )
    h.lots.append(lot)
    s.lots.append(lot)


def _replay(
    h: LedgerHistory, dataset: DemoDataset, index: int, s: _Member, positions, rewards
) -> None:
    customer_id = s.member.customer_id
    enrolled = s.member.enrolled_at
    s.tier = _best(h.tiers, ZERO)
    if s.tier is not None:
        s.member.tier, s.member.tier_since = s.tier, enrolled
        h.tier_changes.append(
            TierChange(
                member=s.member,
                to_tier=s.tier,
                reason=TierChange.Reason.ENROLLED,
                changed_at=enrolled,
            )
        )
    _earn(
        h,
        s,
        JournalKind.BONUS,
        f"signup:{customer_id}",
        enrolled,
        h.program.signup_bonus,
        memo="sign-up bonus",
    )
    born = dataset.customers[index].person.birth_date
    events = [(at, 0, None) for at in _birthdays(born, enrolled, h.now)]
    events += [(dataset.transactions[p].occurred_at, 1, p) for p in positions]
    events.sort(key=lambda e: (e[0], e[1], e[2] or 0))
    for at, _order, position in events:
        if position is None:
            year = at.year
            _earn(
                h,
                s,
                JournalKind.BONUS,
                f"birthday:{customer_id}:{year}",
                at,
                h.program.birthday_bonus,
                memo=f"birthday bonus {year}",
            )
            continue
        _sale(h, s, dataset.transactions[position], h.ids.sales[position], at, rewards)


def _sale(h: LedgerHistory, s: _Member, txn, sale_id: int, at: datetime, rewards) -> None:
    total = Decimal(txn.total)
    usable = [lot for lot in s.lots if lot.remaining > 0 and lot.expires_at > at]
    available = sum(lot.remaining for lot in usable)
    affordable = [r for r in rewards if r.points_cost <= available]
    if affordable and h.rng.random() < REDEEM_CHANCE:
        reward = affordable[0]
        points = reward.points_cost
        journal = h.post(
            h.journal(JournalKind.REDEEM, f"sale:{sale_id}:redeem", at, sale_id, reward.name),
            [(s.points, -points), ("points_redeemed", points)],
        )
        left = points
        for lot in sorted(usable, key=lambda lot: (lot.expires_at, lot.journal)):
            take = min(left, lot.remaining)
            lot.remaining -= take
            lot.uses.append((journal, take))
            left -= take
            if left == 0:
                break
    if s.credit_balance >= CREDIT_SPEND_MIN and h.rng.random() < CREDIT_SPEND_CHANCE:
        spend = min(s.credit_balance, total)
        h.post(
            h.journal(JournalKind.CREDIT_SPEND, f"sale:{sale_id}:credit", at, sale_id),
            [(s.credit, -spend), ("credit_spent", spend)],
        )
        s.credit_balance -= spend
    lines = _sale_lines(h.ids, txn)
    points = points_for_sale(program=h.rules, tier=s.tier, lines=lines, total=total, at=at)
    _earn(h, s, JournalKind.EARN, f"sale:{sale_id}:earn", at, points, sale=sale_id)
    cashback = cashback_for_sale(program=h.rules, tier=s.tier, total=total, at=at)
    if cashback > 0:
        h.post(
            h.journal(JournalKind.CASHBACK, f"sale:{sale_id}:cashback", at, sale_id),
            [(s.credit, cashback), ("credit_issued", -cashback)],
        )
        s.credit_balance += cashback
    s.window.append((at, total))
    s.window_spend += total
    start = at - timedelta(days=h.program.tier_window_days)
    while s.window and s.window[0][0] <= start:
        s.window_spend -= s.window.popleft()[1]
    best = _best(h.tiers, s.window_spend)
    if best is not None and (s.tier is None or best.rank > s.tier.rank):
        h.tier_changes.append(
            TierChange(
                member=s.member,
                from_tier=s.tier,
                to_tier=best,
                reason=TierChange.Reason.QUALIFIED,
                spend_in_window=s.window_spend,
                changed_at=at,
            )
        )
        s.tier = best
        s.member.tier, s.member.tier_since = best, at


def _best(tiers: list[Tier], spend: Decimal) -> Tier | None:
    for tier in sorted(tiers, key=lambda t: -t.rank):
        if spend >= tier.min_spend:
            return tier
    return None


def _expire_due(h: LedgerHistory, states: dict[int, _Member]) -> None:
    """Mark what the expiry run at ``now`` takes; its journals need the lots' ids (see _write)."""
    for lot in h.lots:
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= h.now:
            lot.uses.append((-1, lot.remaining))  # -1: the expiry journal, written later
            lot.remaining = 0


def _write(h: LedgerHistory, states: dict[int, _Member]) -> int:
    merchant = h.merchant
    accounts: dict[str, int] = {}
    for kind, attr in ((AccountKind.POINTS, "points"), (AccountKind.CREDIT, "credit")):
        rows = Account.objects.bulk_create(
            [
                Account(
                    merchant=merchant,
                    customer_id=s.member.customer_id,
                    kind=kind,
                    unit=Unit.POINTS if kind == AccountKind.POINTS else Unit.RUPIAH,
                    floor=ZERO,
                )
                for s in states.values()
            ],
            batch_size=BATCH,
        )
        for s, account in zip(states.values(), rows, strict=True):
            accounts[getattr(s, attr)] = account.pk
    for code in (
        "points_issued",
        "points_redeemed",
        "points_expired",
        "credit_issued",
        "credit_spent",
    ):
        accounts[code] = system_account(merchant=merchant, code=code).pk

    journals = Journal.objects.bulk_create(h.journals, batch_size=BATCH)
    Entry.objects.bulk_create(
        [
            Entry(
                journal_id=journals[j].pk,
                account_id=accounts[account],
                amount=amount,
                posted_at=journals[j].posted_at,
            )
            for j, account, amount in h.postings
            if amount != 0
        ],
        batch_size=BATCH,
    )
    lots = PointLot.objects.bulk_create(
        [
            PointLot(
                account_id=accounts[lot.account],
                journal_id=journals[lot.journal].pk,
                earned_at=lot.earned_at,
                expires_at=lot.expires_at,
                amount=lot.amount,
                remaining=lot.remaining,
            )
            for lot in h.lots
        ],
        batch_size=BATCH,
    )
    expired = [
        (lot, row)
        for lot, row in zip(h.lots, lots, strict=True)
        if lot.uses and lot.uses[-1][0] == -1
    ]
    expiries = Journal.objects.bulk_create(
        [
            Journal(
                merchant=merchant,
                kind=JournalKind.EXPIRE,
                key=f"expire:lot:{row.pk}",
                memo=f"{lot.uses[-1][1]} points expired at {lot.expires_at.isoformat()}",
                posted_at=h.now,
            )
            for lot, row in expired
        ],
        batch_size=BATCH,
    )
    Entry.objects.bulk_create(
        [
            entry
            for (lot, _row), journal in zip(expired, expiries, strict=True)
            for entry in (
                Entry(
                    journal=journal,
                    account_id=accounts[lot.account],
                    amount=-lot.uses[-1][1],
                    posted_at=h.now,
                ),
                Entry(
                    journal=journal,
                    account_id=accounts["points_expired"],
                    amount=lot.uses[-1][1],
                    posted_at=h.now,
                ),
            )
        ],
        batch_size=BATCH,
    )
    expiry_of = {
        id(lot): journal.pk for (lot, _row), journal in zip(expired, expiries, strict=True)
    }
    LotUse.objects.bulk_create(
        [
            LotUse(
                lot_id=row.pk,
                journal_id=expiry_of[id(lot)] if j == -1 else journals[j].pk,
                amount=points,
            )
            for lot, row in zip(h.lots, lots, strict=True)
            for j, points in lot.uses
        ],
        batch_size=BATCH,
    )
    TierChange.objects.bulk_create(h.tier_changes, batch_size=BATCH)
    changed = [s.member for s in states.values() if s.member.tier is not None]
    Member.objects.bulk_update(changed, ["tier", "tier_since"], batch_size=BATCH)
    return len(journals) + len(expiries)
