"""Kasbon as its own payment method (``tab``), the payments of a sale (one row per method),
and the basket's note kept with the sale."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0002_transaction_recorded_by'),
    ]

    operations = [
        migrations.CreateModel(
            name='TransactionPayment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('method', models.CharField(choices=[('cash', 'Cash'), ('qris', 'QRIS'), ('debit_card', 'Debit card'), ('credit_card', 'Credit card'), ('e_wallet', 'E-wallet'), ('bank_transfer', 'Bank transfer'), ('store_credit', 'Store credit'), ('tab', 'Tab')], max_length=16, verbose_name='payment method')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount')),
            ],
            options={
                'verbose_name': 'payment',
                'verbose_name_plural': 'payments',
                'ordering': ['transaction', 'id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='transaction',
            name='transaction_payment_method_valid',
        ),
        migrations.AddField(
            model_name='transaction',
            name='note',
            field=models.CharField(blank=True, default='', help_text='The basket\'s note ("tanpa sambal", "bungkus"), kept with the sale.', max_length=500, verbose_name='note'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='payment_method',
            field=models.CharField(choices=[('cash', 'Cash'), ('qris', 'QRIS'), ('debit_card', 'Debit card'), ('credit_card', 'Credit card'), ('e_wallet', 'E-wallet'), ('bank_transfer', 'Bank transfer'), ('store_credit', 'Store credit'), ('tab', 'Tab')], max_length=16, verbose_name='payment method'),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.CheckConstraint(condition=models.Q(('payment_method__in', ['cash', 'qris', 'debit_card', 'credit_card', 'e_wallet', 'bank_transfer', 'store_credit', 'tab'])), name='transaction_payment_method_valid'),
        ),
        migrations.AddField(
            model_name='transactionpayment',
            name='transaction',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payments', to='sales.transaction'),
        ),
        migrations.AddConstraint(
            model_name='transactionpayment',
            constraint=models.UniqueConstraint(fields=('transaction', 'method'), name='transaction_payment_method_once'),
        ),
        migrations.AddConstraint(
            model_name='transactionpayment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='transaction_payment_positive'),
        ),
        migrations.AddConstraint(
            model_name='transactionpayment',
            constraint=models.CheckConstraint(condition=models.Q(('method__in', ['cash', 'qris', 'debit_card', 'credit_card', 'e_wallet', 'bank_transfer', 'store_credit', 'tab'])), name='transaction_payment_method_known'),
        ),
    ]
