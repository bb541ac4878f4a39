"""Feedback after a visit: the signed per-sale link, one answer per sale, the rate limit, and a
low rating that opens a complaint.

The token names the merchant and the sale (Django's signer, its own salt); a forged, damaged
or other merchant's token finds nothing (the page is a 404). The page shows the merchant's and
outlet's names only: nothing about the customer or anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from langganan.core.errors import Conflict, InvalidInput
from langganan.sales.models import Transaction

from .models import Channel, ComplaintCategory, Feedback, FeedbackAttempt, Severity
from .selectors import care_settings_for

SALT = "langganan.care.feedback"
ERR_ANSWERED = gettext_noop("This visit already has its feedback. Thank you!")
ERR_RATING = gettext_noop("Choose a rating from 1 to 5.")
ERR_NPS = gettext_noop("Choose a number from 0 to 10.")


@dataclass(frozen=True)
class FeedbackPolicy:
    per_address: int = 20
    window: timedelta = timedelta(hours=1)


POLICY = FeedbackPolicy()


def feedback_token(sale: Transaction) -> str:
    return signing.dumps({"m": sale.merchant_id, "t": sale.pk}, salt=SALT, compress=True)


def feedback_sale(token: str) -> Transaction | None:
    """The sale a token names; None when forged, damaged or the sale is gone."""
    try:
        data = signing.loads(token, salt=SALT)
        merchant_id, sale_id = int(data["m"]), int(data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Transaction.objects.filter(pk=sale_id, merchant_id=merchant_id)
        .select_related("merchant", "outlet", "customer")
        .first()
    )


def feedback_allowed(*, address: str, at: datetime | None = None) -> bool:
    """Count one submission from ``address``; False when over the limit for the window."""
    at = at or timezone.now()
    with transaction.atomic():
        FeedbackAttempt.objects.create(address=address[:64], at=at)
        count = FeedbackAttempt.objects.filter(address=address, at__gt=at - POLICY.window).count()
    if count > POLICY.per_address:
        FeedbackAttempt.objects.filter(at__lt=at - timedelta(days=1)).delete()
        return False
    return True


@transaction.atomic
def feedback_submit(
    *,
    sale: Transaction,
    rating: int,
    nps: int | None = None,
    comment: str = "",
    suggestion: str = "",
    at: datetime | None = None,
) -> Feedback:
    """Record the answer for ``sale`` (once); a rating at or below the merchant's threshold
    opens a complaint (channel: feedback form) for the sale's customer."""
    from .services import categories_ensure, complaint_create

    at = at or timezone.now()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(ERR_RATING, field="rating")
    if nps is not None and (not isinstance(nps, int) or not 0 <= nps <= 10):
        raise InvalidInput(ERR_NPS, field="nps")
    if Feedback.objects.filter(transaction=sale).exists():
        raise Conflict(ERR_ANSWERED)
    comment, suggestion = (comment or "").strip()[:2000], (suggestion or "").strip()[:2000]
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                merchant_id=sale.merchant_id,
                transaction=sale,
                customer_id=sale.customer_id,
                outlet_id=sale.outlet_id,
                rating=rating,
                nps=nps,
                comment=comment,
                suggestion=suggestion,
                created_at=at,
            )
    except IntegrityError:  # answered at the same moment from another tab
        raise Conflict(ERR_ANSWERED) from None
    if rating <= care_settings_for(sale.merchant).low_rating:
        categories_ensure(merchant=sale.merchant)
        category = (
            ComplaintCategory.objects.filter(merchant_id=sale.merchant_id, code="other").first()
            or ComplaintCategory.objects.filter(merchant_id=sale.merchant_id).first()
        )
        text = comment or f"Rating {rating}/5"
        complaint = complaint_create(
            merchant=sale.merchant,
            text=f"[{rating}/5] {text}" if comment else text,
            channel=Channel.FEEDBACK,
            category=category,
            severity=Severity.HIGH if rating == 1 else Severity.MEDIUM,
            transaction_obj=sale,
            at=at,
        )
        feedback.complaint = complaint
        feedback.save(update_fields=["complaint"])
        from .alerts import owner_alert_low_rating

        owner_alert_low_rating(feedback=feedback, complaint=complaint)
    return feedback
