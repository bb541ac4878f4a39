"""Customer pages: the list, the cashier's lookup, a customer's page and their member card.

Views parse input, call selectors, and render; no business logic here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from langganan.campaigns import audiences
from langganan.core.errors import InvalidInput, NotFound
from langganan.core.jobs.selectors import worker_running
from langganan.customers import listing
from langganan.customers.exporting import list_export
from langganan.customers.forms import CustomerFilterForm, filter_chips, form_data
from langganan.customers.greetings import age_on
from langganan.customers.models import Channel
from langganan.customers.selectors import (
    consent_current,
    consent_history,
    customer_get,
    customer_lookup_exact,
)
from langganan.insights.selectors import customer_insight_get
from langganan.insights.summary import accuracy_lines
from langganan.loyalty.card import QR_CONTENT_TYPES, member_card_get, member_card_qr
from langganan.loyalty.selectors import customer_loyalty_get
from langganan.privacy import audit
from langganan.sales.export_jobs import inline_max_rows
from langganan.sales.selectors import (
    customer_sales_summary,
    customers_with_sales_stats,
    transactions_for_customer,
)
from langganan.sales.views import export_later
from langganan.web.access import merchant_for_request, merchant_view, merchant_zone, serving_set
from langganan.web.views import _render_for_merchant

TIME_OF_MONTH = {
    "start": _("at the start of the month"),
    "middle": _("in the middle of the month"),
    "end": _("at the end of the month"),
}
CUSTOMERS_PER_PAGE = 25
TRANSACTIONS_PER_PAGE = 25
SEARCH_MAX_LENGTH = 100
ACCURACY_SENTENCES = 2  # "Seberapa tepat perkiraan ini?": the model, then how many came back


def _list_filters(request, merchant):
    """The list's filter form for the URL's query, its audience filter and the problems with
    it (Indonesian sentences; a filter that cannot be read shows no customers rather than all
    of them, so a count that links here never opens a wider list)."""
    form = CustomerFilterForm(form_data(request.GET), merchant=merchant)
    problems: list[str] = []
    filters: dict = {}
    if form.is_valid():
        try:
            filters = audiences.filters_clean(form.filters())
        except InvalidInput as exc:
            problems.append(str(exc.message))
    else:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                problems.append(f"{label}: {error}" if label else str(error))
    return form, filters, problems


#: the list's columns in order (a key of listing.SORTS where the header sorts)
COLUMNS = (
    ("name", _("Name"), False),
    ("", _("Member code and phone"), False),
    ("", _("Stage"), False),
    ("city", _("City"), False),
    ("orders", _("Orders"), True),
    ("total_spend", _("Has spent"), True),
    ("clv", _("Customer value"), True),
    ("p_alive", _("Chance active"), True),
    ("last_purchase", _("Last purchase"), True),
    ("points", _("Points"), True),
)


def _columns(filters: dict, query: str, sort: str) -> list[dict]:
    """The header cells: each sortable one links to the list sorted by it (again: reversed)."""
    cells = []
    for key, header, numeric in COLUMNS:
        current = sort.lstrip("-") == key
        if not key:
            cells.append({"header": header, "numeric": numeric, "url": "", "current": ""})
            continue
        if current:
            following = key if sort.startswith("-") else f"-{key}"
        else:
            following = f"-{key}" if numeric else key
        cells.append(
            {
                "header": header,
                "numeric": numeric,
                "url": "?" + listing.list_query(filters, query=query, sort=following),
                "current": ("descending" if sort.startswith("-") else "ascending")
                if current
                else "",
            }
        )
    return cells


@merchant_view
@require_safe
def customer_list(request, slug: str):
    """The merchant's customers, filtered by any audience key of the URL (the overview's counts
    link here), searched, sorted by any column; exported, saved as an audience or used for a
    campaign from here."""
    merchant, membership = merchant_for_request(request, slug)
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    sort = listing.sort_parse(request.GET.get("sort"))
    form, filters, problems = _list_filters(request, merchant)
    with timezone.override(merchant_zone(merchant)):
        customers = listing.customer_list(
            merchant=merchant, filters=filters, query=query, sort=sort
        )
        if problems:
            customers = customers.none()
        customers = customers_with_sales_stats(customers=customers)
        if not problems:
            customers = listing.customer_page_source(
                customers, merchant=merchant, filters=filters, query=query, sort=sort
            )
        page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    if query or filters:
        audit.record(
            request,
            merchant,
            "customer.search",
            query=query,
            filters=sorted(filters),
            results=page.paginator.count,
        )
    filter_query = listing.list_query(filters)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "customers/customer_list.html",
        {
            "q": query,
            "sort": sort,
            "form": form,
            "filters": filters,
            "filter_query": filter_query,
            "list_query": listing.list_query(filters, query=query, sort=sort),
            "chips": filter_chips(form, filters, query=query, sort=sort),
            "columns": _columns(filters, query, sort),
            "filter_pairs": listing.filters_as_query(filters),
            "problems": problems,
            "page_obj": page,
            "customers": rows,
        },
        status=400 if problems else 200,
    )


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@merchant_view
@require_POST
def customer_list_export(request, slug: str, fmt: str):
    """The filtered list (the URL's filters and search, in its sort) as a CSV or xlsx file with
    Indonesian headers; owners only, and recorded in the audit log (who, when, how many)."""
    if fmt not in EXPORT_TYPES:
        raise Http404
    merchant, membership = merchant_for_request(request, slug)
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    sort = listing.sort_parse(request.GET.get("sort"))
    form, filters, problems = _list_filters(request, merchant)
    if problems:
        messages.error(request, _("The list's filters could not be read; nothing was exported."))
        return redirect(reverse("customers:customer_list", args=[merchant.slug]))
    with timezone.override(merchant_zone(merchant)):
        customers = listing.customer_list(
            merchant=merchant, filters=filters, query=query, sort=sort
        )
        if customers.count() > inline_max_rows() and worker_running():
            return export_later(
                request, merchant, what="list", fmt=fmt, query=request.GET.urlencode()
            )
        content, rows = list_export(merchant=merchant, customers=customers, fmt=fmt)
    audit.record(
        request,
        merchant,
        "export.table",
        table="customers",
        format=fmt,
        filters=sorted(filters),
        searched=bool(query),
        rows=rows,
    )
    stamp = timezone.localdate().isoformat()
    response = HttpResponse(content, content_type=EXPORT_TYPES[fmt])
    name = f"pelanggan-{merchant.slug}-{stamp}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@merchant_view
@require_safe
def customer_lookup(request, slug: str):
    """Find the customer at the counter by their exact phone number or member code (no list,
    no name search): the cashier's way to the one customer they are serving."""
    merchant, membership = merchant_for_request(request, slug)
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    if query:
        customer = customer_lookup_exact(merchant=merchant, query=query)
        audit.record(
            request, merchant, "customer.search", query=query, results=int(customer is not None)
        )
        if customer is not None:
            serving_set(request, merchant, customer.pk)
            return redirect("customers:customer_detail", slug=merchant.slug, pk=customer.pk)
    return _render_for_merchant(
        request, merchant, membership, "customers/customer_lookup.html", {"q": query}
    )


@merchant_view
@require_safe
def customer_detail(request, slug: str, pk: int):
    merchant, membership = merchant_for_request(request, slug)
    try:
        customer = customer_get(merchant=merchant, customer_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    audit.record(request, merchant, "customer.view", customer)
    current = consent_current(customer=customer)
    transactions = transactions_for_customer(merchant=merchant, customer=customer)
    page = Paginator(transactions, TRANSACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    with timezone.override(merchant_zone(merchant)):
        today = timezone.localdate()
    insight = customer_insight_get(merchant=merchant, customer=customer)
    loyalty = customer_loyalty_get(merchant=merchant, customer=customer, at=timezone.now())
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "greeting": customer.greeting_on(today),
            "age": age_on(customer.birth_date, today),
            "consents": [(label, current.get(value)) for value, label in Channel.choices],
            "consent_history": consent_history(customer=customer),
            "summary": customer_sales_summary(merchant=merchant, customer=customer),
            "page_obj": page,
            "transactions": page.object_list,
            "insight": insight,
            "weekday": WEEKDAYS.get(insight.typical_weekday) if insight else None,
            "time_of_month": TIME_OF_MONTH.get(insight.time_of_month) if insight else None,
            # purchase days: what the habit rules count (frequency is the repeat days)
            "visits": insight.frequency + 1 if insight else None,
            "accuracy": _accuracy(insight),
            "loyalty": loyalty,
        },
    )


def _accuracy(insight) -> list[str]:
    """The first sentences of how well the model predicted the merchant's own last weeks."""
    if insight is None:
        return []
    lang = "en" if (get_language() or "id").startswith("en") else "id"
    return accuracy_lines(insight.run, lang)[:ACCURACY_SENTENCES]


def _is_member(merchant, customer) -> bool:
    from langganan.loyalty.models import Member

    return Member.objects.filter(merchant=merchant, customer=customer).exists()


def _customer_for_request(request, slug: str, pk: int):
    """The merchant, the membership and the merchant's customer ``pk``; 404 otherwise."""
    merchant, membership = merchant_for_request(request, slug)
    try:
        customer = customer_get(merchant=merchant, customer_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    return merchant, membership, customer


@merchant_view
@require_safe
def member_card(request, slug: str, pk: int):
    """A printable membership card: merchant, greeting and name, member code, tier, QR code."""
    merchant, membership, customer = _customer_for_request(request, slug, pk)
    if not _is_member(merchant, customer):
        # no card for a customer who has not joined: an invitation to enrol instead
        with timezone.override(merchant_zone(merchant)):
            greeting = customer.greeting_on(timezone.localdate())
        return _render_for_merchant(
            request,
            merchant,
            membership,
            "customers/member_card_none.html",
            {"customer": customer, "greeting": greeting},
            status=404,
        )
    with timezone.override(merchant_zone(merchant)):
        card = member_card_get(merchant=merchant, customer=customer)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "customers/member_card.html",
        # the SVG is drawn by segno from the member code's modules: no user text in it
        {"customer": customer, "card": card, "qr_svg": mark_safe(card.qr_svg)},  # noqa: S308
    )


@merchant_view
@require_safe
def member_card_image(request, slug: str, pk: int, fmt: str):
    """The member code's QR code as a PNG or SVG download."""
    if fmt not in QR_CONTENT_TYPES:
        raise Http404
    merchant, _membership, customer = _customer_for_request(request, slug, pk)
    if not _is_member(merchant, customer):
        raise Http404
    image = member_card_qr(member_code=customer.member_code, fmt=fmt, scale=10)
    response = HttpResponse(image, content_type=QR_CONTENT_TYPES[fmt])
    filename = "".join(ch for ch in customer.member_code if ch.isalnum() or ch in "-_") or "card"
    response["Content-Disposition"] = f'attachment; filename="member-{filename}.{fmt}"'
    return response
