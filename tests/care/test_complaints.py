"""Complaints: recording, the status machine, the append-only timeline, overdue deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from langganan.care.models import (
    TRANSITIONS,
    AppendOnly,
    CareSettings,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    EventKind,
    Status,
)
from langganan.care.selectors import (
    care_settings_for,
    complaints_for,
    deadlines,
    overdue_count,
)
from langganan.care.services import (
    ERR_ASSIGNEE,
    ERR_CATEGORY,
    ERR_OTHER_MERCHANT,
    ERR_PHONE,
    ERR_TEXT_REQUIRED,
    TransitionRefused,
    categories_ensure,
    complaint_assign,
    complaint_note,
    complaint_set_status,
)
from langganan.core.errors import InvalidInput
from tests.care.helpers import T0, category, complaint
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ALL = [s.value for s in Status]
PAIRS = [(a, b) for a in ALL for b in ALL]


def _at_status(merchant, status: str) -> Complaint:
    """A complaint brought to ``status`` along allowed steps."""
    path = {
        Status.NEW: [],
        Status.IN_PROGRESS: [Status.IN_PROGRESS],
        Status.RESOLVED: [Status.IN_PROGRESS, Status.RESOLVED],
        Status.CLOSED: [Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED],
        Status.REJECTED: [Status.REJECTED],
    }[status]
    c = complaint(merchant)
    for step in path:
        c = complaint_set_status(complaint=c, status=step, by=None, at=T0)
    return c


def test_the_default_categories_are_seeded_once_and_editable(merchant):
    categories_ensure(merchant=merchant)
    categories_ensure(merchant=merchant)
    names = list(ComplaintCategory.objects.filter(merchant=merchant).values_list("name", flat=True))
    assert len(names) == 8
    assert names[0] == "Rasa / kualitas" and names[-1] == "Lainnya"
    assert ComplaintCategory.objects.filter(merchant=MerchantFactory()).count() == 0


def test_a_complaint_starts_new_with_one_timeline_line(merchant):
    customer = CustomerFactory(merchant=merchant)
    c = complaint(merchant, customer=customer)
    assert c.status == Status.NEW
    assert c.first_response_at is None
    events = list(c.events.all())
    assert [(e.kind, e.to_status) for e in events] == [(EventKind.CREATED, Status.NEW)]


def test_a_sale_gives_the_complaint_its_customer_and_outlet(merchant):
    customer = CustomerFactory(merchant=merchant)
    sale = TransactionFactory(merchant=merchant, customer=customer)
    c = complaint(merchant, transaction_obj=sale)
    assert c.customer == customer and c.outlet == sale.outlet


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "  "}, ERR_TEXT_REQUIRED),
        ({"contact_phone": "12"}, ERR_PHONE),
    ],
)
def test_bad_input_is_refused_and_nothing_written(merchant, kwargs, error):
    with pytest.raises(InvalidInput) as info:
        complaint(merchant, **kwargs)
    assert info.value.message == error
    assert not Complaint.objects.exists()


def test_another_merchants_sale_customer_or_category_is_refused(merchant):
    other = MerchantFactory()
    with pytest.raises(InvalidInput) as info:
        complaint(merchant, transaction_obj=TransactionFactory(merchant=other))
    assert info.value.message == ERR_OTHER_MERCHANT
    with pytest.raises(InvalidInput) as info:
        complaint(merchant, customer=CustomerFactory(merchant=other))
    assert info.value.message == ERR_OTHER_MERCHANT
    with pytest.raises(InvalidInput) as info:
        complaint(merchant, category=category(other))
    assert info.value.message == ERR_CATEGORY
    assert not Complaint.objects.exists()


def test_an_anonymous_contact_phone_is_stored_in_e164(merchant):
    c = complaint(merchant, contact_name="Ibu di meja 3", contact_phone="0812-1111-2222")
    assert c.contact_phone == "+6281211112222"
    assert c.customer is None and c.who == "Ibu di meja 3"


@pytest.mark.parametrize(("start", "to"), PAIRS)
def test_every_status_change_is_allowed_or_refused_as_the_table_says(merchant, start, to):
    c = _at_status(merchant, start)
    before = c.events.count()
    if to in TRANSITIONS[start]:
        changed = complaint_set_status(complaint=c, status=to, by=None, at=T0 + timedelta(hours=1))
        assert changed.status == to
        last = changed.events.last()
        assert (last.kind, last.from_status, last.to_status) == (EventKind.STATUS, start, to)
        assert c.events.count() == before + 1
    else:
        with pytest.raises(TransitionRefused):
            complaint_set_status(complaint=c, status=to, by=None, at=T0 + timedelta(hours=1))
        c.refresh_from_db()
        assert c.status == start
        assert c.events.count() == before


def test_the_allowed_steps_are_the_documented_ones():
    assert TRANSITIONS[Status.NEW] == {Status.IN_PROGRESS, Status.REJECTED}
    assert TRANSITIONS[Status.IN_PROGRESS] == {Status.RESOLVED, Status.REJECTED}
    assert TRANSITIONS[Status.RESOLVED] == {Status.CLOSED, Status.IN_PROGRESS}
    assert TRANSITIONS[Status.CLOSED] == TRANSITIONS[Status.REJECTED] == frozenset()


def test_resolving_stamps_resolved_at_and_reopening_clears_it(merchant):
    c = _at_status(merchant, Status.IN_PROGRESS)
    c = complaint_set_status(complaint=c, status=Status.RESOLVED, by=None, at=T0 + timedelta(1))
    assert c.resolved_at == T0 + timedelta(1)
    c = complaint_set_status(complaint=c, status=Status.IN_PROGRESS, by=None, at=T0 + timedelta(2))
    assert c.resolved_at is None


def test_the_first_action_is_the_first_response_and_later_ones_do_not_move_it(merchant):
    c = complaint(merchant)
    complaint_note(complaint=c, text="Sudah ditelepon", by=None, at=T0 + timedelta(hours=2))
    complaint_note(complaint=c, text="Lagi", by=None, at=T0 + timedelta(hours=5))
    c.refresh_from_db()
    assert c.first_response_at == T0 + timedelta(hours=2)


def test_the_timeline_is_append_only(merchant):
    c = complaint(merchant)
    event = complaint_note(complaint=c, text="Catatan", by=None, at=T0)
    event.text = "diubah"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    assert ComplaintEvent.objects.get(pk=event.pk).text == "Catatan"
    assert c.events.count() == 2


def test_the_assignee_must_be_staff_of_the_merchant(merchant):
    c = complaint(merchant)
    staff = MembershipFactory(merchant=merchant, role="manager").user
    complaint_assign(complaint=c, assignee=staff, by=None, at=T0)
    c.refresh_from_db()
    assert c.assignee == staff
    stranger = MembershipFactory(merchant=MerchantFactory(), role="owner").user
    with pytest.raises(InvalidInput) as info:
        complaint_assign(complaint=c, assignee=stranger, by=None, at=T0)
    assert info.value.message == ERR_ASSIGNEE
    with pytest.raises(InvalidInput):
        complaint_assign(complaint=c, assignee=UserFactory(), by=None, at=T0)
    c.refresh_from_db()
    assert c.assignee == staff


# -- deadlines ----------------------------------------------------------------------------------


def test_the_default_targets_are_24_and_72_hours(merchant):
    targets = care_settings_for(merchant)
    assert (targets.first_response_hours, targets.resolution_hours) == (24, 72)


def test_overdue_with_fixed_times(merchant):
    targets = care_settings_for(merchant)
    c = complaint(merchant)

    just_in = deadlines(c, targets, T0 + timedelta(hours=24))
    assert not just_in.response_overdue and not just_in.overdue
    late = deadlines(c, targets, T0 + timedelta(hours=24, seconds=1))
    assert late.response_overdue and not late.resolution_overdue and late.overdue
    assert late.response_due == T0 + timedelta(hours=24)

    complaint_note(complaint=c, text="Halo", by=None, at=T0 + timedelta(hours=30))
    c.refresh_from_db()
    answered = deadlines(c, targets, T0 + timedelta(hours=30))
    assert not answered.response_overdue
    assert not deadlines(c, targets, T0 + timedelta(hours=72)).resolution_overdue
    assert deadlines(c, targets, T0 + timedelta(hours=72, seconds=1)).resolution_overdue

    c = complaint_set_status(complaint=c, status=Status.IN_PROGRESS, by=None, at=T0)
    c = complaint_set_status(complaint=c, status=Status.RESOLVED, by=None, at=T0)
    assert not deadlines(c, targets, T0 + timedelta(days=30)).overdue


def test_the_queue_counts_and_filters_the_overdue_ones_by_the_merchants_targets(merchant):
    CareSettings.objects.create(merchant=merchant, first_response_hours=2, resolution_hours=10)
    now = T0 + timedelta(hours=5)
    late = complaint(merchant, at=T0)  # no response after 5 h: late
    answered = complaint(merchant, at=T0)
    complaint_note(complaint=answered, text="Sudah", by=None, at=T0 + timedelta(hours=1))
    fresh = complaint(merchant, at=T0 + timedelta(hours=4))
    old_done = _at_status(merchant, Status.REJECTED)  # created at T0, closed: never overdue

    assert overdue_count(merchant=merchant, now=now) == 1
    assert list(complaints_for(merchant=merchant, overdue=True, now=now)) == [late]
    later = T0 + timedelta(hours=11)  # past the 10 h resolution target; fresh unanswered 7 h
    overdue = set(complaints_for(merchant=merchant, overdue=True, now=later))
    assert overdue == {late, answered, fresh}
    assert old_done not in complaints_for(merchant=merchant, status="open")
    assert overdue_count(merchant=MerchantFactory(), now=later) == 0
