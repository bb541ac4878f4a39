"""Complaints and feedback where other apps show a customer or a campaign:
``{% load care_customer %}``, then

- ``{% customer_care customer %}``: the customer page's section (her complaints with status,
  category and date, each linked for those who may open it; her latest and average rating and
  NPS);
- ``{% new_complaints_count merchant as n %}``: the complaints nobody has taken up yet (the
  badge beside Keluhan in the menu);
- ``{% held_by_complaints campaign as n %}``: the customers of a campaign's audience who have a
  complaint open now, and so are left out of a promotion until it is resolved;
  ``{% held_in_audience merchant form audience as n %}`` the same in the audience builder.
"""

from __future__ import annotations

from django import template

from langganan.care.figures import customer_care_summary
from langganan.care.figures import new_complaints_count as _new_count

register = template.Library()


@register.inclusion_tag("care/includes/customer_care.html", takes_context=True)
def customer_care(context, customer) -> dict:
    merchant = context["merchant"]
    return {
        "merchant": merchant,
        "membership": context.get("membership"),
        "customer": customer,
        **customer_care_summary(merchant=merchant, customer_id=customer.pk),
    }


@register.simple_tag
def new_complaints_count(merchant) -> int:
    if merchant is None:
        return 0
    return _new_count(merchant=merchant)


def _held(merchant, filters) -> int | None:
    """How many customers matching the audience ``filters`` have an open complaint now
    (None when the filters no longer work)."""
    from langganan.campaigns.audiences import audience_queryset
    from langganan.care.models import OPEN_STATUSES, Complaint
    from langganan.core.errors import InvalidInput

    complained = Complaint.objects.filter(
        merchant=merchant, status__in=OPEN_STATUSES, customer__isnull=False
    )
    if filters:
        try:
            audience = audience_queryset(merchant=merchant, filters=filters)
        except InvalidInput:
            return None
        complained = complained.filter(customer_id__in=audience.order_by().values("pk"))
    return complained.values("customer_id").distinct().count()


@register.simple_tag
def held_by_complaints(campaign) -> int | None:
    """How many of the campaign's audience (every customer without one) have an open
    complaint now, and so are left out of it until it is resolved."""
    filters = campaign.audience.filters if campaign.audience_id else {}
    return _held(campaign.merchant, filters)


@register.simple_tag
def held_in_audience(merchant, form, audience) -> int | None:
    """The same for the audience builder's live count: the filters being tried (when
    valid), or the saved audience's."""
    if form.is_bound:
        if not form.filters_valid():
            return None
        filters = form.filters()
    else:
        filters = audience.filters if audience else {}
    return _held(merchant, filters)
