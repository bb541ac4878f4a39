"""Referrals: a member names the member who brought them; both are rewarded once.

Policies:

- A referral code is another member's ``referral_code`` of the same merchant, compared trimmed
  and case-insensitively. A member is referred at most once, never by themselves, and never by
  someone they referred themselves (directly or down a chain): referrals form a tree.
- The reward is due on the referred member's **first qualifying purchase**: the first sale of
  their customer record (by time, then id) whose total is at least
  ``program.referral_min_spend``. If the customer already had such a sale before this one, no
  reward is ever due — referrals reward bringing a new customer, not a regular who enrols late.
- Rewarding posts ``program.referral_referrer_points`` to the referrer and
  ``program.referral_referred_points`` to the referred member through
  :func:`langganan.loyalty.points.points_earn` (journal keys ``referral:<id>:referrer`` and
  ``referral:<id>:referred``) and stamps the referral with the sale and the time. The referral
  row is locked first, so two concurrent sales reward once; the unique journal keys make a second
  posting impossible even without the lock. Nothing is due (and nothing is stamped) when the
  program is inactive or gives no referral points.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from langganan.core.errors import Conflict, InvalidInput
from langganan.loyalty.members import aware
from langganan.loyalty.models import JournalKind, Member, Program, Referral
from langganan.loyalty.points import points_earn
from langganan.sales.models import Transaction, TransactionKind

ERR_REFERRAL_CODE_UNKNOWN = "there is no member with this referral code"
ERR_REFERRAL_OWN_CODE = "a member cannot use their own referral code"
ERR_REFERRAL_ALREADY = "this member has already been referred by someone"
ERR_REFERRAL_CIRCULAR = (
    "the owner of this code was referred by this member; referrals cannot go in a circle"
)
ERR_REFERRAL_WRONG_SALE = "the sale belongs to another customer than the referred member"

_MAX_CHAIN = 10_000  # a guard against a corrupt chain; real chains are short


def _referrer_by_code(member: Member, code: str) -> Member:
    wanted = (code or "").strip()
    members = Member.objects.filter(merchant_id=member.merchant_id)
    referrer = members.filter(referral_code=wanted).first() if wanted else None
    if referrer is None and wanted:
        referrer = members.filter(referral_code__iexact=wanted).order_by("pk").first()
    if referrer is None:
        raise InvalidInput(ERR_REFERRAL_CODE_UNKNOWN, field="code")
    return referrer


def _referred_by_chain_contains(referrer: Member, member_id: int) -> bool:
    """Whether ``member_id`` is ``referrer``'s referrer, or theirs, and so on."""
    current = referrer.referred_by_id
    for _step in range(_MAX_CHAIN):
        if current is None:
            return False
        if current == member_id:
            return True
        current = Member.objects.filter(pk=current).values_list("referred_by_id", flat=True).first()
    return True


@transaction.atomic
def referral_register(*, member: Member, code: str) -> Referral:
    """Record that ``member`` was referred by the owner of referral code ``code``."""
    locked = Member.objects.select_for_update().get(pk=member.pk)
    referrer = _referrer_by_code(locked, code)
    if referrer.pk == locked.pk:
        raise InvalidInput(ERR_REFERRAL_OWN_CODE, field="code")
    if locked.referred_by_id is not None or Referral.objects.filter(referred=locked).exists():
        raise Conflict(ERR_REFERRAL_ALREADY, field="code")
    if _referred_by_chain_contains(referrer, locked.pk):
        raise InvalidInput(ERR_REFERRAL_CIRCULAR, field="code")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                merchant_id=locked.merchant_id, referrer=referrer, referred=locked
            )
    except IntegrityError as exc:  # registered meanwhile by a concurrent request
        raise Conflict(ERR_REFERRAL_ALREADY, field="code") from exc
    Member.objects.filter(pk=locked.pk).update(referred_by=referrer)
    member.referred_by = referrer
    member.referral_received = referral  # type: ignore[attr-defined]
    return referral


def _had_qualifying_sale_before(sale: Transaction, min_spend) -> bool:
    return (
        Transaction.objects.filter(
            merchant_id=sale.merchant_id,
            customer_id=sale.customer_id,
            kind=TransactionKind.SALE,
            total__gte=min_spend,
        )
        .filter(
            Q(occurred_at__lt=sale.occurred_at) | Q(occurred_at=sale.occurred_at, pk__lt=sale.pk)
        )
        .exists()
    )


def _referral_waiting(member: Member) -> bool:
    """Whether a referral of ``member`` waits for its reward: from the referral read with the
    member when it was (``select_related("referral_received")``, as the checkout does), else
    with a plain query."""
    if Member.referral_received.is_cached(member):  # type: ignore[attr-defined]
        try:
            return member.referral_received.rewarded_at is None  # type: ignore[attr-defined]
        except Referral.DoesNotExist:
            return False
    return Referral.objects.filter(referred_id=member.pk, rewarded_at__isnull=True).exists()


def referral_reward_if_due(*, member: Member, transaction_obj: Transaction, at: datetime) -> bool:
    """Reward ``member`` and their referrer when ``transaction_obj`` is the member's first
    qualifying purchase; True when rewarded now, False when nothing is (or is any longer) due."""
    at = aware(at)
    if transaction_obj.customer_id != member.customer_id:
        raise InvalidInput(ERR_REFERRAL_WRONG_SALE, field="transaction")
    if transaction_obj.kind != TransactionKind.SALE:
        return False
    if not _referral_waiting(member):  # nearly every sale (re-read with a lock below if so)
        return False
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("referrer__customer", "referred__customer")
            .filter(referred_id=member.pk)
            .first()
        )
        if referral is None or referral.rewarded_at is not None:
            return False
        program = Program.objects.filter(merchant_id=member.merchant_id, is_active=True).first()
        if program is None or not (
            program.referral_referrer_points or program.referral_referred_points
        ):
            return False
        if transaction_obj.total < program.referral_min_spend:
            return False
        if _had_qualifying_sale_before(transaction_obj, program.referral_min_spend):
            return False
        rewards = (
            ("referrer", referral.referrer, program.referral_referrer_points),
            ("referred", referral.referred, program.referral_referred_points),
        )
        for role, who, points in rewards:
            if points:
                points_earn(
                    customer=who.customer,
                    points=points,
                    key=f"referral:{referral.pk}:{role}",
                    at=at,
                    kind=JournalKind.REFERRAL,
                    transaction_obj=transaction_obj,
                    memo=f"referral {referral.referrer} → {referral.referred}",
                )
        referral.rewarded_at = at
        referral.transaction = transaction_obj
        referral.save(update_fields=["rewarded_at", "transaction"])
        return True


__all__ = ["referral_register", "referral_reward_if_due"]
