"""The worker's tasks and their django-q2 schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from langganan.campaigns import worker
from langganan.campaigns.delivery import LEASE
from langganan.campaigns.models import MessageStatus, MessagingPolicy

from .support import consenting_customer, queue

pytestmark = pytest.mark.django_db

NAMES = {"campaigns: outbox", "campaigns: triggers", "campaigns: recover"}
RUNNER = "langganan.core.jobs.services.scheduled"


def test_the_campaign_schedules_are_created_once_and_kept_by_name():
    first = worker.schedules_ensure()
    second = worker.schedules_ensure()

    rows = {s.name: s for s in Schedule.objects.all()}
    assert {k: first[k] for k in NAMES} == dict.fromkeys(NAMES, "created")
    assert set(second.values()) == {"unchanged"}
    assert NAMES <= set(rows)  # with the other apps' jobs (tests/core/test_jobs.py)
    assert (rows["campaigns: outbox"].func, rows["campaigns: outbox"].args) == (
        RUNNER,
        "'campaigns.outbox'",
    )
    assert (rows["campaigns: outbox"].schedule_type, rows["campaigns: outbox"].minutes) == (
        Schedule.MINUTES,
        1,
    )
    assert rows["campaigns: triggers"].minutes == 15
    assert rows["campaigns: recover"].minutes == 10
    assert all(s.repeats == -1 for s in rows.values())


def test_a_changed_schedule_is_put_back_and_duplicates_removed():
    worker.schedules_ensure()
    Schedule.objects.filter(name="campaigns: outbox").update(minutes=30, repeats=0)
    Schedule.objects.create(name="campaigns: recover", func=RUNNER, args="'campaigns.recover'")

    outcome = worker.schedules_ensure()

    assert outcome["campaigns: outbox"] == "updated"
    assert outcome["campaigns: recover"] == "updated"
    assert outcome["campaigns: triggers"] == "unchanged"
    outbox = Schedule.objects.get(name="campaigns: outbox")
    assert (outbox.minutes, outbox.repeats) == (1, -1)
    assert Schedule.objects.filter(name="campaigns: recover").count() == 1


def test_the_scheduled_function_can_be_imported():
    from django.utils.module_loading import import_string

    worker.schedules_ensure()
    for schedule in Schedule.objects.all():
        assert callable(import_string(schedule.func))


def test_deliver_outbox_sends_everything_due_in_several_passes(shop, channel):
    MessagingPolicy.objects.create(merchant=shop, quiet_start_hour=0, quiet_end_hour=0)
    due = timezone.now() - timedelta(seconds=1)
    for _ in range(5):
        queue(consenting_customer(shop), due=due)

    result = worker.deliver_outbox(batch=2)

    assert result["sent"] == 5
    assert len(channel.sent) == 5


def test_deliver_outbox_stops_starting_passes_when_its_time_budget_is_spent(shop, channel):
    MessagingPolicy.objects.create(merchant=shop, quiet_start_hour=0, quiet_end_hour=0)
    due = timezone.now() - timedelta(seconds=1)
    for _ in range(5):
        queue(consenting_customer(shop), due=due)

    result = worker.deliver_outbox(batch=2, budget_s=0)

    assert result["sent"] == 2


def test_recover_stale_marks_interrupted_sends_unknown(shop):
    claimed = timezone.now() - LEASE - timedelta(minutes=1)
    message = queue(consenting_customer(shop), status=MessageStatus.SENDING, claimed_at=claimed)

    assert worker.recover_stale() == {"unknown": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
