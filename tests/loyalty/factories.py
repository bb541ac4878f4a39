"""factory_boy factories for the loyalty models (shared by the loyalty tests)."""

from __future__ import annotations

from decimal import Decimal

import factory

from langganan.loyalty.models import Member, Program, Tier, Voucher
from tests.factories import CustomerFactory, MerchantFactory


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    merchant = factory.SubFactory(MerchantFactory)
    name = "Sahabat"
    earn_step = Decimal("10000")
    earn_points = 1
    point_value = Decimal("100")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    customer = factory.SubFactory(CustomerFactory)
    merchant = factory.SelfAttribute("customer.merchant")
    referral_code = factory.Sequence(lambda n: f"REF{n:05d}")


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"HEMAT{n:04d}")
    name = "Hemat"
    kind = "single"
    max_uses = 1
    discount_type = "fixed"
    value = Decimal("5000")
