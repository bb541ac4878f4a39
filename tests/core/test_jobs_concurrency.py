"""Scheduled jobs racing each other and a sale, with real threads and connections.

Run on SQLite (every transaction is IMMEDIATE: writers queue on the one write lock) and on
PostgreSQL (row locks: the jobs' lease-lock rows, ledger accounts, lots, members, campaigns).
Each job is run in two threads at once beside a checkout, through the job runner (one run
takes the merchant's lock, the other is skipped) and, for the loyalty services, directly
(no job lock: the services' own keys and row locks must hold).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from langganan.campaigns.models import Message
from langganan.campaigns.services import campaign_activate, campaign_create, template_create
from langganan.core.jobs.models import JobRun
from langganan.core.jobs.services import job_run
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.members import birthday_bonus_run
from langganan.loyalty.models import Journal, TierChange
from langganan.loyalty.points import points_expire_due
from langganan.loyalty.tiers import tier_review_run
from langganan.sales.models import Transaction
from tests.campaigns.core.conftest import consenting_customer
from tests.loyalty.conftest import ledger_cleanup  # noqa: F401 (a fixture)

from .jobs_support import make_shop, sell, together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_cleanup")]
MEMBERS = 4


def _keys(shop, prefix: str) -> list[str]:
    return list(
        Journal.objects.filter(merchant=shop.merchant, key__startswith=prefix).values_list(
            "key", flat=True
        )
    )


def _check(shop, results) -> None:
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Transaction.objects.filter(merchant=shop.merchant).count() == 1
    assert ledger_discrepancies(shop.merchant) == []


@pytest.mark.parametrize(
    "name", ["loyalty.expire", "loyalty.tiers", "loyalty.birthdays", "loyalty.expiring"]
)
def test_a_loyalty_job_twice_at_once_beside_a_sale_does_everything_once(name):
    shop = make_shop(members=MEMBERS)

    results = together(
        lambda: job_run(job=name, merchant=shop.merchant, now=shop.now),
        lambda: job_run(job=name, merchant=shop.merchant, now=shop.now),
        lambda: sell(shop, "race"),
    )
    again = job_run(job=name, merchant=shop.merchant, now=shop.now, force=True)

    _check(shop, results)
    runs = results[:2]
    assert all(r.outcome in ("ok", "skipped") for r in runs), [r.error for r in runs]
    assert not any(v for k, v in again.result.items() if k != "skipped"), again.result
    assert len(_keys(shop, "expire:lot:")) == (MEMBERS if name == "loyalty.expire" else 0)
    assert len(_keys(shop, "birthday:")) == (MEMBERS if name == "loyalty.birthdays" else 0)
    reviews = TierChange.objects.filter(member__merchant=shop.merchant, reason="review")
    assert reviews.count() == (MEMBERS if name == "loyalty.tiers" else 0)
    if name == "loyalty.expiring":
        assert JobRun.objects.filter(job=name, outcome="ok", seen__has_key="day").count() == 1


def test_the_loyalty_services_themselves_hold_without_the_jobs_lock():
    shop = make_shop(members=MEMBERS)
    today = shop.now.date()

    results = together(
        lambda: points_expire_due(merchant=shop.merchant, now=shop.now),
        lambda: points_expire_due(merchant=shop.merchant, now=shop.now),
        lambda: birthday_bonus_run(merchant=shop.merchant, today=today),
        lambda: birthday_bonus_run(merchant=shop.merchant, today=today),
        lambda: tier_review_run(merchant=shop.merchant, at=shop.now),
        lambda: tier_review_run(merchant=shop.merchant, at=shop.now),
        lambda: sell(shop, "race"),
    )

    _check(shop, results)
    assert results[0] + results[1] == MEMBERS * 50
    assert results[2] + results[3] == MEMBERS
    assert len(results[4]) + len(results[5]) <= MEMBERS
    assert len(_keys(shop, "expire:lot:")) == MEMBERS
    assert len(_keys(shop, "birthday:")) == MEMBERS
    reviews = TierChange.objects.filter(member__merchant=shop.merchant, reason="review")
    assert reviews.count() == MEMBERS


def test_campaign_triggers_twice_at_once_beside_a_sale_queue_each_message_once():
    shop = make_shop(members=1)
    customers = [consenting_customer(shop.merchant) for _ in range(6)]
    template = template_create(merchant=shop.merchant, name="Halo", body_id="Halo {salutation}!")
    campaign = campaign_create(
        merchant=shop.merchant,
        name="Semua",
        kind="broadcast",
        channel="whatsapp",
        template=template,
        holdout_percent=0,
    )
    campaign_activate(campaign=campaign, now=shop.now - timedelta(days=1))

    results = together(
        lambda: job_run(job="campaigns.triggers", merchant=shop.merchant, now=shop.now),
        lambda: job_run(job="campaigns.triggers", merchant=shop.merchant, now=shop.now),
        lambda: sell(shop, "race"),
    )
    again = job_run(job="campaigns.triggers", merchant=shop.merchant, now=shop.now)

    _check(shop, results)
    assert all(r.outcome in ("ok", "skipped") for r in results[:2]), [r.error for r in results[:2]]
    assert sum(r.result.get("queued", 0) for r in results[:2]) == len(customers)
    assert again.result.get("queued", 0) == 0
    per_customer = Message.objects.filter(merchant=shop.merchant).values_list(
        "customer_id", flat=True
    )
    assert sorted(per_customer) == sorted(c.pk for c in customers)
    assert connection.vendor in ("sqlite", "postgresql")
