"""The demo café as a pure simulation: numpy and the standard library, no Django.

Who buys when comes from :mod:`langganan.demo.btyd` (MBG/CNBD-k: Gamma-distributed purchase
rates, Beta-distributed dropout after every purchase including the first, Poisson buyers and
about 30 % regular ones with Erlang-k gaps, tagged "karyawan kantor"), with the pace modulated
by the day's multiplier from :mod:`langganan.demo.seasons` (weekday, payday, Ramadan, Lebaran),
which averages exactly 1 over the period. Who the customers are comes from
:mod:`langganan.demo.names`; what they buy from :mod:`langganan.demo.menu`. Walk-in sales
(no customer) are added on top, following the same seasons.

Everything is reproducible from one seed: ``numpy.random.default_rng(seed)`` is split with
``spawn`` into independent streams for purchases, people, habits, baskets, walk-ins and
consent, so changing how baskets are drawn does not change who buys when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from langganan.demo import menu, seasons
from langganan.demo.btyd import PurchaseHistories, PurchaseParams, simulate_purchases
from langganan.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED, HISTORY_MONTHS
from langganan.demo.names import Person, random_people

JAKARTA = ZoneInfo("Asia/Jakarta")
WALKIN_SHARE = 0.3  # share of all sales that are walk-ins without a customer record

PAYMENT_METHODS = ("qris", "cash", "e_wallet", "debit_card", "credit_card", "bank_transfer")
MEMBER_PAYMENT_MIX = np.array([0.32, 0.2, 0.22, 0.14, 0.08, 0.04])
WALKIN_PAYMENT_MIX = np.array([0.35, 0.36, 0.15, 0.09, 0.04, 0.01])
PAYMENT_HABIT = 0.65  # weight of a customer's own favourite method
SALES_CHANNELS = ("dine_in", "take_away", "delivery")
MEMBER_CHANNEL_MIX = np.array([0.55, 0.3, 0.15])
WALKIN_CHANNEL_MIX = np.array([0.55, 0.4, 0.05])
MEMBER_PROMO_PROBABILITY = 0.08  # a 10 % member discount on one line
HOME_OUTLET_LOYALTY = 0.85
# the regular buyers of the purchase process (Erlang-k gaps) are the office workers
REGULAR_TAG = "karyawan kantor"
CUSTOMER_TAGS = (("mahasiswa", 0.12), ("WFC", 0.06), ("komunitas", 0.03))

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as customers.services: no 0/O, 1/I


@dataclass(frozen=True)
class DemoLine:
    item: int  # index into menu.MENU
    quantity: int
    unit_price: int
    discount: int = 0

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price - self.discount


@dataclass
class DemoTransaction:
    occurred_at: datetime
    outlet_code: str
    customer: int | None  # index into DemoDataset.customers; None for a walk-in
    payment_method: str
    channel: str
    lines: list[DemoLine]
    receipt: str = ""

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class DemoConsent:
    customer: int
    channel: str
    granted: bool
    occurred_at: datetime
    source: str
    wording_version: str = "2024-01"


@dataclass(frozen=True)
class DemoCustomer:
    member_code: str
    person: Person
    joined_at: datetime
    home_outlet: str
    usual: int  # index into menu.MENU
    usual_probability: float
    favourite_payment: str
    tags: tuple[str, ...] = ()


@dataclass
class DemoDataset:
    seed: int
    params: PurchaseParams
    start: date
    end: date  # observation ends at 00:00 of this day (Asia/Jakarta)
    calendar: seasons.SalesCalendar
    histories: PurchaseHistories
    customers: list[DemoCustomer]
    transactions: list[DemoTransaction]
    consents: list[DemoConsent] = field(default_factory=list)

    @property
    def observation_end(self) -> datetime:
        return datetime.combine(self.end, time(), JAKARTA)

    @property
    def line_count(self) -> int:
        return sum(len(t.lines) for t in self.transactions)


OUTLETS = (
    # code, name, address, city, share of customers living near it
    ("JKT-01", "Kopi Langganan Sudirman", "Jl. Jend. Sudirman No. 28", "Jakarta Pusat", 0.55),
    ("JKT-02", "Kopi Langganan Kemang", "Jl. Kemang Raya No. 12", "Jakarta Selatan", 0.45),
)


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the last day when it does not exist)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _member_codes(rng: np.random.Generator, n: int) -> list[str]:
    codes: list[str] = []
    seen: set[str] = set()
    letters = np.array(list(_CODE_ALPHABET))
    while len(codes) < n:
        code = "LG" + "".join(letters[rng.integers(0, len(letters), size=8)])
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def _at(start: datetime, day: int, hour: int, rng: np.random.Generator) -> datetime:
    seconds = int(rng.integers(0, 3600))
    return start + timedelta(days=day, hours=hour, seconds=seconds)


def _promo(lines: list[DemoLine]) -> list[DemoLine]:
    """A 10 % member discount (rounded to Rp 100) on the most expensive line."""
    top = max(range(len(lines)), key=lambda i: lines[i].quantity * lines[i].unit_price)
    line = lines[top]
    discount = (line.quantity * line.unit_price // 10) // 100 * 100
    lines[top] = DemoLine(line.item, line.quantity, line.unit_price, discount)
    return lines


def _lines(basket: dict[int, int]) -> list[DemoLine]:
    return [DemoLine(item, qty, menu.MENU[item].price) for item, qty in sorted(basket.items())]


def simulate_demo(
    *,
    n_customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    end: date,
    params: PurchaseParams | None = None,
    walkin_share: float = WALKIN_SHARE,
    seasonal: bool = True,
) -> DemoDataset:
    """Simulate the demo café over the :data:`HISTORY_MONTHS` months before ``end``."""
    params = params or PurchaseParams()
    root = np.random.default_rng(seed)
    purchase_rng, people_rng, habit_rng, basket_rng, walkin_rng, consent_rng = root.spawn(6)
    start = months_before(end, HISTORY_MONTHS)
    n_days = (end - start).days
    calendar = seasons.sales_calendar(start, n_days, seasonal=seasonal)
    histories = simulate_purchases(
        n_customers,
        params,
        horizon_days=n_days,
        rng=purchase_rng,
        intensity=calendar.multiplier,
    )
    start_at = datetime.combine(start, time(), JAKARTA)
    people = random_people(people_rng, n_customers, end)
    codes = _member_codes(people_rng, n_customers)
    outlet_codes = [o[0] for o in OUTLETS]
    outlet_cdf = np.cumsum([o[4] for o in OUTLETS])
    member_pay_cdf = np.cumsum(MEMBER_PAYMENT_MIX)
    walkin_pay_cdf = np.cumsum(WALKIN_PAYMENT_MIX)

    customers: list[DemoCustomer] = []
    transactions: list[DemoTransaction] = []
    for i in range(n_customers):
        home = outlet_codes[menu.pick(habit_rng, outlet_cdf)]
        favourite_payment = menu.pick(habit_rng, member_pay_cdf)
        pay_p = (1 - PAYMENT_HABIT) * MEMBER_PAYMENT_MIX
        pay_p[favourite_payment] += PAYMENT_HABIT
        pay_cdf = np.cumsum(pay_p)
        channel_cdf = np.cumsum(habit_rng.dirichlet(8 * MEMBER_CHANNEL_MIX))
        hour_weights = seasons.personal_hour_weights(habit_rng)
        hour_cdf = {
            ramadan: np.cumsum(seasons.hour_probabilities(hour_weights, ramadan))
            for ramadan in (False, True)
        }
        usual = menu.random_usual(habit_rng)
        usual_probability = float(habit_rng.beta(5, 3))
        tags = (REGULAR_TAG,) if histories.regular[i] else ()
        tags += tuple(tag for tag, share in CUSTOMER_TAGS if habit_rng.random() < share)
        stamps = []
        for t in histories.times[i]:
            day = int(t)
            ramadan = bool(calendar.ramadan[day])
            hour = int(seasons.HOURS[menu.pick(basket_rng, hour_cdf[ramadan])])
            stamps.append((day, hour, _at(start_at, day, hour, basket_rng)))
        stamps.sort(key=lambda s: s[2])
        for day, hour, occurred_at in stamps:
            channel = SALES_CHANNELS[menu.pick(basket_rng, channel_cdf)]
            delivery = channel == "delivery"
            if delivery:
                payment = "e_wallet" if basket_rng.random() < 0.85 else "qris"
            else:
                payment = PAYMENT_METHODS[menu.pick(basket_rng, pay_cdf)]
            outlet = home
            if basket_rng.random() > HOME_OUTLET_LOYALTY:
                outlet = outlet_codes[1 - outlet_codes.index(home)]
            basket = menu.random_basket(
                basket_rng,
                hour=hour,
                ramadan=bool(calendar.ramadan[day]),
                usual=usual,
                usual_probability=usual_probability,
                delivery=delivery,
            )
            lines = _lines(basket)
            if basket_rng.random() < MEMBER_PROMO_PROBABILITY:
                lines = _promo(lines)
            transactions.append(DemoTransaction(occurred_at, outlet, i, payment, channel, lines))
        customers.append(
            DemoCustomer(
                member_code=codes[i],
                person=people[i],
                joined_at=stamps[0][2],
                home_outlet=home,
                usual=usual,
                usual_probability=usual_probability,
                favourite_payment=PAYMENT_METHODS[favourite_payment],
                tags=tags,
            )
        )

    transactions.extend(
        _walkins(
            walkin_rng,
            count=round(walkin_share / (1 - walkin_share) * len(transactions)),
            calendar=calendar,
            start_at=start_at,
            outlet_codes=outlet_codes,
            outlet_cdf=outlet_cdf,
            pay_cdf=walkin_pay_cdf,
        )
    )
    transactions.sort(key=lambda t: (t.occurred_at, t.outlet_code))
    _number_receipts(transactions)
    dataset = DemoDataset(seed, params, start, end, calendar, histories, customers, transactions)
    dataset.consents = _consents(consent_rng, customers, dataset.observation_end)
    return dataset


def _walkins(
    rng: np.random.Generator,
    *,
    count: int,
    calendar: seasons.SalesCalendar,
    start_at: datetime,
    outlet_codes: Sequence[str],
    outlet_cdf: np.ndarray,
    pay_cdf: np.ndarray,
) -> list[DemoTransaction]:
    """Sales without a customer record; foot traffic grows as the café becomes known."""
    n_days = calendar.n_days
    growth = 0.5 + 0.5 * np.arange(n_days) / max(n_days - 1, 1)
    day_p = calendar.multiplier * growth
    days = np.sort(rng.choice(n_days, size=count, p=day_p / day_p.sum()))
    base = seasons.BASE_HOUR_WEIGHTS
    hour_cdf = {r: np.cumsum(seasons.hour_probabilities(base, r)) for r in (False, True)}
    channel_cdf = np.cumsum(WALKIN_CHANNEL_MIX)
    sales = []
    for day in days:
        day = int(day)
        ramadan = bool(calendar.ramadan[day])
        hour = int(seasons.HOURS[menu.pick(rng, hour_cdf[ramadan])])
        channel = SALES_CHANNELS[menu.pick(rng, channel_cdf)]
        payment = PAYMENT_METHODS[menu.pick(rng, pay_cdf)]
        if channel == "delivery":
            payment = "e_wallet"
        basket = menu.random_basket(rng, hour=hour, ramadan=ramadan, delivery=channel == "delivery")
        sales.append(
            DemoTransaction(
                occurred_at=_at(start_at, day, hour, rng),
                outlet_code=outlet_codes[menu.pick(rng, outlet_cdf)],
                customer=None,
                payment_method=payment,
                channel=channel,
                lines=_lines(basket),
            )
        )
    return sales


def _number_receipts(transactions: list[DemoTransaction]) -> None:
    """POS receipt numbers: outlet, local date, sequence of the day (``JKT-01-250131-0007``)."""
    counters: dict[tuple[str, date], int] = {}
    for txn in transactions:
        local_day = txn.occurred_at.astimezone(JAKARTA).date()
        key = (txn.outlet_code, local_day)
        counters[key] = counters.get(key, 0) + 1
        txn.receipt = f"{txn.outlet_code}-{local_day:%y%m%d}-{counters[key]:04d}"


def _consents(
    rng: np.random.Generator, customers: list[DemoCustomer], observation_end: datetime
) -> list[DemoConsent]:
    """Per-channel consent asked at sign-up; a few customers later withdraw it."""
    events: list[DemoConsent] = []
    for i, customer in enumerate(customers):
        person = customer.person
        source = "counter" if rng.random() < 0.7 else "qr-form"
        offers = []
        if person.phone:
            offers += [("whatsapp", 0.65, 0.12), ("sms", 0.15, 0.1)]
        if person.email:
            offers.append(("email", 0.55, 0.15))
        for channel, grant_p, decline_p in offers:
            roll = rng.random()
            if roll < grant_p:
                events.append(DemoConsent(i, channel, True, customer.joined_at, source))
                if rng.random() < 0.07:
                    span = (observation_end - customer.joined_at).total_seconds()
                    later = customer.joined_at + timedelta(seconds=float(rng.uniform(0, span)))
                    events.append(DemoConsent(i, channel, False, later, "customer-request"))
            elif roll < grant_p + decline_p:
                events.append(DemoConsent(i, channel, False, customer.joined_at, source))
    return events
