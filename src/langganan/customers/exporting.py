"""A filtered customer list as a file: the columns the list shows, with headers in the active
language (Indonesian by default), for the owner's spreadsheet.

Unlike :mod:`langganan.sales.exporting` (the importer's own columns, for moving data between
installations), this file is for reading: names of stages and segments, phone numbers as
Indonesians write them, dates in the merchant's time zone. Cells that a spreadsheet would run
as a formula are neutralised the same way (:func:`langganan.sales.exporting.safe_cell`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from langganan.core.models import Merchant
from langganan.core.phones import format_phone
from langganan.customers.models import Customer
from langganan.insights.stages import DISPLAY_LABELS, display_stage
from langganan.sales.exporting import safe_cell

CHUNK = 2000


def _columns() -> list[str]:
    return [
        _("Name"),
        _("Greeting"),
        _("Phone"),
        _("Email"),
        _("Member code"),
        _("City"),
        _("Stage"),
        _("Segment"),
        _("Orders"),
        _("Total spend (Rp)"),
        _("Customer value (Rp)"),
        _("Chance still a customer (%)"),
        _("Last purchase"),
        _("Points"),
        _("Joined"),
    ]


def _rows(customers: QuerySet[Customer], lang: str) -> Iterator[list]:
    from langganan.analytics.labels import label

    for customer in customers.iterator(chunk_size=CHUNK):
        insight = getattr(customer, "insight", None)
        stage = display_stage(insight.lifecycle, insight.p_alive) if insight else None
        last = insight.last_purchase if insight else None
        yield [
            customer.full_name,
            customer.salutation,
            format_phone(customer.phone) if customer.phone else "",
            customer.email,
            customer.member_code,
            customer.city,
            DISPLAY_LABELS[stage][lang] if stage else "",
            label(insight.segment, lang, kind="segment") if insight and insight.segment else "",
            insight.orders if insight else 0,
            insight.total_spend if insight else None,
            insight.clv if insight and insight.clv is not None else None,
            round(insight.p_alive * 100) if insight and insight.p_alive is not None else None,
            timezone.localtime(last).date() if last else None,
            customer.points_balance,
            timezone.localtime(customer.joined_at).date(),
        ]


def list_export(
    *, merchant: Merchant, customers: QuerySet[Customer], fmt: str
) -> tuple[bytes, int]:
    """``customers`` (from :func:`langganan.customers.listing.customer_list`, with their
    ``points_balance``) as CSV or xlsx bytes, and the number of rows. Call it in the merchant's
    time zone."""
    lang = "en" if (translation.get_language() or "id").startswith("en") else "id"
    columns = _columns()
    count = 0
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Customers"))
        sheet.append(columns)
        for row in _rows(customers, lang):
            sheet.append([safe_cell(v) for v in row])
            count += 1
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), count
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in _rows(customers, lang):
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
        count += 1
    # with a byte order mark, Excel reads the file as UTF-8 (names with accents stay whole)
    return text.getvalue().encode("utf-8-sig"), count
