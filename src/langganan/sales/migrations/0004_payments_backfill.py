"""Every earlier sale gets its payment rows: one row of its ``payment_method`` and total (a
single ``INSERT … SELECT``), then the few sales that store credit or the tab paid part of are
split by their ledger postings (the rest stays with the payment method), and a sale the tab
paid most of takes ``tab`` as its main method (until now such a sale was recorded as cash)."""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations

ZERO = Decimal("0")


def backfill(apps, schema_editor):
    Transaction = apps.get_model("sales", "Transaction")
    TransactionPayment = apps.get_model("sales", "TransactionPayment")
    Entry = apps.get_model("loyalty", "Entry")
    table = TransactionPayment._meta.db_table
    sales = Transaction._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (transaction_id, method, amount) "  # noqa: S608 (table names)
            f"SELECT id, payment_method, total FROM {sales} WHERE kind = 'sale' AND total > 0"
        )
    parts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    postings = Entry.objects.filter(
        journal__kind__in=["credit", "tab"],
        journal__transaction__kind="sale",
        account__customer__isnull=False,
    ).values_list("journal__transaction_id", "journal__kind", "amount")
    for transaction_id, kind, amount in postings.iterator(chunk_size=2000):
        parts[transaction_id]["store_credit" if kind == "credit" else "tab"] += -amount
    for sale in Transaction.objects.filter(pk__in=list(parts)).only("pk", "total", "payment_method"):
        split = {m: a for m, a in parts[sale.pk].items() if a > 0}
        rest = sale.total - sum(split.values(), ZERO)
        if rest > 0:
            split[sale.payment_method] = split.get(sale.payment_method, ZERO) + rest
        TransactionPayment.objects.filter(transaction_id=sale.pk).delete()
        TransactionPayment.objects.bulk_create(
            [TransactionPayment(transaction_id=sale.pk, method=m, amount=a) for m, a in split.items()]
        )
        main = max(split.items(), key=lambda item: item[1])[0] if split else sale.payment_method
        if main != sale.payment_method:
            Transaction.objects.filter(pk=sale.pk).update(payment_method=main)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_payments_tab_note"),
        ("loyalty", "0004_tab_payment"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
