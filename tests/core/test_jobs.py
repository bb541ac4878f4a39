"""Recurring jobs: the registry, django-q2 schedules, recorded runs, the nightly analysis that
skips when nothing changed, runs repeated without doing anything twice, and the jobs page."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from langganan.campaigns.models import Message
from langganan.core.jobs import job_get, jobs
from langganan.core.jobs import services as job_services
from langganan.core.jobs.models import JobLock, JobRun
from langganan.core.jobs.services import (
    RUNNER,
    daily_due,
    job_run,
    schedules_ensure,
)
from langganan.core.models import Role
from langganan.insights.models import InsightRun
from langganan.loyalty.ledger import ledger_discrepancies
from langganan.loyalty.models import Journal, TierChange
from tests.factories import MembershipFactory, MerchantFactory, TransactionFactory

from .jobs_support import JAKARTA, make_shop, sell

pytestmark = pytest.mark.django_db

JOBS = {
    "insights.nightly",
    "loyalty.expire",
    "loyalty.tiers",
    "loyalty.birthdays",
    "loyalty.expiring",
    "campaigns.triggers",
    "campaigns.outbox",
    "campaigns.recover",
    "webhooks.deliver",
    "privacy.audit_prune",
    "care.overdue",
}


def test_every_recurring_job_is_registered_with_a_title_and_a_cadence():
    assert {job.name for job in jobs()} == JOBS
    daily = {job.name for job in jobs() if job.daily}
    assert daily == {n for n in JOBS if n.startswith(("insights.", "loyalty.", "privacy."))}
    assert job_get("campaigns.outbox").every_minutes == 1
    assert job_get("campaigns.triggers").every_minutes == 15
    assert job_get("care.overdue").every_minutes == 15


def test_schedules_are_created_once_kept_by_name_and_old_ones_removed():
    Schedule.objects.create(name="campaigns: outbox", func="langganan.campaigns.worker.x")
    Schedule.objects.create(name="campaigns: outbox", func="langganan.campaigns.worker.x")
    Schedule.objects.create(name="old: gone", func="langganan.campaigns.worker.gone")
    Schedule.objects.create(name="someone else's", func="other.module.task")

    first = schedules_ensure()
    second = schedules_ensure()

    names = {job.schedule_name for job in jobs()}
    assert first["campaigns: outbox"] == "updated" and first["old: gone"] == "removed"
    assert {k for k, v in first.items() if v == "created"} == names - {"campaigns: outbox"}
    assert second == dict.fromkeys(names, "unchanged")
    rows = {s.name: s for s in Schedule.objects.filter(func=RUNNER)}
    assert set(rows) == names and Schedule.objects.filter(name="campaigns: outbox").count() == 1
    assert Schedule.objects.filter(name="someone else's").exists()
    assert rows["campaigns: outbox"].args == "'campaigns.outbox'"
    assert (rows["campaigns: outbox"].schedule_type, rows["campaigns: outbox"].minutes) == (
        Schedule.MINUTES,
        1,
    )
    assert rows["insights: nightly"].minutes == 15  # checks which merchants are due
    assert all(s.repeats == -1 for s in rows.values())


def test_the_scheduled_task_runs_a_job_by_name():
    result = job_services.scheduled("campaigns.recover")
    assert result == {
        "runs": 1,
        "failed": 0,
        "summary": "0 pengiriman terputus ditandai belum pasti",
    }


def test_a_run_is_recorded_with_a_plain_result():
    shop = make_shop(members=3)

    run = job_run(job="loyalty.expire", merchant=shop.merchant, now=shop.now)

    assert run.outcome == JobRun.Outcome.OK
    assert run.result == {"points": 150}
    assert run.summary == "150 poin kedaluwarsa"
    assert run.finished_at >= run.started_at and run.duration_ms >= 0
    assert not JobLock.objects.filter(held_until__isnull=False).exists()


def test_a_failed_run_is_recorded_with_its_error_and_does_not_raise(monkeypatch):
    from langganan.core.jobs import Job, JobResult, registry

    def broken(**kwargs) -> JobResult:
        raise RuntimeError("audience filter broken")

    job = Job(name="test.broken", title="t", description="d", func=broken, summary=str, daily=True)
    monkeypatch.setitem(registry._JOBS, job.name, job)

    run = job_run(job="test.broken", merchant=MerchantFactory())

    assert run.outcome == JobRun.Outcome.FAILED
    assert run.error == "RuntimeError: audience filter broken"
    assert run.summary == ""
    assert not JobLock.objects.filter(held_until__isnull=False).exists()


def test_runs_are_pruned_to_the_last_ones_of_each_job(monkeypatch):
    monkeypatch.setattr(job_services, "KEEP_RUNS", 3)
    for _ in range(5):
        job_run(job="campaigns.recover")
    job_run(job="campaigns.outbox")

    assert JobRun.objects.filter(job="campaigns.recover").count() == 3
    assert JobRun.objects.filter(job="campaigns.outbox").count() == 1


def test_a_run_finding_the_merchants_lock_held_is_skipped():
    merchant = MerchantFactory()
    JobLock.objects.create(
        scope=f"loyalty.expire:{merchant.pk}",
        holder="elsewhere",
        held_until=timezone.now() + timedelta(minutes=5),
    )

    run = job_run(job="loyalty.expire", merchant=merchant)

    assert run.outcome == JobRun.Outcome.SKIPPED
    assert run.summary == "Dilewati: sedang berjalan di proses lain"


def test_an_expired_lease_does_not_block_the_next_run():
    merchant = MerchantFactory()
    JobLock.objects.create(
        scope=f"loyalty.expire:{merchant.pk}",
        holder="died",
        held_until=timezone.now() - timedelta(seconds=1),
    )
    assert job_run(job="loyalty.expire", merchant=merchant).outcome != JobRun.Outcome.FAILED
    assert job_run(job="loyalty.expire", merchant=merchant).result.get("skipped") != "busy"


def test_a_daily_job_is_due_once_after_the_merchants_nightly_hour():
    merchant = MerchantFactory(time_zone="Asia/Makassar")  # WITA, UTC+8
    zone = "Asia/Makassar"
    from zoneinfo import ZoneInfo

    wita = ZoneInfo(zone)
    job = job_get("loyalty.expire")
    before = datetime(2026, 5, 10, 1, 30, tzinfo=wita)
    JobRun.objects.create(
        job=job.name,
        merchant=merchant,
        started_at=datetime(2026, 5, 9, 2, 5, tzinfo=wita),
        finished_at=datetime(2026, 5, 9, 2, 6, tzinfo=wita),
        outcome="ok",
    )
    assert not daily_due(job=job, merchant=merchant, now=before)
    after = datetime(2026, 5, 10, 2, 1, tzinfo=wita)
    assert daily_due(job=job, merchant=merchant, now=after)
    job_run(job=job, merchant=merchant, now=after)
    JobRun.objects.filter(job=job.name).update(started_at=after)
    assert not daily_due(job=job, merchant=merchant, now=after + timedelta(hours=20))
    assert daily_due(job=job, merchant=merchant, now=after + timedelta(hours=24))


def test_a_failed_daily_run_is_tried_again_an_hour_later():
    merchant = MerchantFactory()
    job = job_get("loyalty.expire")
    at = datetime(2026, 5, 10, 3, 0, tzinfo=JAKARTA)
    JobRun.objects.create(
        job=job.name, merchant=merchant, started_at=at, finished_at=at, outcome="failed"
    )
    assert not daily_due(job=job, merchant=merchant, now=at + timedelta(minutes=30))
    assert daily_due(job=job, merchant=merchant, now=at + timedelta(minutes=61))


# -- the nightly analysis ----------------------------------------------------------------------


@pytest.fixture
def fake_refresh(monkeypatch):
    """``insights_refresh`` without the engine: a finished run, its calls recorded."""
    from langganan.insights import services

    calls = []

    def refresh(*, merchant, observation_end=None, **kwargs):
        calls.append(observation_end)
        return InsightRun.objects.create(
            merchant=merchant, status="done", customers=2, transactions=3
        )

    monkeypatch.setattr(services, "insights_refresh", refresh)
    return calls


def test_the_nightly_analysis_is_skipped_when_no_sale_changed(fake_refresh):
    merchant = MerchantFactory()
    TransactionFactory.create_batch(3, merchant=merchant)

    first = job_run(job="insights.nightly", merchant=merchant)
    second = job_run(job="insights.nightly", merchant=merchant)
    TransactionFactory(merchant=merchant)
    third = job_run(job="insights.nightly", merchant=merchant)
    forced = job_run(job="insights.nightly", merchant=merchant, force=True)

    assert first.outcome == "ok" and first.summary == "2 pelanggan dianalisis dari 3 penjualan"
    assert first.seen["count"] == 3 and first.seen["last_id"] is not None
    assert second.outcome == "skipped"
    assert second.summary == "Dilewati: tidak ada penjualan baru sejak analisis terakhir"
    assert third.outcome == "ok" and third.seen["count"] == 4
    assert forced.outcome == "ok"
    assert len(fake_refresh) == 3


def test_an_analysis_run_by_hand_after_the_last_sale_counts_as_current(fake_refresh):
    merchant = MerchantFactory()
    TransactionFactory.create_batch(2, merchant=merchant)
    InsightRun.objects.create(merchant=merchant, status="done")  # `langganan analyze`

    assert job_run(job="insights.nightly", merchant=merchant).outcome == "skipped"
    assert fake_refresh == []


def test_an_old_or_failed_analysis_is_redone_without_a_new_sale(fake_refresh):
    merchant = MerchantFactory()
    TransactionFactory(merchant=merchant)
    job_run(job="insights.nightly", merchant=merchant)
    InsightRun.objects.filter(merchant=merchant).update(
        started_at=timezone.now() - timedelta(days=8)
    )
    assert job_run(job="insights.nightly", merchant=merchant).outcome == "ok"
    InsightRun.objects.create(merchant=merchant, status="failed")
    assert job_run(job="insights.nightly", merchant=merchant).outcome == "ok"
    assert len(fake_refresh) == 3


# -- each job twice in a row -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["loyalty.expire", "loyalty.tiers", "loyalty.birthdays", "loyalty.expiring"]
)
def test_a_loyalty_job_run_twice_does_nothing_the_second_time(name):
    shop = make_shop(members=3)
    journals = Journal.objects.filter(merchant=shop.merchant)

    first = job_run(job=name, merchant=shop.merchant, now=shop.now)
    counted = (journals.count(), TierChange.objects.count())
    sell(shop, "between")
    second = job_run(job=name, merchant=shop.merchant, now=shop.now, force=True)

    assert first.outcome == "ok", first.error
    assert second.outcome in ("ok", "skipped"), second.error
    assert not any(v for k, v in second.result.items() if k != "skipped"), second.result
    assert journals.count() == counted[0] + 1  # only the sale's own journal
    if name == "loyalty.tiers":
        assert TierChange.objects.filter(reason="review").count() == 3
    assert ledger_discrepancies(shop.merchant) == []


def test_the_birthday_bonus_and_expiry_are_given_once_per_member():
    shop = make_shop(members=3)
    for _ in range(2):
        job_run(job="loyalty.birthdays", merchant=shop.merchant, now=shop.now)
        job_run(job="loyalty.expire", merchant=shop.merchant, now=shop.now)
    keys = list(Journal.objects.filter(merchant=shop.merchant).values_list("key", flat=True))
    assert sum(k.startswith("birthday:") for k in keys) == 3
    assert sum(k.startswith("expire:lot:") for k in keys) == 3


def test_worker_once_runs_every_job_then_only_what_is_due():
    from click.testing import CliRunner

    from langganan.cli import cli

    MerchantFactory(slug="warung")
    first = CliRunner().invoke(cli, ["worker", "--once"])
    second = CliRunner().invoke(cli, ["worker", "--once"])

    assert first.exit_code == 0, first.output
    assert "loyalty: expire (warung): Dilewati: belum ada program loyalitas aktif" in first.output
    assert "insights: nightly (warung)" in first.output
    assert "insights: nightly" not in second.output  # done for tonight
    assert "campaigns: outbox: Tidak ada yang perlu dikirim" in second.output
    # the second pass runs again what is due every few minutes: the outbox, the triggers, the
    # recovery, the webhook deliveries and the overdue complaints
    assert JobRun.objects.filter(trigger="command").count() == len(JOBS) + 5


# -- the page ----------------------------------------------------------------------------------


def url(merchant) -> str:
    return f"/m/{merchant.slug}/jobs/"


def test_the_owner_sees_every_job_in_plain_indonesian(client):
    shop = make_shop(members=2)
    owner = MembershipFactory(merchant=shop.merchant, role=Role.OWNER)
    client.force_login(owner.user)
    job_run(job="loyalty.expire", merchant=shop.merchant, now=shop.now)
    failed = JobRun.objects.create(
        job="loyalty.birthdays",
        merchant=shop.merchant,
        started_at=datetime(2026, 1, 5, 2, 0, tzinfo=JAKARTA),
        finished_at=datetime(2026, 1, 5, 2, 0, 3, tzinfo=JAKARTA),
        duration_ms=3000,
        outcome="failed",
        error="OperationalError: database is locked\nTraceback (most recent call last): …",
    )

    page = client.get(url(shop.merchant))

    text = page.content.decode()
    assert page.status_code == 200
    for title in (
        "Analisis pelanggan tiap malam",
        "Poin kedaluwarsa",
        "Peninjauan tingkat",
        "Bonus ulang tahun",
        "Pemicu kampanye",
        "Pengiriman pesan",
        "Pengiriman ulang webhook",
    ):
        assert title in text
    assert "100 poin kedaluwarsa" in text
    assert "5 Januari 2026, 02.00" in text
    assert "Basis data sedang sibuk atau tidak bisa dihubungi" in text
    assert "Traceback" not in text and "OperationalError" not in text
    assert "Setiap malam pukul 02.00" in text and "Setiap 15 menit" in text
    assert text.count("Jalankan sekarang</button>") == len(JOBS)
    assert "Pekerja latar belum pernah berjalan" in text
    assert f'href="{url(shop.merchant)}"' in text  # the menu entry
    assert failed.pk


def test_english_on_request(client):
    merchant = MerchantFactory()
    manager = MembershipFactory(merchant=merchant, role=Role.MANAGER)
    client.force_login(manager.user)
    client.cookies["django_language"] = "en"

    text = client.get(url(merchant)).content.decode()

    assert "Nightly customer analysis" in text and "Run now" in text
    assert "Every night at 02.00" in text


def test_a_cashier_gets_403_and_another_merchant_404(client):
    merchant, other = MerchantFactory(), MerchantFactory()
    cashier = MembershipFactory(merchant=merchant, role=Role.CASHIER)
    client.force_login(cashier.user)
    assert client.get(url(merchant)).status_code == 403
    assert client.post(f"{url(merchant)}loyalty.expire/run/").status_code == 403
    assert f'href="{url(merchant)}"' not in client.get(f"/m/{merchant.slug}/").content.decode()
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    assert client.get(url(other)).status_code == 404
    assert client.post(f"{url(other)}loyalty.expire/run/").status_code == 404
    assert client.post(f"{url(merchant)}no.such/run/").status_code == 404
    assert client.get(f"{url(merchant)}loyalty.expire/run/").status_code == 405


def test_run_now_without_a_worker_runs_here_and_says_so(client):
    shop = make_shop(members=2)
    owner = MembershipFactory(merchant=shop.merchant, role=Role.OWNER)
    client.force_login(owner.user)

    page = client.post(f"{url(shop.merchant)}loyalty.expire/run/", follow=True)

    run = JobRun.objects.get(job="loyalty.expire")
    assert (run.trigger, run.merchant, run.result) == ("manual", shop.merchant, {"points": 100})
    assert "dijalankan langsung di sini" in page.content.decode()
    assert "100 poin kedaluwarsa" in page.content.decode()


def test_run_now_with_a_worker_queues_the_job_for_this_merchant(client, monkeypatch):
    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    job_run(job="campaigns.outbox")  # a scheduled run just now: a worker is running
    queued = []
    import django_q.tasks

    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: queued.append(a))

    page = client.post(f"{url(merchant)}loyalty.expire/run/", follow=True)

    assert queued == [("langganan.core.jobs.services.run_task", "loyalty.expire", merchant.pk)]
    assert "dikirim ke pekerja latar" in page.content.decode()
    assert not JobRun.objects.filter(job="loyalty.expire").exists()
    job_services.run_task("loyalty.expire", merchant.pk)
    assert JobRun.objects.get(job="loyalty.expire").trigger == "manual"


def test_the_campaign_pages_say_when_no_worker_was_seen_lately(client):
    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant, role=Role.OWNER)
    client.force_login(owner.user)
    notice = "Pengirim pesan belum berjalan — jalankan <code>langganan serve</code>"
    campaigns = f"/m/{merchant.slug}/campaigns/"

    assert notice in client.get(campaigns).content.decode()
    job_run(job="campaigns.outbox")
    assert notice not in client.get(campaigns).content.decode()
    JobRun.objects.update(finished_at=timezone.now() - timedelta(minutes=6))
    assert notice in client.get(campaigns).content.decode()
    job_run(job="campaigns.outbox", trigger="manual")  # a run by hand is no worker
    assert notice in client.get(campaigns).content.decode()
    assert Message.objects.count() == 0
