"""factory_boy factories for the campaign models (used by the ROI and dashboard tests)."""

from __future__ import annotations

import factory
from django.utils import timezone

from langganan.campaigns.models import (
    Audience,
    Campaign,
    ChannelAccount,
    Message,
    MessageTemplate,
    Recipient,
)
from tests.factories import CustomerFactory, MerchantFactory


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    body_id = "Halo {salutation}! Ada menu baru di {merchant}."
    body_en = "Hi {salutation}! There is something new at {merchant}."


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Audience

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Audience {n}")
    filters = factory.LazyFunction(lambda: {"lifecycle": ["lapsed"]})


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Kampanye {n}")
    kind = "broadcast"
    channel = "whatsapp"
    template = factory.SubFactory(TemplateFactory, merchant=factory.SelfAttribute("..merchant"))


class ChannelAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelAccount

    merchant = factory.SubFactory(MerchantFactory)
    channel = "whatsapp"


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    campaign = factory.SubFactory(CampaignFactory)
    merchant = factory.SelfAttribute("campaign.merchant")
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    group = "treated"
    assigned_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    recipient = factory.SubFactory(RecipientFactory)
    campaign = factory.SelfAttribute("recipient.campaign")
    merchant = factory.SelfAttribute("recipient.merchant")
    customer = factory.SelfAttribute("recipient.customer")
    channel = factory.SelfAttribute("campaign.channel")
    to = factory.LazyAttribute(lambda m: m.customer.phone or "")
    body = "Halo Kak!"
    status = "sent"
