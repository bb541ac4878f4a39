"""The demo café's campaigns, with four months of history and measurable results.

Three campaigns run over the last :data:`HISTORY_DAYS` days of the demo:

- **Selamat ulang tahun** — a birthday greeting over WhatsApp three days ahead, with a personal
  Rp 15.000 voucher;
- **Kangen kamu** — win-back over WhatsApp when a customer has not come for
  :data:`LAPSED_AFTER_DAYS` days, with a 20 % voucher;
- **Pengingat langganan** — a reminder sent by the cashier from wa.me links (manual WhatsApp) when
  a regular reaches their usual gap since the last visit, mentioning their usual order.

The reminder and win-back messages name the customer's usual order and her own outlet (the one
of most of her visits), as the history stood when each was sent; the reminders still waiting on
the cashier's list are rendered from the history at the end, so they agree with what
``langganan analyze`` puts on her page. A visit answering a message is at her own outlet.

Who was due, and when, is replayed week by week from the simulated sales with the same rules
as the live triggers; consent is each customer's simulated consent at that moment; 10 % are
held out, drawn from the demo's random stream (the live draw hashes database ids, which differ
from one build to the next). Treated customers
get their message (delivered or read) and their voucher; some of them answer it with a visit in
the next days, redeeming the voucher (the campaign's *uplift*, :data:`UPLIFT`), so the reports
show what the campaign earned against the holdout, whose customers only buy as they would have
anyway. The campaigns stay active afterwards, so ``langganan campaigns run-due`` carries on.

Everything is drawn from a ``random.Random`` seeded with the demo seed.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F

from langganan.campaigns.models import (
    Campaign,
    CampaignStatus,
    ChannelAccount,
    Group,
    Message,
    MessageStatus,
    MessageTemplate,
    Recipient,
)
from langganan.campaigns.personalise import customer_values, offer_values, usual_outlets
from langganan.campaigns.templating import render
from langganan.core.models import Merchant
from langganan.customers.models import ConsentEvent, Customer
from langganan.demo.simulation import JAKARTA
from langganan.loyalty.models import Voucher, VoucherKind, VoucherRedemption
from langganan.sales.models import LineItem, Product, Transaction, TransactionPayment

HISTORY_DAYS = 120
LAPSED_AFTER_DAYS = 60
MANUAL_WAITING_DAYS = 7
HOLDOUT = Decimal("10")
SEED_SALT = 0xCA3F
#: chance that a treated customer answers the message with a visit within the week
UPLIFT = {"birthday": 0.30, "winback": 0.12, "reminder": 0.18}
PRICES = {"whatsapp": Decimal("650"), "sms": Decimal("300"), "email": Decimal("0")}

TEMPLATES = {
    "birthday": (
        "Ulang tahun",
        "Selamat ulang tahun, {salutation}! 🎂 Ada hadiah dari {merchant}: "
        "[[voucher {voucher_value} dengan kode {voucher_code}, berlaku sampai {voucher_until}.]]",
        "Happy birthday, {salutation}! A gift from {merchant}: "
        "[[a {voucher_value} voucher, code {voucher_code}, valid until {voucher_until}.]]",
    ),
    "winback": (
        "Kangen kamu",
        "{salutation}, sudah lama nggak mampir ke {usual_outlet}. Kami kangen! "
        "Mau {usual_order} seperti biasa? "
        "[[Pakai kode {voucher_code} untuk diskon {voucher_value} sampai {voucher_until}.]]",
        "{salutation}, we haven't seen you at {usual_outlet} for a while. We miss you! "
        "Fancy {usual_order} as usual? "
        "[[Use code {voucher_code} for {voucher_value} off until {voucher_until}.]]",
    ),
    "reminder": (
        "Pengingat",
        "Halo {salutation}! Sudah waktunya {usual_order} lagi? Kami tunggu di {usual_outlet} ya.",
        "Hi {salutation}! Time for {usual_order} again? See you at {usual_outlet}.",
    ),
}


@dataclass(frozen=True)
class DemoCampaigns:
    campaigns: int
    recipients: int
    messages: int
    response_sales: int
    response_lines: int


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JAKARTA)


def _consented(merchant: Merchant) -> dict[int, list[tuple[datetime, bool]]]:
    events: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    rows = (
        ConsentEvent.objects.filter(merchant=merchant, channel="whatsapp")
        .order_by("occurred_at", "id")
        .values_list("customer_id", "occurred_at", "granted")
    )
    for customer_id, at, granted in rows:
        events[customer_id].append((at, granted))
    return events


def _consent_at(events: list[tuple[datetime, bool]], at: datetime) -> bool:
    state = False
    for when, granted in events:
        if when > at:
            break
        state = granted
    return state


def demo_campaigns_build(*, merchant: Merchant, end: date, seed: int) -> DemoCampaigns:
    """Create the three campaigns and replay their history up to ``end`` (inside the caller's
    transaction)."""
    rng = random.Random(seed ^ SEED_SALT)
    start = end - timedelta(days=HISTORY_DAYS)
    for channel, price in PRICES.items():
        ChannelAccount.objects.create(
            merchant=merchant,
            channel=channel,
            price_per_message=price,
            is_active=False,  # the owner connects the real account in the admin
            settings={},
        )
    vouchers = {
        "birthday": Voucher.objects.create(
            merchant=merchant,
            code="TPL-ULTAH",
            name="Hadiah ulang tahun",
            kind=VoucherKind.SHARED,
            value=Decimal("15000"),
            is_template=True,
        ),
        "winback": Voucher.objects.create(
            merchant=merchant,
            code="TPL-KANGEN",
            name="Kangen kamu 20%",
            kind=VoucherKind.SHARED,
            discount_type="percent",
            value=Decimal("20"),
            max_discount=Decimal("25000"),
            is_template=True,
        ),
    }
    campaigns = {}
    for kind, (name, body_id, body_en) in TEMPLATES.items():
        template = MessageTemplate.objects.create(
            merchant=merchant, name=name, body_id=body_id, body_en=body_en
        )
        campaigns[kind] = Campaign.objects.create(
            merchant=merchant,
            name={
                "birthday": "Selamat ulang tahun",
                "winback": "Kangen kamu",
                "reminder": "Pengingat langganan",
            }[kind],
            kind=kind,
            status=CampaignStatus.ACTIVE,
            channel="whatsapp",
            manual_whatsapp=kind == "reminder",
            template=template,
            voucher_template=vouchers.get(kind),
            voucher_valid_days=14,
            days_before=3 if kind == "birthday" else 0,
            holdout_percent=HOLDOUT,
            attribution_days=14,
            started_at=_at(start, 9),
            last_run_at=_at(end - timedelta(days=1), 9),
        )

    sales: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, at in (
        Transaction.objects.filter(merchant=merchant, customer__isnull=False, kind="sale")
        .order_by("occurred_at")
        .values_list("customer_id", "occurred_at")
    ):
        sales[customer_id].append(at)
    consents = _consented(merchant)
    births = dict(
        Customer.objects.filter(merchant=merchant, birth_date__isnull=False).values_list(
            "id", "birth_date"
        )
    )

    due: list[tuple[str, int, str, datetime]] = []  # kind, customer, occasion, assigned at
    # birthdays: greeted three days ahead
    for customer_id, born in births.items():
        for year in {start.year, end.year}:
            try:
                birthday = born.replace(year=year)
            except ValueError:
                birthday = date(year, 3, 1)
            greet = birthday - timedelta(days=3)
            if start <= greet < end:
                due.append(("birthday", customer_id, str(year), _at(greet)))
    # weekly checks for win-back and reminders
    check = start
    while check < end:
        at = _at(check)
        for customer_id, times in sales.items():
            before = [t for t in times if t < at]
            if not before:
                continue
            last = before[-1]
            idle = (at - last).days
            if LAPSED_AFTER_DAYS <= idle < LAPSED_AFTER_DAYS + 7:
                occasion = last.astimezone(JAKARTA).date().isoformat()
                due.append(("winback", customer_id, occasion, at))
            if len(before) >= 3:
                gaps = [(b - a).days for a, b in zip(before[:-1], before[1:], strict=True)]
                gap = max(2, round(statistics.median(gaps)))
                predicted = last.astimezone(JAKARTA).date() + timedelta(days=gap)
                if check - timedelta(days=7) < predicted <= check and idle < LAPSED_AFTER_DAYS:
                    due.append(("reminder", customer_id, predicted.isoformat(), at))
        check += timedelta(days=7)

    codes = dict(Customer.objects.filter(merchant=merchant).values_list("id", "member_code"))
    seen: set[tuple[str, int, str]] = set()
    assignments = []
    # in an order that does not depend on database ids, so a seed always gives the same history
    for kind, customer_id, occasion, at in sorted(
        due, key=lambda d: (d[3], d[0], codes[d[1]], d[2])
    ):
        key = (kind, customer_id, occasion)
        if key in seen or not _consent_at(consents.get(customer_id, []), at):
            continue
        seen.add(key)
        assignments.append((kind, customer_id, occasion, at))

    customers = Customer.objects.in_bulk([a[1] for a in assignments])
    outlet = merchant.outlets.order_by("code").first()
    # a customer answering a message comes to her own outlet
    outlets = {o.name: o for o in merchant.outlets.all()}
    own_outlet = {
        customer_id: outlets[name]
        for customer_id, name in usual_outlets(
            list(customers), merchant=merchant, until=_at(end)
        ).items()
    }
    on_the_list: list[Message] = []
    products = list(Product.objects.filter(merchant=merchant, is_active=True).order_by("id"))
    counts = {"recipients": 0, "messages": 0, "sales": 0, "lines": 0}
    for kind, campaign in campaigns.items():
        mine = [a for a in assignments if a[0] == kind]
        # each message knows the history as it was when it was sent (the visits answering
        # earlier messages included), read once per moment for all its customers
        values: dict[datetime, dict[int, dict[str, str]]] = {}
        for _kind, customer_id, occasion, at in mine:
            customer = customers[customer_id]
            if not customer.phone:
                continue
            # the same share as the live draw (services.in_holdout), from the demo's own stream
            holdout = rng.random() * 100 < float(campaign.holdout_percent)
            voucher = None
            if not holdout and campaign.voucher_template_id:
                template = campaign.voucher_template
                voucher = Voucher.objects.create(
                    merchant=merchant,
                    code=f"{template.code[4:]}-{counts['recipients'] + 1:05d}",
                    name=template.name,
                    kind=VoucherKind.SINGLE_USE,
                    max_uses=1,
                    discount_type=template.discount_type,
                    value=template.value,
                    max_discount=template.max_discount,
                    customer=customer,
                    batch=f"demo-{kind}-{occasion}"[:64],
                    valid_from=at,
                    valid_until=_at(at.date() + timedelta(days=15), 0),
                )
            recipient = Recipient.objects.create(
                merchant=merchant,
                campaign=campaign,
                customer=customer,
                occasion=occasion,
                group=Group.HOLDOUT if holdout else Group.TREATED,
                assigned_at=at,
                voucher=voucher,
            )
            counts["recipients"] += 1
            if holdout:
                continue
            if at not in values:
                values[at] = customer_values(
                    campaign=campaign,
                    customers=[customers[a[1]] for a in mine if a[3] == at],
                    now=at,
                )
            personal = dict(values[at][customer_id])
            personal.update(offer_values(voucher=voucher, merchant=merchant))
            rendered = render(
                subject="", body=campaign.template.body_id, values=personal, language="id"
            )
            read = rng.random() < 0.7
            sent_at = at + timedelta(minutes=rng.randint(1, 50))
            fields = {
                "status": MessageStatus.READ if read else MessageStatus.DELIVERED,
                "attempts": 1,
                "provider_id": f"wamid.DEMO{recipient.pk:08d}",
                "sent_at": sent_at,
                "delivered_at": sent_at + timedelta(seconds=rng.randint(2, 90)),
                "read_at": sent_at + timedelta(minutes=rng.randint(3, 600)) if read else None,
            }
            if campaign.manual_whatsapp:
                # tapped by the cashier: sent, with no delivery report; the last days' list is
                # still waiting on the manual WhatsApp page
                waiting = at.date() >= end - timedelta(days=MANUAL_WAITING_DAYS)
                fields = {
                    "status": MessageStatus.QUEUED if waiting else MessageStatus.SENT,
                    "sent_at": None if waiting else sent_at,
                }
            message = Message.objects.create(
                merchant=merchant,
                campaign=campaign,
                recipient=recipient,
                customer=customer,
                channel="whatsapp",
                manual=campaign.manual_whatsapp,
                to=customer.phone,
                body=rendered.body,
                template_params=rendered.params,
                next_attempt_at=at,
                **fields,
            )
            if fields["sent_at"] is None:
                on_the_list.append(message)
                counts["messages"] += 1
                continue
            counts["messages"] += 1
            if rng.random() < UPLIFT[kind] and products:
                visit = at + timedelta(days=rng.randint(1, 7), hours=rng.randint(0, 9))
                if visit.date() < end:
                    counts["sales"] += 1
                    counts["lines"] += _response_sale(
                        rng,
                        merchant,
                        own_outlet.get(customer_id, outlet),
                        customer,
                        voucher,
                        visit,
                        products,
                        counts["sales"],
                    )
    _render_waiting(on_the_list, merchant=merchant, end=end)
    return DemoCampaigns(
        campaigns=len(campaigns),
        recipients=counts["recipients"],
        messages=counts["messages"],
        response_sales=counts["sales"],
        response_lines=counts["lines"],
    )


def _render_waiting(waiting: list[Message], *, merchant: Merchant, end: date) -> None:
    """The messages still waiting on the list, rendered again from the history as it stands at
    the end (with the visits that answered earlier messages): what the cashier sends next."""
    by_campaign: dict[int, list[Message]] = defaultdict(list)
    for message in waiting:
        by_campaign[message.campaign_id].append(message)
    for messages in by_campaign.values():
        campaign = messages[0].campaign
        values = customer_values(
            campaign=campaign, customers=[m.customer for m in messages], now=_at(end)
        )
        for message in messages:
            personal = dict(values[message.customer_id])
            personal.update(offer_values(voucher=message.recipient.voucher, merchant=merchant))
            rendered = render(
                subject="", body=campaign.template.body_id, values=personal, language="id"
            )
            message.body, message.template_params = rendered.body, rendered.params
        Message.objects.bulk_update(messages, ["body", "template_params"])


def demo_campaigns_delete(*, merchant: Merchant) -> None:
    """Remove the merchant's campaigns and everything they hold (before its vouchers go)."""
    from langganan.campaigns.models import Audience, MessagingPolicy

    Message.objects.filter(merchant=merchant).delete()
    Recipient.objects.filter(merchant=merchant).delete()
    Campaign.objects.filter(merchant=merchant).delete()
    MessageTemplate.objects.filter(merchant=merchant).delete()
    Audience.objects.filter(merchant=merchant).delete()
    ChannelAccount.objects.filter(merchant=merchant).delete()
    MessagingPolicy.objects.filter(merchant=merchant).delete()


def _response_sale(rng, merchant, outlet, customer, voucher, at, products, number) -> int:
    """A visit answering the message: a small basket, the voucher redeemed when there is one
    (its discount spread over the lines, so the lines still add up to the total). Returns the
    number of lines."""
    basket = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
    subtotal = sum((p.price for p in basket), Decimal("0"))
    discount = Decimal("0")
    if voucher is not None:
        if voucher.discount_type == "percent":
            discount = (subtotal * voucher.value / 100).quantize(Decimal("1"))
            if voucher.max_discount is not None:
                discount = min(discount, voucher.max_discount)
        else:
            discount = min(voucher.value, subtotal)
    sale = Transaction.objects.create(
        merchant=merchant,
        outlet=outlet,
        customer=customer,
        occurred_at=at,
        total=subtotal - discount,
        payment_method=rng.choice(["qris", "cash", "e_wallet"]),
        item_count=len(basket),
        external_id=f"{outlet.code}-{at:%y%m%d}-K{number:04d}",
    )
    if sale.total > 0:
        TransactionPayment.objects.create(
            transaction=sale, method=sale.payment_method, amount=sale.total
        )
    left = discount
    lines = []
    for p in basket:
        share = min(left, p.price)
        left -= share
        lines.append(
            LineItem(
                transaction=sale,
                product=p,
                product_name=p.name,
                quantity=1,
                unit_price=p.price,
                discount=share,
            )
        )
    LineItem.objects.bulk_create(lines)
    if voucher is not None:
        VoucherRedemption.objects.create(
            voucher=voucher, customer=customer, transaction=sale, discount=discount, redeemed_at=at
        )
        Voucher.objects.filter(pk=voucher.pk).update(uses=F("uses") + 1)
    return len(lines)


__all__ = ["DemoCampaigns", "demo_campaigns_build", "demo_campaigns_delete"]
