"""factory_boy factories for the domain models."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from langganan.core.models import Membership, Merchant, Outlet
from langganan.customers.models import Customer
from langganan.sales.models import LineItem, Product, ProductCategory, Transaction


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    slug = factory.Sequence(lambda n: f"merchant-{n}")
    name = factory.Sequence(lambda n: f"Warung {n}")


class OutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outlet

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"OUT-{n:02d}")
    name = factory.Sequence(lambda n: f"Cabang {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.PostGenerationMethodCall("set_password", "rahasia-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    full_name = factory.Sequence(lambda n: f"Pelanggan {n}")
    phone = factory.Sequence(lambda n: f"+62812{n:08d}")
    member_code = factory.Sequence(lambda n: f"LGTEST{n:04d}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Kategori {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Menu {n}")
    price = Decimal("25000")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    merchant = factory.SubFactory(MerchantFactory)
    outlet = factory.SubFactory(OutletFactory, merchant=factory.SelfAttribute("..merchant"))
    customer = None
    occurred_at = factory.LazyFunction(timezone.now)
    total = Decimal("25000")
    payment_method = "cash"


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    transaction = factory.SubFactory(TransactionFactory)
    product_name = "Kopi Susu"
    quantity = Decimal("1")
    unit_price = Decimal("25000")
