"""The sign-up tables in the Django admin: the list and change pages render."""

from __future__ import annotations

import pytest
from django.urls import reverse

from langganan.counter.enrolment import counter_enrol, signup_link_get
from langganan.counter.models import MemberSignup, SignupAttempt
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_sign_up_tables_render_in_the_admin(client, merchant, outlet):
    link = signup_link_get(outlet=outlet)
    SignupAttempt.objects.create(link=link, address="10.0.0.1", at=link.created_at)
    counter_enrol(merchant=merchant, outlet=outlet, phone="081234567890", full_name="Rina")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model, obj in (
        ("signuplink", link),
        ("signupattempt", SignupAttempt.objects.get()),
        ("membersignup", MemberSignup.objects.get()),
    ):
        assert client.get(reverse(f"admin:counter_{model}_changelist")).status_code == 200
        url = reverse(f"admin:counter_{model}_change", args=[obj.pk])
        assert client.get(url).status_code == 200
