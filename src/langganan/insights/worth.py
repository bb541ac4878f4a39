"""Is the CRM worth its cost? (seed: "Analytic CRM: menghitung biaya implementasi CRM ini,
apakah efektif dengan cost yang dikeluarkan"; "retention lebih menguntungkan, karena cost
akuisisi customers baru tidaklah murah").

:func:`worth_compute` answers for one period (the last 30, 90 or 365 days) and stores the
answer in :class:`~langganan.insights.models.WorthResult`; the nightly analysis calls
:func:`worth_compute_all` and the page reads what is stored (it offers owners and managers a
"hitung ulang" button that runs it). The page itself never reads the transactions.

**What the program cost** in the period, from the loyalty ledger and the outbox:

- points redeemed: the points posted to the merchant's ``points_redeemed`` counter-account
  (redemptions, less those given back by refunds) × the program's value of one point;
- cashback: the store credit issued from ``credit_issued`` (cashback and grants, less what
  refunds took back);
- voucher discounts: the discounts of the voucher redemptions in the period not reversed;
- messages: messages sent (sent, delivered or read; manual WhatsApp from the staff's own phone
  costs nothing) × the channel's price: the price entered on the target market settings page,
  else the channel account's price, else :data:`DEFAULT_PRICES`.

Bonus points a campaign gives cost the merchant when they are redeemed, so they are counted once,
as points redeemed.

**What it earned**:

- campaigns: for each campaign with recipients assigned in the period, those recipients'
  incremental revenue against the holdout, exactly as :mod:`langganan.campaigns.roi` measures it
  (:func:`~langganan.campaigns.roi.lift_estimate` over the attribution windows);
- membership: members against comparable non-members (:func:`members_matched`). For each member
  who joined between ``OUTCOME_DAYS + 365`` and ``OUTCOME_DAYS`` days before the period's end, we
  take their R/F/M on the day they joined, from their purchases in the year before that day
  (R: days since the last purchase, F: days with a purchase, M: spend), and compare what they
  spent in the ``OUTCOME_DAYS`` days after that day with what non-members with the same R/F/M
  who also bought in the same month spent in the same number of days after their own visit
  that month. The mean difference per member per day × the days customers were members in the
  period is the membership's estimated extra revenue.

**New vs kept customers**: the acquisition spend the merchant entered (per month, spread evenly
over the month's days) over the customers whose first purchase fell in the period, against the
program's cost over the retained members (members before the period who bought in it).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import mean

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from scipy import stats

from langganan.campaigns.models import Campaign, ChannelAccount, Group, Message, Recipient
from langganan.campaigns.roi import SENT_STATUSES, lift_estimate, window_outcomes
from langganan.core.models import Merchant
from langganan.insights.models import AcquisitionSpend, CustomerInsight, TargetMarket, WorthResult
from langganan.loyalty.models import Entry, Member, Program, VoucherRedemption
from langganan.sales.models import Transaction
from langganan.web.access import merchant_zone

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90
#: days after joining over which a member's spend is compared
OUTCOME_DAYS = 90
#: days of history before joining that the R/F/M are taken from
HISTORY_DAYS = 365
#: fewer matched members than this: no estimate
MIN_MATCHED = 5
#: Rupiah per message when neither the settings page nor the channel account gives a price:
#: a WhatsApp marketing conversation, a masked SMS, an e-mail from a bulk provider (2026)
DEFAULT_PRICES = {"whatsapp": Decimal("650"), "sms": Decimal("350"), "email": Decimal("10")}
ZERO = Decimal("0")
RUPIAH = Decimal("1")


def _rp(value) -> Decimal:
    return Decimal(value or 0).quantize(RUPIAH, rounding=ROUND_HALF_UP)


# -- costs ---------------------------------------------------------------------------------


def message_prices(*, merchant: Merchant) -> dict[str, dict]:
    """Per channel: ``{"price": Decimal, "source": "setting" | "account" | "default"}``."""
    target = TargetMarket.objects.filter(merchant=merchant).first()
    accounts = dict(
        ChannelAccount.objects.filter(merchant=merchant).values_list("channel", "price_per_message")
    )
    out = {}
    for channel, default in DEFAULT_PRICES.items():
        entered = getattr(target, f"price_{channel}", None) if target else None
        if entered is not None:
            out[channel] = {"price": entered, "source": "setting"}
        elif accounts.get(channel):
            out[channel] = {"price": accounts[channel], "source": "account"}
        else:
            out[channel] = {"price": default, "source": "default"}
    return out


def program_cost(*, merchant: Merchant, start: datetime, end: datetime) -> dict:
    """What the program cost from ``start`` (inclusive) to ``end`` (exclusive), whole Rupiah."""
    span = Q(posted_at__gte=start, posted_at__lt=end)
    ledger = Entry.objects.filter(span, account__merchant=merchant, account__customer=None)
    points = ledger.filter(account__code="points_redeemed").aggregate(s=Sum("amount"))["s"] or 0
    point_value = (
        Program.objects.filter(merchant=merchant).values_list("point_value", flat=True).first()
    ) or ZERO
    credit = -(ledger.filter(account__code="credit_issued").aggregate(s=Sum("amount"))["s"] or 0)
    vouchers = VoucherRedemption.objects.filter(
        voucher__merchant=merchant,
        redeemed_at__gte=start,
        redeemed_at__lt=end,
        reversed_at__isnull=True,
    ).aggregate(n=Count("id"), s=Sum("discount"))
    prices = message_prices(merchant=merchant)
    sent = (
        Message.objects.filter(
            merchant=merchant,
            status__in=SENT_STATUSES,
            manual=False,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .values("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    channels = {}
    message_total = ZERO
    for row in sent:
        price = prices[row["channel"]]["price"]
        cost = _rp(price * row["n"])
        channels[row["channel"]] = {
            "messages": row["n"],
            "price": str(price),
            "source": prices[row["channel"]]["source"],
            "cost": str(cost),
        }
        message_total += cost
    points_cost = _rp(Decimal(points) * point_value)
    credit_cost = _rp(credit)
    voucher_cost = _rp(vouchers["s"])
    return {
        "points": int(points),
        "point_value": str(point_value),
        "points_cost": str(points_cost),
        "cashback": str(credit_cost),
        "vouchers_used": vouchers["n"] or 0,
        "vouchers": str(voucher_cost),
        "messages": channels,
        "messages_cost": str(message_total),
        "total": str(points_cost + credit_cost + voucher_cost + message_total),
    }


# -- campaigns -----------------------------------------------------------------------------


def campaigns_earned(*, merchant: Merchant, start: datetime, end: datetime) -> dict:
    """Incremental revenue against the holdout of each campaign's recipients in the period."""
    ids = (
        Recipient.objects.filter(merchant=merchant, assigned_at__gte=start, assigned_at__lt=end)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    rows = []
    total = ZERO
    for campaign in Campaign.objects.filter(merchant=merchant, pk__in=list(ids)).order_by("name"):
        outcomes = window_outcomes(campaign=campaign, assigned_from=start, assigned_until=end)
        rev_t, conv_t = outcomes[Group.TREATED]
        rev_h, conv_h = outcomes[Group.HOLDOUT]
        lift = lift_estimate(
            treated=rev_t, holdout=rev_h, treated_converted=conv_t, holdout_converted=conv_h
        )
        measured = lift.incremental_revenue is not None
        if measured:
            total += lift.incremental_revenue
        rows.append(
            {
                "id": campaign.pk,
                "name": campaign.name,
                "treated": lift.treated.n,
                "holdout": lift.holdout.n,
                "incremental": str(lift.incremental_revenue) if measured else None,
                "low": str(lift.incremental_interval.low) if lift.incremental_interval else None,
                "high": str(lift.incremental_interval.high) if lift.incremental_interval else None,
                "open": Recipient.objects.filter(
                    campaign=campaign,
                    assigned_at__gte=end - timedelta(days=campaign.attribution_days),
                    assigned_at__lt=end,
                ).exists(),
            }
        )
    return {"campaigns": rows, "total": str(_rp(total))}


# -- members against comparable non-members ----------------------------------------------


def _f_band(days: int) -> int:
    if days == 0:
        return 0
    if days == 1:
        return 1
    if days <= 3:
        return 2
    if days <= 9:
        return 3
    return 4


def _r_band(days_since: int) -> int:
    if days_since <= 30:
        return 1
    if days_since <= 90:
        return 2
    if days_since <= 180:
        return 3
    return 4


class _History:
    """One customer's purchase days (local dates) and the day's net totals, in order."""

    __slots__ = ("days", "totals")

    def __init__(self) -> None:
        self.days: list[date] = []
        self.totals: list[Decimal] = []

    def add(self, day: date, total: Decimal) -> None:
        if self.days and self.days[-1] == day:
            self.totals[-1] += total
        else:
            self.days.append(day)
            self.totals.append(total)

    def before(self, anchor: date) -> tuple[int, int | None, Decimal]:
        """Purchase days, days since the last one, spend in the year before ``anchor``."""
        hi = bisect_right(self.days, anchor - timedelta(days=1))
        lo = bisect_right(self.days, anchor - timedelta(days=HISTORY_DAYS + 1))
        n = hi - lo
        if n == 0:
            return 0, None, ZERO
        spend = sum(self.totals[lo:hi], ZERO)
        return n, (anchor - self.days[hi - 1]).days, spend

    def after(self, anchor: date) -> Decimal:
        lo = bisect_right(self.days, anchor)
        hi = bisect_right(self.days, anchor + timedelta(days=OUTCOME_DAYS))
        return sum(self.totals[lo:hi], ZERO)


def members_matched(*, merchant: Merchant, end: datetime) -> dict:
    """Members against non-members with the same R/F/M, matched in the month they joined (see
    the module doc). Reads the transactions: run by :func:`worth_compute`, not by a page."""
    zone = merchant_zone(merchant)
    end_day = timezone.localtime(end, zone).date()
    join_to = end_day - timedelta(days=OUTCOME_DAYS)
    join_from = join_to - timedelta(days=365)
    since = timezone.make_aware(
        datetime.combine(join_from - timedelta(days=HISTORY_DAYS + 1), datetime.min.time()), zone
    )
    histories: dict[int, _History] = defaultdict(_History)
    rows = (
        Transaction.objects.filter(
            merchant=merchant, customer__isnull=False, occurred_at__gte=since, occurred_at__lt=end
        )
        .order_by("customer_id", "occurred_at", "id")
        .values_list("customer_id", "occurred_at", "total")
        .iterator(chunk_size=5000)
    )
    for customer_id, occurred_at, total in rows:
        histories[customer_id].add(timezone.localtime(occurred_at, zone).date(), total)
    enrolled = {
        cid: timezone.localtime(at, zone).date()
        for cid, at in Member.objects.filter(merchant=merchant).values_list(
            "customer_id", "enrolled_at"
        )
    }

    # anchors: (customer, anchor day, month, is member)
    anchors: list[tuple[int, date, bool]] = []
    for cid, joined in enrolled.items():
        if join_from < joined <= join_to:
            anchors.append((cid, joined, True))
    for cid, history in histories.items():
        seen_months: set[tuple[int, int]] = set()
        joined = enrolled.get(cid)
        for day in history.days:
            if not (join_from < day <= join_to):
                continue
            month = (day.year, day.month)
            if month in seen_months:
                continue
            seen_months.add(month)
            # a non-member through the whole comparison: not yet joined when the outcome ends
            if joined is None or joined > day + timedelta(days=OUTCOME_DAYS):
                anchors.append((cid, day, False))

    measured = []
    for cid, day, is_member in anchors:
        history = histories.get(cid) or _History()
        n, since_last, spend = history.before(day)
        measured.append((cid, day, is_member, n, since_last, spend, history.after(day)))
    spends = sorted(m[5] for m in measured if m[3] > 0)
    cuts = (spends[len(spends) // 3], spends[(2 * len(spends)) // 3]) if spends else (ZERO, ZERO)

    def cell(n: int, since_last: int | None, spend: Decimal) -> tuple[int, int, int]:
        if n == 0:
            return (0, 0, 0)
        m_band = 1 if spend < cuts[0] else 2 if spend < cuts[1] else 3
        return (_r_band(since_last or 0), _f_band(n), m_band)

    pool: dict[tuple, list[Decimal]] = defaultdict(list)
    members = []
    for _cid, day, is_member, n, since_last, spend, outcome in measured:
        key = ((day.year, day.month), cell(n, since_last, spend))
        if is_member:
            members.append((key, outcome))
        else:
            pool[key].append(outcome)
    diffs, member_outcomes, matched_outcomes = [], [], []
    for key, outcome in members:
        others = pool.get(key)
        if not others:
            continue
        comparison = sum(others, ZERO) / len(others)
        member_outcomes.append(outcome)
        matched_outcomes.append(comparison)
        diffs.append(float(outcome - comparison))
    result = {
        "join_from": join_from.isoformat(),
        "join_to": join_to.isoformat(),
        "outcome_days": OUTCOME_DAYS,
        "members": len(members),
        "matched": len(diffs),
        "m_cuts": [str(_rp(c)) for c in cuts],
        "member_mean": None,
        "comparison_mean": None,
        "difference": None,
        "low": None,
        "high": None,
    }
    if len(diffs) >= MIN_MATCHED:
        diff = Decimal(repr(mean(diffs)))
        result["member_mean"] = str(_rp(sum(member_outcomes, ZERO) / len(member_outcomes)))
        result["comparison_mean"] = str(_rp(sum(matched_outcomes, ZERO) / len(matched_outcomes)))
        result["difference"] = str(_rp(diff))
        sd = math.sqrt(sum((d - float(diff)) ** 2 for d in diffs) / (len(diffs) - 1))
        t = float(stats.t.ppf(0.975, len(diffs) - 1))
        half = t * sd / math.sqrt(len(diffs))
        result["low"] = str(_rp(Decimal(repr(float(diff) - half))))
        result["high"] = str(_rp(Decimal(repr(float(diff) + half))))
    return result


def member_days(*, merchant: Merchant, start: datetime, end: datetime) -> int:
    """Days customers were members within the period (each member from joining to the end)."""
    total = 0
    for joined in Member.objects.filter(merchant=merchant, enrolled_at__lt=end).values_list(
        "enrolled_at", flat=True
    ):
        total += max(0, (end - max(joined, start)).days)
    return total


# -- new and kept customers ----------------------------------------------------------------


def new_and_kept(*, merchant: Merchant, start: datetime, end: datetime) -> dict:
    """Customers whose first purchase fell in the period, and retained members (members before
    the period who bought in it), from the stored insights."""
    insights = CustomerInsight.objects.filter(merchant=merchant)
    new = insights.filter(first_purchase__gte=start, first_purchase__lt=end).count()
    kept = insights.filter(
        last_purchase__gte=start,
        first_purchase__lt=start,
        customer__loyalty_member__enrolled_at__lt=start,
    ).count()
    return {"new_customers": new, "retained_members": kept}


def acquisition_spend(*, merchant: Merchant, start: datetime, end: datetime) -> Decimal:
    """The spend entered per month, spread evenly over each month's days, within the period."""
    zone = merchant_zone(merchant)
    first = timezone.localtime(start, zone).date()
    last = timezone.localtime(end, zone).date()
    total = ZERO
    months = AcquisitionSpend.objects.filter(
        merchant=merchant, month__lte=last, month__gte=first.replace(day=1)
    )
    for row in months:
        month_start = row.month.replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        days_in = (next_month - month_start).days
        overlap = (min(next_month, last) - max(month_start, first)).days
        if overlap > 0:
            total += row.amount * overlap / days_in
    return _rp(total)


# -- the stored answer ---------------------------------------------------------------------


def worth_compute(
    merchant: Merchant,
    period_days: int,
    now: datetime | None = None,
    *,
    matched: dict | None = None,
) -> WorthResult:
    """Compute the worth page's figures for the last ``period_days`` days and store them (one
    row per merchant and period, replaced). ``matched`` is :func:`members_matched` for the same
    end, when the caller already has it (it depends on the end only, not on the period)."""
    if period_days not in PERIODS:
        raise ValueError(f"period_days must be one of {PERIODS}")
    end = now or timezone.now()
    start = end - timedelta(days=period_days)
    cost = program_cost(merchant=merchant, start=start, end=end)
    campaigns = campaigns_earned(merchant=merchant, start=start, end=end)
    if matched is None:
        matched = members_matched(merchant=merchant, end=end)
    days = member_days(merchant=merchant, start=start, end=end)
    members_earned = None
    if matched["difference"] is not None:
        members_earned = str(_rp(Decimal(matched["difference"]) / OUTCOME_DAYS * days))
    data = {
        "cost": cost,
        "campaigns": campaigns,
        "members": matched,
        "member_days": days,
        "members_earned": members_earned,
        **new_and_kept(merchant=merchant, start=start, end=end),
    }
    with transaction.atomic():
        result, _created = WorthResult.objects.update_or_create(
            merchant=merchant,
            period_days=period_days,
            defaults={
                "period_start": start,
                "period_end": end,
                "computed_at": timezone.now(),
                "data": data,
            },
        )
    return result


def worth_compute_all(merchant: Merchant, now: datetime | None = None) -> list[WorthResult]:
    """Every period of the page: what the nightly analysis calls. The members' comparison,
    which reads the transactions, is computed once for all periods."""
    end = now or timezone.now()
    matched = members_matched(merchant=merchant, end=end)
    return [worth_compute(merchant, days, now=end, matched=matched) for days in PERIODS]


def worth_get(*, merchant: Merchant, period_days: int) -> WorthResult | None:
    return WorthResult.objects.filter(merchant=merchant, period_days=period_days).first()


def worth_summary(result: WorthResult, *, acquisition: Decimal) -> dict:
    """The page's figures from a stored result and the acquisition spend entered (Decimals)."""
    data = result.data
    cost = Decimal(data["cost"]["total"])
    campaigns = Decimal(data["campaigns"]["total"])
    members = Decimal(data["members_earned"]) if data.get("members_earned") else None
    earned = campaigns + (members or ZERO)
    new, kept = data.get("new_customers", 0), data.get("retained_members", 0)
    return {
        "cost": cost,
        "campaigns": campaigns,
        "members": members,
        "earned": earned,
        "net": earned - cost,
        "earned_less": -earned if earned < 0 else ZERO,
        "acquisition": acquisition,
        "new_customers": new,
        "retained_members": kept,
        "per_new": _rp(acquisition / new) if new and acquisition else None,
        "per_kept": _rp(cost / kept) if kept else None,
    }


def acquisition_spend_set(
    *, merchant: Merchant, user, month: date, amount: Decimal, note: str = ""
) -> AcquisitionSpend:
    """Record what was spent on winning new customers in ``month`` (replaces that month's)."""
    with transaction.atomic():
        row, _created = AcquisitionSpend.objects.update_or_create(
            merchant=merchant,
            month=month.replace(day=1),
            defaults={
                "amount": amount,
                "note": note,
                "updated_by": user if getattr(user, "pk", None) else None,
            },
        )
    return row
