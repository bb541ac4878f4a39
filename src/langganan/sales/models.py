"""Products, transactions, line items and refunds."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from langganan.core.models import Merchant, Outlet
from langganan.customers.models import Customer

MONEY = {"max_digits": 14, "decimal_places": 2}


class ProductCategory(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="category_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, null=True, blank=True)
    category = models.ForeignKey(
        ProductCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    price = models.DecimalField(_("price"), **MONEY, default=Decimal("0"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="product_name_unique"),
            models.UniqueConstraint(
                fields=["merchant", "sku"],
                condition=Q(sku__isnull=False),
                name="product_sku_unique",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    QRIS = "qris", "QRIS"
    DEBIT_CARD = "debit_card", _("Debit card")
    CREDIT_CARD = "credit_card", _("Credit card")
    E_WALLET = "e_wallet", _("E-wallet")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    STORE_CREDIT = "store_credit", _("Store credit")


class SalesChannel(models.TextChoices):
    DINE_IN = "dine_in", _("Dine-in")
    TAKE_AWAY = "take_away", _("Take-away")
    DELIVERY = "delivery", _("Delivery")
    ONLINE = "online", _("Online")


class TransactionKind(models.TextChoices):
    SALE = "sale", _("Sale")
    REFUND = "refund", _("Refund")


class Transaction(models.Model):
    """A sale, or a refund of (part of) an earlier sale.

    A refund carries a negative total and references the sale it refunds, so that the sum of
    totals is net revenue.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="transactions")
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="transactions")
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
        help_text=_("Empty for a walk-in sale."),
    )
    kind = models.CharField(
        _("kind"), max_length=6, choices=TransactionKind.choices, default=TransactionKind.SALE
    )
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    occurred_at = models.DateTimeField(_("time"))
    total = models.DecimalField(_("total"), **MONEY)
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=SalesChannel.choices, default=SalesChannel.DINE_IN
    )
    item_count = models.DecimalField(
        _("items"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Number of items, when the source gives a quantity but no line items."),
    )
    external_id = models.CharField(_("POS transaction id"), max_length=64, null=True, blank=True)
    import_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Identity of a row imported from a file without transaction ids."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_(
            "The staff member who recorded it at the counter; empty for the POS API and imports."
        ),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # Full (not partial) unique indexes led by the id: NULLs never collide, and an
            # "id IN (…)" look-up can always use them, with or without planner statistics.
            models.UniqueConstraint(
                fields=["external_id", "merchant"], name="transaction_external_id_unique"
            ),
            models.UniqueConstraint(
                fields=["import_key", "merchant"], name="transaction_import_key_unique"
            ),
            models.CheckConstraint(
                condition=(Q(kind="sale", refund_of__isnull=True, total__gte=0))
                | (Q(kind="refund", refund_of__isnull=False, total__lte=0)),
                name="transaction_sale_or_refund",
            ),
            models.CheckConstraint(
                condition=Q(payment_method__in=[m.value for m in PaymentMethod]),
                name="transaction_payment_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in SalesChannel]),
                name="transaction_channel_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id or self.pk} {self.total}"


class LineItem(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="line_items"
    )
    product_name = models.CharField(_("product"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("line item")
        verbose_name_plural = _("line items")
        ordering = ["transaction", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="line_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(discount__lte=F("quantity") * F("unit_price")),
                name="line_discount_at_most_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price - self.discount).quantize(Decimal("0.01"))
