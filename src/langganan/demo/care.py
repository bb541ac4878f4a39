"""The demo café's complaints, feedback and suggestions (issue 19), over the last months.

- **Feedback after a visit** on about :data:`FEEDBACK_SHARE` of the sales of the last
  :data:`FEEDBACK_DAYS` days (at most about :data:`FEEDBACK_MAX` answers): ratings mostly 4
  and 5, NPS mostly 8 to 10, a comment now and then, a suggestion (saran) from one answer in
  five. A rating of 2 or less goes through the real feedback service, so it opens a complaint
  (channel: feedback form) and alerts the owner, as a customer's low rating would.
- **Complaints** received in person, by WhatsApp, by phone or pasted from an online review over
  the last :data:`COMPLAINT_DAYS` days, about one per :data:`CUSTOMERS_PER_COMPLAINT`
  customers (at most :data:`COMPLAINTS_MAX`), in the café's categories (waiting time and taste
  most often), at the outlet of the sale they concern.
- **Handling**, through the care services, as the staff would: most are taken up within hours,
  resolved within days, some with an apology voucher (Rp 15.000–25.000) or bonus points for
  members, then closed; a few are rejected; the last days' are still new or in progress, some of
  them past their targets (overdue).

Everything is drawn from a ``random.Random`` seeded with the demo seed, so a seed gives the
same complaints, answers and timeline (voucher codes are the loyalty service's own).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from langganan.care.feedback import feedback_submit
from langganan.care.models import (
    Channel,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintRecovery,
    Feedback,
    InboundMessage,
    RecoveryKind,
    Severity,
    Status,
)
from langganan.care.services import (
    categories_ensure,
    complaint_assign,
    complaint_create,
    complaint_note,
    complaint_recover,
    complaint_set_status,
)
from langganan.core.models import Membership, Merchant
from langganan.demo.simulation import JAKARTA
from langganan.loyalty.models import Member
from langganan.sales.models import Transaction

FEEDBACK_DAYS = 120
FEEDBACK_SHARE = 0.08
#: a café's volume however many customers are simulated (a benchmark's 100,000 included)
FEEDBACK_MAX = 1500
COMPLAINTS_MAX = 80
COMPLAINT_DAYS = 180
CUSTOMERS_PER_COMPLAINT = 50
#: complaints received in the last days before the end are still being handled
RECENT_DAYS = 5

RATINGS = ((5, 0.50), (4, 0.33), (3, 0.11), (2, 0.035), (1, 0.025))
NPS_BY_RATING = {
    5: (10, 10, 10, 9, 9, 9, 8),
    4: (9, 8, 8, 8, 7, 7, 10),
    3: (7, 6, 6, 5, 8),
    2: (3, 4, 5, 2, 6),
    1: (0, 1, 2, 3),
}
COMMENTS = {
    5: (
        "Kopinya mantap, pelayanannya ramah.",
        "Tempatnya nyaman buat kerja.",
        "Es kopi susunya selalu enak!",
        "Baristanya hafal pesanan saya, terima kasih.",
    ),
    4: ("Enak, cuma agak ramai.", "Rotinya enak, kopinya oke.", "Pelayanan cepat."),
    3: ("Lumayan, tapi antrinya lama.", "Rasanya beda dari biasanya.", "AC-nya kurang dingin."),
    2: (
        "Pesanan saya tertukar dan lama diganti.",
        "Kopinya dingin waktu sampai di meja.",
        "Mejanya kotor dan tidak dibersihkan.",
    ),
    1: (
        "Menunggu 40 menit, tidak ada permintaan maaf.",
        "Kasirnya ketus waktu saya tanya soal poin.",
        "Ada rambut di makanan saya.",
    ),
}
#: the category the owner files a low rating's comment under
LOW_CATEGORY = {
    "Pesanan saya tertukar dan lama diganti.": "order",
    "Kopinya dingin waktu sampai di meja.": "taste",
    "Mejanya kotor dan tidak dibersihkan.": "cleanliness",
    "Menunggu 40 menit, tidak ada permintaan maaf.": "waiting",
    "Kasirnya ketus waktu saya tanya soal poin.": "staff",
    "Ada rambut di makanan saya.": "taste",
}
SUGGESTIONS = (
    "Tambah colokan listrik di dekat jendela.",
    "Bikin menu kopi tanpa gula / less sugar.",
    "Sediakan pilihan susu oat.",
    "Buka lebih pagi di hari Sabtu.",
    "Tambah menu makanan berat untuk makan siang.",
    "Musiknya dikecilkan sedikit.",
    "Pembayaran QRIS di meja supaya tidak antri.",
    "Ada paket hemat untuk pelanggan tetap.",
    "Tambah tempat parkir motor.",
    "Wifi-nya diperkuat.",
)
#: (category code, weight, channel, texts)
COMPLAINTS = (
    (
        "waiting",
        0.26,
        (Channel.IN_PERSON, Channel.WHATSAPP),
        (
            "Pesanan datang setelah 35 menit, padahal tidak ramai.",
            "Antri bayar lama karena hanya satu kasir.",
            "Pesanan online diambil ojol tapi belum siap, driver menunggu 20 menit.",
        ),
    ),
    (
        "taste",
        0.22,
        (Channel.IN_PERSON, Channel.WHATSAPP, Channel.REVIEW),
        (
            "Kopi susunya terlalu manis, tidak seperti biasanya.",
            "Croissant-nya keras, sepertinya sisa kemarin.",
            "Es teh rasanya hambar.",
        ),
    ),
    (
        "order",
        0.18,
        (Channel.IN_PERSON, Channel.PHONE, Channel.WHATSAPP),
        (
            "Pesan es kopi susu, yang datang americano.",
            "Pesanan bungkus kurang satu roti.",
            "Minta less sugar tapi tetap manis.",
        ),
    ),
    (
        "staff",
        0.12,
        (Channel.IN_PERSON, Channel.REVIEW),
        ("Barista kurang ramah waktu ditanya menu.", "Kasir sibuk main HP saat antri."),
    ),
    (
        "cleanliness",
        0.1,
        (Channel.IN_PERSON, Channel.REVIEW),
        ("Toiletnya kotor dan tidak ada sabun.", "Meja lengket, tidak dilap."),
    ),
    (
        "payment",
        0.07,
        (Channel.WHATSAPP, Channel.PHONE),
        ("QRIS gagal tapi saldo terpotong.", "Poin tidak masuk setelah belanja."),
    ),
    ("price", 0.05, (Channel.WHATSAPP,), ("Harga di struk beda dengan di menu.",)),
)
NOTES = (
    "Sudah menghubungi pelanggan lewat WhatsApp, minta maaf.",
    "Dicek dengan barista yang bertugas hari itu.",
    "Sudah dibahas di briefing pagi.",
    "Pelanggan menerima permintaan maaf.",
)
REJECT_NOTE = "Tidak sesuai catatan transaksi dan CCTV."
VOUCHERS = (Decimal("15000"), Decimal("20000"), Decimal("25000"))


class Sale(NamedTuple):
    pk: int
    customer_id: int
    outlet_id: int
    occurred_at: datetime


@dataclass(frozen=True)
class CareBuild:
    feedback: int
    complaints: int
    resolved: int
    open: int
    recoveries: int


def _pick(rng: random.Random, weighted) -> object:
    u = rng.random()
    total = 0.0
    for value, weight in weighted:
        total += weight
        if u < total:
            return value
    return weighted[-1][0]


def _staff(merchant: Merchant) -> list:
    return [m.user for m in Membership.objects.filter(merchant=merchant).select_related("user")]


def _handle(
    complaint: Complaint, rng: random.Random, end_at: datetime, staff, members, keep_new: bool
) -> str:
    """Take the complaint through the statuses up to ``end_at``; returns its final status
    (``keep_new``: left as received, nobody has taken it up yet)."""
    by = rng.choice(staff) if staff else None
    received = complaint.created_at
    age_hours = (end_at - received).total_seconds() / 3600
    if age_hours < RECENT_DAYS * 24:
        if rng.random() < 0.45 or keep_new:
            return Status.NEW  # not taken up yet: overdue once its target passes
        first = received + timedelta(hours=rng.uniform(0.5, min(20, age_hours * 0.8)))
        complaint_note(complaint=complaint, text=rng.choice(NOTES), by=by, at=first)
        complaint_set_status(complaint=complaint, status=Status.IN_PROGRESS, by=by, at=first)
        if by is not None:
            complaint_assign(complaint=complaint, assignee=by, by=by, at=first)
        return Status.IN_PROGRESS
    first = received + timedelta(hours=rng.choice((0.5, 1, 2, 3, 5, 8, 14, 20, 30)))
    complaint_set_status(complaint=complaint, status=Status.IN_PROGRESS, by=by, at=first)
    complaint_note(complaint=complaint, text=rng.choice(NOTES), by=by, at=first)
    if rng.random() < 0.08:
        at = first + timedelta(hours=rng.uniform(2, 24))
        complaint_set_status(
            complaint=complaint, status=Status.REJECTED, by=by, note=REJECT_NOTE, at=at
        )
        return Status.REJECTED
    resolved = first + timedelta(hours=rng.choice((2, 4, 6, 12, 20, 30, 48, 70, 96)))
    if complaint.customer_id is not None:
        roll = rng.random()
        if roll < 0.45:
            complaint_recover(
                complaint=complaint,
                kind=RecoveryKind.VOUCHER,
                key=f"demo-{complaint.pk}",
                amount=rng.choice(VOUCHERS),
                by=by,
                at=resolved,
            )
        elif roll < 0.6 and complaint.customer_id in members:
            complaint_recover(
                complaint=complaint,
                kind=RecoveryKind.POINTS,
                key=f"demo-{complaint.pk}",
                points=rng.choice((50, 100)),
                by=by,
                at=resolved,
            )
    complaint_set_status(complaint=complaint, status=Status.RESOLVED, by=by, at=resolved)
    closed = resolved + timedelta(days=rng.uniform(1, 6))
    if rng.random() < 0.6 and closed < end_at:
        complaint_set_status(complaint=complaint, status=Status.CLOSED, by=by, at=closed)
        return Status.CLOSED
    return Status.RESOLVED


def demo_care_build(*, merchant: Merchant, end: date, seed: int) -> CareBuild:
    """Write the café's feedback and complaints up to the start of ``end`` (see the module)."""
    rng = random.Random(f"{seed}:care")
    categories_ensure(merchant=merchant)
    categories = {c.code: c for c in ComplaintCategory.objects.filter(merchant=merchant)}
    end_at = datetime.combine(end, time(0), JAKARTA)
    staff = _staff(merchant)
    members = set(Member.objects.filter(merchant=merchant).values_list("customer_id", flat=True))
    sales = [
        Sale(*row)
        for row in Transaction.objects.filter(
            merchant=merchant,
            kind="sale",
            customer__isnull=False,
            occurred_at__gte=end_at - timedelta(days=COMPLAINT_DAYS),
            occurred_at__lt=end_at,
        )
        .order_by("occurred_at", "pk")
        .values_list("id", "customer_id", "outlet_id", "occurred_at")
    ]
    feedback_since = end_at - timedelta(days=FEEDBACK_DAYS)
    answered = sum(1 for sale in sales if sale.occurred_at >= feedback_since)
    share = min(FEEDBACK_SHARE, FEEDBACK_MAX / max(answered, 1))
    answers: list[Feedback] = []
    low: list[tuple[Sale, int, int | None, str, datetime]] = []
    for sale in sales:
        if sale.occurred_at < feedback_since or rng.random() >= share:
            continue
        rating = int(_pick(rng, RATINGS))
        nps = rng.choice(NPS_BY_RATING[rating]) if rng.random() < 0.75 else None
        comment = (
            rng.choice(COMMENTS[rating]) if rng.random() < (0.8 if rating <= 2 else 0.3) else ""
        )
        suggestion = rng.choice(SUGGESTIONS) if rng.random() < 0.2 else ""
        at = sale.occurred_at + timedelta(minutes=rng.randint(10, 600))
        if at >= end_at:
            continue
        if rating <= 2:
            low.append((sale, rating, nps, comment, at))
            continue
        answers.append(
            Feedback(
                merchant=merchant,
                transaction_id=sale.pk,
                customer_id=sale.customer_id,
                outlet_id=sale.outlet_id,
                rating=rating,
                nps=nps,
                comment=comment,
                suggestion=suggestion,
                created_at=at,
            )
        )
    Feedback.objects.bulk_create(answers, batch_size=1000)
    opened: list[Complaint] = []
    for sale, rating, nps, comment, at in low:
        answer = feedback_submit(sale=_loaded(sale), rating=rating, nps=nps, comment=comment, at=at)
        if answer.complaint_id is not None:
            complaint = answer.complaint
            # the owner files a low rating under the category its comment is about (a rating
            # without a comment stays under "Lainnya")
            if comment in LOW_CATEGORY:
                Complaint.objects.filter(pk=complaint.pk).update(
                    category=categories[LOW_CATEGORY[comment]]
                )
            opened.append(Complaint.objects.get(pk=complaint.pk))
    # complaints received in person, by WhatsApp, by phone or from an online review
    n_complaints = min(
        COMPLAINTS_MAX, max(4, len({s.customer_id for s in sales}) // CUSTOMERS_PER_COMPLAINT)
    )
    kinds = [(row, row[1]) for row in COMPLAINTS]
    recent = [s for s in sales if s.occurred_at >= end_at - timedelta(days=RECENT_DAYS - 1)]
    n_recent = max(2, n_complaints // 8) if recent else 0
    for i in range(n_complaints + n_recent):
        pool = recent if i >= n_complaints else sales
        if not pool:
            break
        code, _weight, channels, texts = _pick(rng, kinds)
        sale = _loaded(pool[rng.randrange(len(pool))])
        at = sale.occurred_at + timedelta(minutes=rng.randint(5, 240))
        if at >= end_at:
            continue
        channel = rng.choice(channels)
        anonymous = channel == Channel.REVIEW and rng.random() < 0.5
        opened.append(
            complaint_create(
                merchant=merchant,
                text=rng.choice(texts),
                channel=channel,
                category=categories[code],
                severity=rng.choice(
                    (Severity.LOW, Severity.MEDIUM, Severity.MEDIUM, Severity.HIGH)
                ),
                customer=None if anonymous else sale.customer,
                contact_name="Pengulas Google" if anonymous else "",
                outlet=sale.outlet,
                transaction_obj=None if anonymous else sale,
                by=rng.choice(staff) if staff and channel != Channel.REVIEW else None,
                at=at,
            )
        )
    ordered = sorted(opened, key=_order)
    finals = [_handle(c, rng, end_at, staff, members, keep_new=c is ordered[-1]) for c in ordered]
    return CareBuild(
        feedback=len(answers) + len(low),
        complaints=len(opened),
        resolved=sum(1 for s in finals if s in (Status.RESOLVED, Status.CLOSED)),
        open=sum(1 for s in finals if s in (Status.NEW, Status.IN_PROGRESS)),
        recoveries=ComplaintRecovery.objects.filter(merchant_id=merchant.pk).count(),
    )


def _loaded(sale: Sale) -> Transaction:
    """The sale with its merchant, outlet and customer (the rest are read as ids only)."""
    return Transaction.objects.select_related("merchant", "outlet", "customer").get(pk=sale.pk)


def _order(complaint: Complaint) -> tuple[datetime, int]:
    return complaint.created_at, complaint.pk


def demo_care_delete(*, merchant: Merchant) -> None:
    """Delete the café's care rows, children before the rows they protect (the recoveries
    protect their vouchers and ledger journals, the complaints their categories)."""
    ComplaintRecovery.objects.filter(merchant=merchant).delete()
    ComplaintEvent.objects.filter(merchant=merchant)._raw_delete(using="default")
    Feedback.objects.filter(merchant=merchant).delete()
    InboundMessage.objects.filter(merchant=merchant).delete()
    Complaint.objects.filter(merchant=merchant).delete()
    ComplaintCategory.objects.filter(merchant=merchant).delete()
