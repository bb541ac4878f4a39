"""A refund as a complaint's service recovery: (part of) the sale the complaint concerns is
refunded through the sales refund service (:func:`langganan.loyalty.checkout.refund`: the
refund transaction, points taken back, a tab credited, vouchers released on a full refund),
linked to the complaint (:class:`~.models.ComplaintRecovery`, kind ``refund``) and counted as
its cost.

Once per form key, like the other recoveries: the complaint's row is locked, a key seen before
returns the first recovery, and the refund's own idempotency key is derived from the complaint
and the form key, so even a second request that got past the complaint's check refunds once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from langganan.core.errors import InvalidInput
from langganan.core.money import format_rupiah
from langganan.sales.models import Transaction

from .models import Complaint, ComplaintEvent, ComplaintRecovery, EventKind, RecoveryKind

ERR_NO_SALE = gettext_noop("This complaint names no sale: a refund needs the sale it is about.")
ERR_REFUND_LEFT = gettext_noop(
    "The refund must be more than zero and at most %(left)s (what is left of the sale)."
)
ERR_NOTHING_LEFT = gettext_noop("The sale was already refunded in full.")


class RefundRefused(InvalidInput):
    """The amount is more than what is left of the sale; ``params`` fill the message."""

    def __init__(self, left: Decimal):
        super().__init__(ERR_REFUND_LEFT, field="amount", code="refund_amount")
        self.params = {"left": format_rupiah(left)}


def refund_left(sale: Transaction) -> Decimal:
    """What is left of ``sale`` to refund (its total less its refunds so far)."""
    refunded = sum((-r.total for r in sale.refunds.all()), Decimal("0"))
    return max(sale.total - refunded, Decimal("0"))


@transaction.atomic
def complaint_refund(
    *,
    complaint: Complaint,
    key: str,
    by,
    amount: Decimal | None = None,
    at: datetime | None = None,
) -> ComplaintRecovery:
    """Refund ``amount`` (None: all that is left) of the complaint's sale, once per ``key``."""
    from langganan.loyalty.checkout import RefundRequest, refund

    at = at or timezone.now()
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    done = ComplaintRecovery.objects.filter(complaint=complaint, key=key).first()
    if done is not None:
        return done
    if complaint.transaction_id is None:
        raise InvalidInput(ERR_NO_SALE, field="amount")
    sale = Transaction.objects.select_related("merchant").get(pk=complaint.transaction_id)
    left = refund_left(sale)
    if left <= 0:
        raise InvalidInput(ERR_NOTHING_LEFT, field="amount")
    if amount is not None and not (0 < amount <= left):
        raise RefundRefused(left)
    result = refund(
        merchant=sale.merchant,
        outlet=complaint.outlet or sale.outlet,
        idempotency_key=f"complaint:{complaint.pk}:{key}",
        request=RefundRequest(sale_id=sale.pk, amount=amount, reason=f"Keluhan #{complaint.pk}"),
    )
    refund_tx = Transaction.objects.get(pk=result["refund"]["id"])
    cost = Decimal(result["refund"]["amount"]).quantize(Decimal("0.01"))
    recovery = ComplaintRecovery.objects.create(
        merchant_id=complaint.merchant_id,
        complaint=complaint,
        kind=RecoveryKind.REFUND,
        key=key,
        refund=refund_tx,
        cost=cost,
        by=by,
        at=at,
    )
    if complaint.first_response_at is None:
        complaint.first_response_at = at
        complaint.save(update_fields=["first_response_at"])
    ComplaintEvent.objects.create(
        merchant_id=complaint.merchant_id,
        complaint=complaint,
        kind=EventKind.RECOVERY,
        by=by,
        at=at,
        text=f"Refund · {format_rupiah(cost)}",
    )
    return recovery
