"""Membership: enrolling a customer in the merchant's program, the program look-up, and the
yearly birthday bonus.

Enrolment (:func:`member_enrol`) is idempotent per customer: enrolling a member again returns
the existing membership and gives nothing twice. A new member gets, in one database
transaction (all or nothing):

1. a unique referral code of :data:`REFERRAL_CODE_LENGTH` characters from
   :data:`REFERRAL_ALPHABET` (no ``0``/``O``/``1``/``I``, which are misread on a receipt);
2. the best tier their purchase history already qualifies for (usually the entry tier), with a
   ``TierChange`` of reason "enrolled";
3. the program's sign-up bonus (journal key ``signup:<customer id>``);
4. a personal welcome voucher when the program has a welcome voucher template;
5. the referral, when a referral code was given (a wrong code fails the whole enrolment with
   the referral module's error, so the cashier can correct it and nothing is half-done).

This module is the base of the loyalty services: :mod:`~langganan.loyalty.points`,
:mod:`~langganan.loyalty.credit` and :mod:`~langganan.loyalty.tiers` import
:func:`program_for` and :func:`merchant_zone` from here, so it imports them only inside the
functions that need them.
"""

from __future__ import annotations

import secrets
from calendar import isleap
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from langganan.core.errors import InvalidInput, NotFound
from langganan.core.models import Merchant
from langganan.customers.models import Customer
from langganan.loyalty.models import Journal, Member, Program, TierChange

ERR_NO_PROGRAM = "this merchant has no active loyalty program"
ERR_NAIVE_TIME = "a time without a time zone is ambiguous: pass an aware datetime"

#: Characters of a referral code: digits and capitals without 0/O and 1/I.
REFERRAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERRAL_CODE_LENGTH = 8
_CODE_ATTEMPTS = 10


def program_for(*, merchant: Merchant) -> Program:
    """The merchant's active loyalty program.

    Raises
    ------
    NotFound
        With :data:`ERR_NO_PROGRAM` when the merchant has no program or it is switched off.
    """
    program = Program.objects.filter(merchant=merchant, is_active=True).first()
    if program is None:
        raise NotFound(ERR_NO_PROGRAM)
    return program


def program_of(merchant: Merchant) -> Program | None:
    """The merchant's loyalty program (active or not), or None: the one read with the merchant
    when it was (``select_related("loyalty_program")``, as the POS API's key check does), else
    read now. The program gets the merchant object, so its rules need no look-up of it."""
    if Merchant.loyalty_program.is_cached(merchant):  # type: ignore[attr-defined]
        try:
            program = merchant.loyalty_program  # type: ignore[attr-defined]
        except Program.DoesNotExist:
            return None
    else:
        program = Program.objects.filter(merchant=merchant).first()
        if program is None:
            return None
    program.merchant = merchant
    return program


def merchant_zone(merchant: Merchant) -> ZoneInfo:
    """The merchant's time zone (Asia/Jakarta unless the merchant says otherwise)."""
    try:
        return ZoneInfo(merchant.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def aware(at: datetime) -> datetime:
    """``at`` itself; a naive datetime is refused with :data:`ERR_NAIVE_TIME`."""
    if timezone.is_naive(at):
        raise InvalidInput(ERR_NAIVE_TIME)
    return at


def referral_code_new() -> str:
    """A random referral code (not checked for uniqueness: :func:`member_enrol` does that)."""
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def member_enrol(
    *, customer: Customer, at: datetime | None = None, referral_code: str | None = None
) -> Member:
    """Enrol ``customer`` in the merchant's active program; see the module docstring.

    Idempotent: a customer who is already a member gets their membership back unchanged (the
    referral code argument is then ignored — a referral is only recorded at sign-up).

    Raises
    ------
    NotFound
        :data:`ERR_NO_PROGRAM` when the merchant has no active program.
    """
    from langganan.loyalty.points import points_earn
    from langganan.loyalty.tiers import tier_best_qualifying, tier_window_stats

    at = aware(at) if at is not None else timezone.now()
    program = program_for(merchant=customer.merchant)
    with transaction.atomic():
        existing = Member.objects.filter(customer=customer).first()
        if existing is not None:
            return existing
        member, created = _member_create(customer=customer, at=at)
        if not created:  # enrolled meanwhile by a concurrent request
            return member
        spend, visits = tier_window_stats(member=member, at=at)
        tier = tier_best_qualifying(program=program, spend=spend, visits=visits)
        if tier is not None:
            member.tier, member.tier_since = tier, at
            member.save(update_fields=["tier", "tier_since"])
            TierChange.objects.create(
                member=member,
                from_tier=None,
                to_tier=tier,
                reason=TierChange.Reason.ENROLLED,
                spend_in_window=spend,
                visits_in_window=visits,
                changed_at=at,
            )
        points_earn(
            customer=customer,
            points=program.signup_bonus,
            key=f"signup:{customer.pk}",
            at=at,
            kind="bonus",
            memo="sign-up bonus",
        )
        if program.welcome_voucher_id is not None:
            from langganan.loyalty.vouchers import voucher_issue_welcome

            voucher_issue_welcome(member=member, at=at)
        if referral_code:
            from langganan.loyalty.referrals import referral_register

            referral_register(member=member, code=referral_code)
    return member


def _member_create(*, customer: Customer, at: datetime) -> tuple[Member, bool]:
    """Insert the member with a fresh referral code, retrying on a (rare) code collision.

    Returns ``(member, created)``: when the customer was enrolled meanwhile by a concurrent
    request, that membership and ``False``.
    """
    for _ in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    merchant_id=customer.merchant_id,
                    customer=customer,
                    referral_code=referral_code_new(),
                    enrolled_at=at,
                )
            return member, True
        except IntegrityError:
            existing = Member.objects.filter(customer=customer).first()
            if existing is not None:
                return existing, False
    raise RuntimeError("could not find a free referral code")  # 32**8 codes: not expected


def birthday_bonus_run(*, merchant: Merchant, today: date) -> int:
    """Give ``program.birthday_bonus`` to every member whose birthday is ``today``.

    A birthday is the month and day of ``customer.birth_date``; a 29 February birthday is
    celebrated on 28 February in a year without 29 February. Each member gets the bonus once
    a year (journal key ``birthday:<customer id>:<year>``), so the run can be repeated or
    re-run after a failure. The points are earned at 00:00 of ``today`` in the merchant's time
    zone. Returns the number of members who got the bonus in this run; 0 (and nothing done)
    when the merchant has no active program or the bonus is 0.
    """
    from langganan.loyalty.ledger import DuplicateJournal
    from langganan.loyalty.points import points_earn

    program = Program.objects.filter(merchant=merchant, is_active=True).first()
    if program is None or program.birthday_bonus == 0:
        return 0
    born_today = Q(customer__birth_date__month=today.month, customer__birth_date__day=today.day)
    if today.month == 2 and today.day == 28 and not isleap(today.year):
        born_today |= Q(customer__birth_date__month=2, customer__birth_date__day=29)
    members = list(
        Member.objects.filter(born_today, merchant=merchant)
        .select_related("customer")
        .order_by("pk")
    )
    keys = {m.customer_id: f"birthday:{m.customer_id}:{today.year}" for m in members}
    done = set(
        Journal.objects.filter(merchant=merchant, key__in=keys.values()).values_list(
            "key", flat=True
        )
    )
    at = datetime.combine(today, time(), merchant_zone(merchant))
    given = 0
    for member in members:
        key = keys[member.customer_id]
        if key in done:
            continue
        try:
            journal = points_earn(
                customer=member.customer,
                points=program.birthday_bonus,
                key=key,
                at=at,
                kind="bonus",
                memo=f"birthday bonus {today.year}",
            )
        except DuplicateJournal:  # a concurrent run gave it first
            continue
        if journal is not None:
            given += 1
    return given
