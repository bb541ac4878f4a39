"""Helpers for the dashboard tests: a member who is logged in, consent events."""

from __future__ import annotations

import factory
from django.utils import timezone

from langganan.customers.models import ConsentEvent
from tests.factories import MembershipFactory


class ConsentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentEvent

    customer = None
    merchant = factory.SelfAttribute("customer.merchant")
    channel = "whatsapp"
    granted = True
    occurred_at = factory.LazyFunction(timezone.now)
    source = "counter"
    wording_version = "v1"


def log_in_member(client, merchant, role: str = "owner"):
    """Create a staff member of ``merchant``, log them in, return the user."""
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return membership.user
