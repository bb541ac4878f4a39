"""The owner's alert when a low rating opens a complaint.

A rating at or below the merchant's threshold opens a complaint (:mod:`.feedback`); the owners
of the business are then told by e-mail (each owner's login e-mail). It is a service message to
the business's own staff, not marketing: it needs no consent. The e-mail is sent by the worker
(a django-q2 task queued when the answer is saved, so the customer's page never waits on a mail
server), and the alert is logged on the complaint's timeline and in the application log. An
owner without an e-mail still sees the complaint counted beside *Keluhan* in the menu.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from langganan.core.models import Membership, Role

from .models import Complaint, ComplaintEvent, EventKind, Feedback

logger = logging.getLogger(__name__)

TASK = "langganan.care.alerts.alert_deliver"
NOTE_SENT = "Pemilik diberi tahu lewat e-mail ({count} penerima)."
NOTE_NO_EMAIL = "Tidak ada pemilik dengan alamat e-mail: keluhan ini terhitung di menu Keluhan."


def owner_emails(merchant_id: int) -> list[str]:
    """The e-mail addresses of the business's owners (sorted, without blanks or repeats)."""
    emails = Membership.objects.filter(merchant_id=merchant_id, role=Role.OWNER).values_list(
        "user__email", flat=True
    )
    return sorted({e.strip() for e in emails if e and e.strip()})


def alert_text(*, feedback: Feedback, complaint: Complaint) -> tuple[str, str]:
    """The alert's subject and body, in Indonesian (the owner's dashboard language)."""
    merchant = complaint.merchant
    path = reverse(
        "care:complaint_detail", kwargs={"slug": merchant.slug, "complaint_id": complaint.pk}
    )
    outlet = feedback.outlet.name if feedback.outlet_id else "-"
    who = "pelanggan tanpa nama"
    if feedback.customer_id:
        who = feedback.customer.full_name or feedback.customer.member_code
    subject = f"[{merchant.name}] Ulasan {feedback.rating}/5 — keluhan #{complaint.pk} dibuka"
    lines = [
        f"Ada ulasan rendah di {merchant.name} (outlet {outlet}).",
        "",
        f"Nilai: {feedback.rating}/5"
        + (f" · NPS {feedback.nps}" if feedback.nps is not None else ""),
        f"Dari: {who}",
    ]
    if feedback.comment:
        lines.append(f"Komentar: {feedback.comment}")
    lines += [
        "",
        f"Keluhan #{complaint.pk} sudah dibuka otomatis. Tanggapi di:",
        f"{settings.PUBLIC_BASE_URL}{path}",
    ]
    return subject, "\n".join(lines)


def owner_alert_low_rating(*, feedback: Feedback, complaint: Complaint) -> list[str]:
    """Queue the owners' e-mail for the complaint a low rating opened and log it on the
    complaint's timeline (the system's note, no staff member). Returns the addresses."""
    emails = owner_emails(complaint.merchant_id)
    note = NOTE_SENT.format(count=len(emails)) if emails else NOTE_NO_EMAIL
    ComplaintEvent.objects.create(
        merchant_id=complaint.merchant_id,
        complaint=complaint,
        kind=EventKind.NOTE,
        text=note,
        by=None,
        at=complaint.created_at,
    )
    logger.info(
        "low rating %s/5 opened complaint %s of merchant %s: %s owner(s) alerted",
        feedback.rating,
        complaint.pk,
        complaint.merchant_id,
        len(emails),
    )
    if emails:
        subject, body = alert_text(feedback=feedback, complaint=complaint)
        transaction.on_commit(lambda: _queue(complaint.pk, emails, subject, body))
    return emails


def _queue(complaint_id: int, emails: list[str], subject: str, body: str) -> None:
    from django_q.tasks import async_task

    async_task(TASK, complaint_id, emails, subject, body, task_name=f"alert {complaint_id}")


def alert_deliver(complaint_id: int, emails: list[str], subject: str, body: str) -> int:
    """Send the alert (the worker's task); returns the number of messages sent."""
    sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=False)
    logger.info("alert for complaint %s sent to %s owner(s)", complaint_id, len(emails))
    return sent
