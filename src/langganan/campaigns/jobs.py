"""The campaigns' jobs (see :mod:`langganan.core.jobs` and :mod:`.worker`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from langganan.core.jobs import Job, register

from . import worker

register(
    Job(
        name="campaigns.triggers",
        title=gettext_lazy("Campaign triggers"),
        description=gettext_lazy(
            "Active campaigns pick who is due (birthdays, reminders, win-back) and queue "
            "their messages."
        ),
        func=worker.triggers_job,
        summary=worker.triggers_text,
        every_minutes=15,
        order=60,
    )
)
register(
    Job(
        name="campaigns.outbox",
        title=gettext_lazy("Sending messages"),
        description=gettext_lazy("Sends the queued WhatsApp, SMS and email messages that are due."),
        func=worker.outbox_job,
        summary=worker.outbox_text,
        per_merchant=False,
        every_minutes=1,
        order=70,
    )
)
register(
    Job(
        name="campaigns.recover",
        title=gettext_lazy("Interrupted sends"),
        description=gettext_lazy(
            "Marks messages whose sending was cut off as uncertain, so they are not sent twice."
        ),
        func=worker.recover_job,
        summary=worker.recover_text,
        per_merchant=False,
        every_minutes=10,
        order=65,
    )
)
