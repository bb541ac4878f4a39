"""The loyalty program set up in the browser: the earning rule, the point's value, bonuses,
expiry and the welcome voucher, in one write."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.loyalty.models import (
    DiscountType,
    ExpiryPolicy,
    Member,
    Program,
    Tier,
    TierBasis,
    TierChange,
    Voucher,
    VoucherKind,
)

ERR_STEP = "the spend per step must be more than Rp 0"
WELCOME_CODE = "WELCOME-TEMPLATE"
#: the bill of the page's example ("belanja Rp 50.000 → 5 poin = Rp 500")
EXAMPLE_BILL = Decimal("50000")


def earn_example(
    *, earn_step: Decimal, earn_points: int, point_value: Decimal, bill: Decimal = EXAMPLE_BILL
) -> tuple[int, Decimal]:
    """Points a ``bill`` earns under the basic rule (whole steps, rounded down, no tier or
    promotion) and their value in Rupiah."""
    if earn_step <= 0:
        return 0, Decimal(0)
    steps = int((bill / earn_step).to_integral_value(rounding=ROUND_FLOOR))
    points = steps * earn_points
    return points, points * point_value


@transaction.atomic
def program_save(
    *,
    merchant: Merchant,
    name: str,
    earn_step: Decimal,
    earn_points: int,
    point_value: Decimal,
    min_points_to_redeem: int,
    signup_bonus: int,
    birthday_bonus: int,
    expiry_months: int,
    welcome_amount: Decimal,
    welcome_min_spend: Decimal,
    welcome_days: int,
) -> Program:
    """Create or change the merchant's program (the settings the dashboard offers; the rest
    keep their values). ``expiry_months`` 0: points never expire. ``welcome_amount`` 0: no
    welcome voucher."""
    if earn_step <= 0:
        raise InvalidInput(ERR_STEP, field="earn_step")
    program = Program.objects.select_for_update().filter(merchant=merchant).first()
    if program is None:
        program = Program(merchant=merchant)
    program.name = name.strip() or f"Member {merchant.name}"
    program.earn_step = earn_step
    program.earn_points = earn_points
    program.point_value = point_value
    program.min_points_to_redeem = min_points_to_redeem
    program.signup_bonus = signup_bonus
    program.birthday_bonus = birthday_bonus
    if expiry_months:
        program.expiry_policy = ExpiryPolicy.MONTHS
        program.expiry_months = expiry_months
    else:
        program.expiry_policy = ExpiryPolicy.NEVER
    program.welcome_voucher_days = welcome_days
    program.save()
    if welcome_amount > 0:
        voucher = program.welcome_voucher
        if voucher is None:
            voucher = Voucher.objects.filter(merchant=merchant, code=WELCOME_CODE).first()
        if voucher is None:
            voucher = Voucher(merchant=merchant, code=WELCOME_CODE, is_template=True)
        voucher.name = f"Selamat datang: potongan Rp {welcome_amount:,.0f}".replace(",", ".")
        voucher.kind = VoucherKind.SINGLE_USE
        voucher.max_uses = 1
        voucher.discount_type = DiscountType.FIXED
        voucher.value = welcome_amount
        voucher.min_spend = welcome_min_spend
        voucher.save()
        if program.welcome_voucher_id != voucher.pk:
            program.welcome_voucher = voucher
            program.save(update_fields=["welcome_voucher"])
    elif program.welcome_voucher_id is not None:
        program.welcome_voucher = None
        program.save(update_fields=["welcome_voucher"])
    return program


@transaction.atomic
def tiers_save(
    *,
    merchant: Merchant,
    basis: str,
    window_days: int,
    review_months: int,
    rows: list[dict],
) -> list[Tier]:
    """Set the program's tiers as the dashboard lists them: how they qualify (spend or visits
    in a window of ``window_days``), how often they are reviewed, and each tier's threshold and
    benefits. ``rows``: dicts with ``id`` (``None`` for a new tier), ``name``, ``min_spend``,
    ``min_visits``, ``earn_multiplier``, ``cashback_rate``, ``benefits`` and ``delete``.

    The tiers are ranked by their threshold on the chosen basis, which must rise strictly (two
    tiers at one threshold could not be told apart). A tier that members hold, or that a tier
    change refers to, is not deleted. Members keep their tier until the next review."""
    program = Program.objects.select_for_update().filter(merchant=merchant).first()
    if program is None:
        raise InvalidInput(_("Set up the loyalty program first."))
    if basis not in TierBasis.values:
        raise InvalidInput(_("Choose spend or visits."), field="tier_basis")
    existing = {t.pk: t for t in Tier.objects.filter(program=program)}
    kept: list[tuple[Tier, dict]] = []
    removed: list[Tier] = []
    for row in rows:
        tier = existing.get(row["id"]) if row.get("id") else Tier(program=program)
        if tier is None:  # an id of another program's tier: not this merchant's
            raise InvalidInput(_("This tier does not exist (any more). Reload the page."))
        if row.get("delete"):
            if tier.pk:
                removed.append(tier)
            continue
        kept.append((tier, row))
    names = [row["name"].strip().casefold() for _tier, row in kept]
    if len(set(names)) != len(names):
        raise InvalidInput(_("Two tiers have the same name."))

    def threshold(row):
        return row["min_visits"] if basis == TierBasis.VISITS else row["min_spend"]

    kept.sort(key=lambda pair: threshold(pair[1]))
    levels = [threshold(row) for _tier, row in kept]
    if len(set(levels)) != len(levels):
        raise InvalidInput(
            _("Two tiers need the same spend or visits; give each tier its own threshold.")
        )
    for tier in removed:
        held = Member.objects.filter(tier=tier).count()
        used = TierChange.objects.filter(Q(from_tier=tier) | Q(to_tier=tier)).exists()
        if held or used:
            raise InvalidInput(
                _(
                    "The tier %(name)s cannot be deleted: members hold it or have held it "
                    "(%(n)s now). Rename it or raise its threshold instead."
                )
                % {"name": tier.name, "n": held}
            )
    # move every rank out of the way first: (program, rank) and (program, name) are unique
    Tier.objects.filter(program=program).update(rank=F("rank") + 100000)
    for tier in removed:
        tier.delete()
    top = 100000 + max((t.rank for t in existing.values()), default=0) + 1
    for n, (tier, _row) in enumerate(kept):
        tier.name = f"~{top + n}"  # free the names too, then set them below
        tier.rank = top + n
        tier.save()
    result = []
    for rank, (tier, row) in enumerate(kept, start=1):
        tier.rank = rank
        tier.name = row["name"].strip()
        tier.min_spend = row["min_spend"]
        tier.min_visits = row["min_visits"]
        tier.earn_multiplier = row["earn_multiplier"]
        tier.cashback_rate = row["cashback_rate"]
        tier.benefits = row.get("benefits", "").strip()
        tier.save()
        result.append(tier)
    program.tier_basis = basis
    program.tier_window_days = window_days
    program.tier_review_months = review_months
    program.save(update_fields=["tier_basis", "tier_window_days", "tier_review_months"])
    return result
