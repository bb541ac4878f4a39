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
    TAB = "tab", _("Tab")


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

    ``payment_method`` is the sale's main method: the one that paid the largest part (``tab``
    for a sale put on the tab). How much each method paid is in the sale's
    :class:`TransactionPayment` rows, which are the truth for per-method amounts.
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
    note = models.CharField(
        _("note"),
        max_length=500,
        blank=True,
        default="",
        help_text=_('The basket\'s note ("tanpa sambal", "bungkus"), kept with the sale.'),
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
        from langganan.core.money import format_rupiah

        reference = self.external_id or f"#{self.pk}"
        return f"{self.get_kind_display()} {reference} · {format_rupiah(self.total)}"


class TransactionPayment(models.Model):
    """How much of a sale one payment method paid: the truth for per-method amounts.

    Every sale with a total above 0 has one row per method that paid part of it, and its rows
    sum to its total: store credit (``store_credit``) and the tab (``tab``) are rows like money
    (they paid part of the bill), points and vouchers are not (they are discounts, already off
    the total). The checkout service writes the rows (one bulk insert) and enforces the sum;
    imports write one row per sale; migration 0004 gave every earlier sale one row of its
    ``payment_method`` and total. A refund has no rows (its negative total is revenue given
    back, with the sale's ``payment_method``). The payment mix of a period is therefore
    ``TransactionPayment`` amounts summed by ``method`` over its sales.
    """

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["transaction", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "method"], name="transaction_payment_method_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_payment_positive"),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in PaymentMethod]),
                name="transaction_payment_method_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount}"


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


class ImportStatus(models.TextChoices):
    UPLOADED = "diunggah", _("uploaded")
    CHECKED = "diperiksa", _("checked")
    RUNNING = "berjalan", _("running")
    DONE = "selesai", _("done")
    FAILED = "gagal", _("failed")
    CANCELLED = "dibatalkan", _("cancelled")


class ImportKind(models.TextChoices):
    CUSTOMERS = "pelanggan", _("customers")
    TRANSACTIONS = "transaksi", _("sales")


class ImportJob(models.Model):
    """A file uploaded from the browser and its import: the mapping chosen on the preview,
    the dry run's and the import's results. The file lives outside the web root
    (:mod:`langganan.sales.uploads`) until the import ends or is cancelled."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="import_jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=16, choices=ImportKind.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    #: source header (or 1-based column number) → field, as the importer's ``mapping``
    mapping = models.JSONField(default=dict, blank=True)
    skip_invalid = models.BooleanField(_("skip the bad rows"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    transactions_created = models.PositiveIntegerField(default=0)
    customers_created = models.PositiveIntegerField(default=0)
    duplicates_skipped = models.PositiveIntegerField(_("skipped as duplicates"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    #: the bad rows, ``{"row", "reason", "field", "value"}``, at most the importer's cap
    errors = models.JSONField(default=list, blank=True)
    #: the last dry run's report (``None`` before one): counts and bad rows
    dry_run = models.JSONField(null=True, blank=True)
    rejects_path = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="importjob_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class ExportStatus(models.TextChoices):
    QUEUED = "antre", _("waiting")
    RUNNING = "berjalan", _("running")
    DONE = "selesai", _("done")
    FAILED = "gagal", _("failed")


class ExportJob(models.Model):
    """A large export prepared by the background worker: the table (or the customer list's
    query) asked for, and the file written outside the web root for its owner to download.
    The file is deleted after :data:`langganan.sales.export_jobs.FILE_KEPT`."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="export_jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    #: customers, transactions, balances, or list (the customer list filtered by ``query``)
    what = models.CharField(_("what"), max_length=16)
    fmt = models.CharField(_("format"), max_length=4)
    #: the customer list's query string (filters, search and sort), for ``what="list"``
    query = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="id")
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    stored_path = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="exportjob_recent")]

    def __str__(self) -> str:
        return f"{self.what}.{self.fmt}"
