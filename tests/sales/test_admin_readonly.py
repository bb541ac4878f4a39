"""Sales in the Django admin are shown, never added or changed (issue 20, point 3): a sale
recorded there would skip its points, cashback and tier; and it reads as a merchant says it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from langganan.sales.models import Transaction
from tests.factories import LineItemFactory, TransactionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_sale_cannot_be_added_changed_or_deleted_in_the_admin(admin_client):
    sale = TransactionFactory(total=Decimal("50000"))
    LineItemFactory(transaction=sale)
    before = Transaction.objects.count()

    add = admin_client.get(reverse("admin:sales_transaction_add"))
    change = admin_client.post(
        reverse("admin:sales_transaction_change", args=[sale.pk]), {"total": "1"}
    )
    delete = admin_client.post(
        reverse("admin:sales_transaction_delete", args=[sale.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert Transaction.objects.count() == before
    sale.refresh_from_db()
    assert sale.total == Decimal("50000")
    # still shown, read only
    assert (
        admin_client.get(reverse("admin:sales_transaction_change", args=[sale.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:sales_lineitem_add")).status_code == 403


def test_a_sale_reads_as_a_merchant_says_it():
    sale = Transaction(kind="sale", external_id="POS-77", total=Decimal("50000"))
    with translation.override("id"):
        assert str(sale) == "Penjualan POS-77 · Rp 50.000"
