"""The purposes a merchant processes customers' personal data for (UU PDP 27/2022 art. 20–21:
each purpose with its legal basis, the data it uses and how long it is kept).

One documented list, the same for every merchant today; the privacy page shows it and the
access export includes it. A merchant-specific list can replace :func:`purposes_for` later.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Purpose:
    code: str
    title: str
    basis: str
    data: str
    retention: str


PURPOSES = (
    Purpose(
        "sales",
        _("Recording sales and refunds"),
        _("Performing the contract (the purchase) and the merchant's legal bookkeeping duty"),
        _("Transactions, items bought, outlet, payment method"),
        _("As long as the books must be kept; anonymised on erasure"),
    ),
    Purpose(
        "loyalty",
        _("Loyalty program: points, tiers, vouchers, store credit and the tab"),
        _("Performing the contract (membership) the customer joined"),
        _("Name, phone, member code, birth date (birthday bonus), ledger entries"),
        _("While a member; ledger amounts are kept as anonymous rows"),
    ),
    Purpose(
        "marketing",
        _("Marketing messages (email, WhatsApp, SMS)"),
        _("Consent per channel, which can be withdrawn at any time"),
        _("Name, greeting, phone or email, usual order, visit rhythm"),
        _("Until consent is withdrawn or the data is erased"),
    ),
    Purpose(
        "analytics",
        _("Customer analysis: segments, expected visits, customer value"),
        _("The merchant's legitimate interest in knowing its regulars"),
        _("Transactions (no contact details)"),
        _("Recomputed every night; anonymous after erasure"),
    ),
    Purpose(
        "service",
        _("Customer service and complaints"),
        _("Performing the contract and the customer's own request"),
        _("Name, contact details, what happened"),
        _("Until the matter is closed, then as long as the books must be kept"),
    ),
)


def purposes_for(merchant) -> tuple[Purpose, ...]:
    return PURPOSES
