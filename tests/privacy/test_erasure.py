"""Erasure (UU PDP 27/2022): the person is anonymised everywhere, the books do not change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum
from django.db.models.functions import Cast

from langganan.core.errors import Conflict
from langganan.privacy.models import ERASED, Erasure, PrivacyRequest
from langganan.privacy.services import customer_erase
from tests.privacy.conftest import NEEDLES, rich_customer

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def text_hits(needles: list[str]) -> list[str]:
    """``model.field: needle`` for each text, char or JSON column of any table (every
    installed app's models) that still holds one of ``needles``."""
    hits = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            rows = model._base_manager.all()
            column = field.name
            if isinstance(field, models.JSONField):
                rows = rows.annotate(_as_text=Cast(field.name, models.TextField()))
                column = "_as_text"
            for needle in needles:
                if rows.filter(**{f"{column}__icontains": needle}).exists():
                    hits.append(f"{model._meta.label}.{field.name}: {needle}")
    return hits


def books(merchant, customer):
    from langganan.loyalty.models import Account, Entry
    from langganan.sales.models import LineItem, Transaction

    sales = Transaction.objects.filter(merchant=merchant)
    return {
        "sales_total": sales.aggregate(s=Sum("total"))["s"],
        "sales": sales.count(),
        "customer_sales": sales.filter(customer=customer).aggregate(s=Sum("total"))["s"],
        "lines": LineItem.objects.filter(transaction__merchant=merchant).count(),
        "balances": sorted(
            (a.kind, a.code, a.balance) for a in Account.objects.filter(merchant=merchant)
        ),
        "entries": sorted(
            Entry.objects.filter(account__merchant=merchant).values_list("amount", flat=True)
        ),
    }


def test_erasure_leaves_no_personal_value_in_any_text_column_and_the_books_unchanged(
    merchant, owner
):
    from langganan.insights.models import CustomerInsight
    from tests.web.test_customer_detail import insight_for

    customer, referrer = rich_customer(merchant)
    insight_for(customer)  # her analysis stays (anonymous), so the segment counts stay
    assert len(text_hits(NEEDLES)) > 10  # the scan sees her data before
    before = books(merchant, customer)
    points_before = customer.accounts.get(kind="points").balance
    assert points_before > 0

    erasure = customer_erase(customer=customer, reference="PDP-2026-007", user=owner)

    assert text_hits(NEEDLES) == []
    assert books(merchant, customer) == before
    assert CustomerInsight.objects.get(customer=customer).segment == "champions"
    customer.refresh_from_db()
    assert customer.accounts.get(kind="points").balance == points_before
    assert customer.member_code == f"DIHAPUS-{customer.pk}"
    assert customer.phone is None and customer.birth_date is None and customer.full_name == ""
    # the other member of the referral keeps her name and her points
    referrer.refresh_from_db()
    assert referrer.full_name == "Sari Pengajak"
    # recorded: who, when, which request; the open request with that reference is done
    assert erasure.reference == "PDP-2026-007" and erasure.user == owner
    request = PrivacyRequest.objects.get(merchant=merchant, reference="PDP-2026-007")
    assert request.status == "done" and request.handled_by == owner
    assert request.requester == ERASED
    # the queued message is not sent
    from langganan.campaigns.models import Message

    assert not Message.objects.filter(customer=customer, status="queued").exists()


def test_erasure_is_irreversible_and_happens_once(merchant, owner):
    customer, _ = rich_customer(merchant)
    customer_erase(customer=customer, reference="R-1", user=owner)
    with pytest.raises(Conflict, match="sudah dihapus"):
        customer_erase(customer=customer, reference="R-2", user=owner)
    assert Erasure.objects.filter(customer=customer).count() == 1


def test_erasure_is_refused_while_the_tab_owes_money(merchant, owner):
    from django.utils import timezone

    from langganan.loyalty.tab import tab_charge

    customer, _ = rich_customer(merchant)
    tab_charge(customer=customer, amount=Decimal("25000"), key="tab:kzw:3", at=timezone.now())
    with pytest.raises(Conflict) as refused:
        customer_erase(customer=customer, reference="R-1", user=owner)
    assert refused.value.code == "tab_outstanding"
    assert "Rp25.000" in refused.value.message.replace(" ", "").replace(",00", "")
    assert "kasbon" in refused.value.message
    customer.refresh_from_db()
    assert customer.full_name and not Erasure.objects.filter(customer=customer).exists()


def test_a_journal_accepts_only_the_memo_redaction_and_entries_stay_append_only(merchant):
    from langganan.loyalty.models import Entry, Journal

    customer, _ = rich_customer(merchant)
    journal = Journal.objects.filter(merchant=merchant).first()
    Journal.objects.filter(pk=journal.pk).update(memo=ERASED)  # allowed: the redaction
    for change in (
        {"memo": "something else"},
        {"key": "other"},
        {"memo": ERASED, "kind": "adjust"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Journal.objects.filter(pk=journal.pk).update(**change)
    entry = Entry.objects.filter(account__customer=customer).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=entry.amount + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Journal.objects.filter(pk=journal.pk).delete()
    assert connection.vendor in ("sqlite", "postgresql")
