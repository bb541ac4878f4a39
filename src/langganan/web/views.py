"""Dashboard pages. Views parse input, call selectors, and render; no business logic here."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from langganan.core.errors import NotFound
from langganan.core.selectors import membership_get, merchants_for_user
from langganan.customers.greetings import age_on
from langganan.customers.models import Channel
from langganan.customers.selectors import (
    consent_current,
    consent_history,
    customer_get,
    customer_lookup_exact,
    customer_search,
)
from langganan.insights.selectors import customer_insight_get
from langganan.insights.summary import accuracy_lines
from langganan.loyalty.card import QR_CONTENT_TYPES, member_card_get, member_card_qr
from langganan.loyalty.selectors import customer_loyalty_get
from langganan.privacy import audit
from langganan.sales.selectors import (
    customer_sales_summary,
    customers_with_sales_stats,
    transactions_for_customer,
)
from langganan.staff.views import login_code_start, two_factor_on
from langganan.web.access import (
    merchant_for_request,
    merchant_view,
    merchant_zone,
    serving_set,
    start_url,
)
from langganan.web.forms import LoginForm

TIME_OF_MONTH = {
    "start": _("at the start of the month"),
    "middle": _("in the middle of the month"),
    "end": _("at the end of the month"),
}
CUSTOMERS_PER_PAGE = 25
TRANSACTIONS_PER_PAGE = 25
SEARCH_MAX_LENGTH = 100
ACCURACY_SENTENCES = 2  # "Seberapa tepat perkiraan ini?": the model, then how many came back


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """An owner with two-step login on is asked for the authenticator's code first."""
        user = form.get_user()
        if two_factor_on(user):
            return login_code_start(self.request, user, self.get_success_url())
        return super().form_valid(form)

    def form_invalid(self, form):
        """A login refused unchecked (locked, or the server busy) is a 429 with Retry-After."""
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@require_safe
def home(request):
    """Send the user to their first merchant's start page for their role (the customer list,
    the customer lookup for a cashier), or to the login page."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    merchant = merchants_for_user(user=request.user).first()
    if merchant is None:
        return render(request, "web/no_merchant.html")
    return redirect(start_url(merchant, membership_get(user=request.user, merchant=merchant)))


@merchant_view
@require_safe
def merchant_home(request, slug: str):
    """``/m/<merchant>/``: the start page of the user's role at that merchant."""
    merchant, membership = merchant_for_request(request, slug)
    return redirect(start_url(merchant, membership))


def _render_for_merchant(request, merchant, membership, template: str, context: dict):
    """Render in the merchant's time zone, with what the page header needs."""
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        **context,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, template, context)


@merchant_view
@require_safe
def customer_list(request, slug: str):
    merchant, membership = merchant_for_request(request, slug)
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    customers = customers_with_sales_stats(
        customers=customer_search(merchant=merchant, query=query)
    )
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    if query:
        audit.record(
            request, merchant, "customer.search", query=query, results=page.paginator.count
        )
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "web/customer_list.html",
        {"q": query, "page_obj": page, "customers": page.object_list},
    )


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
            return redirect("web:customer_detail", slug=merchant.slug, pk=customer.pk)
    return _render_for_merchant(
        request, merchant, membership, "web/customer_lookup.html", {"q": query}
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
        "web/customer_detail.html",
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
    with timezone.override(merchant_zone(merchant)):
        card = member_card_get(merchant=merchant, customer=customer)
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "web/member_card.html",
        # the SVG is drawn by segno from the member code's modules: no user text in it
        {"customer": customer, "card": card, "qr_svg": mark_safe(card.qr_svg)},  # noqa: S308
    )


@merchant_view
@require_safe
def member_card_image(request, slug: str, pk: int, fmt: str):
    """The member code's QR code as a PNG or SVG download."""
    if fmt not in QR_CONTENT_TYPES:
        raise Http404
    _merchant, _membership, customer = _customer_for_request(request, slug, pk)
    image = member_card_qr(member_code=customer.member_code, fmt=fmt, scale=10)
    response = HttpResponse(image, content_type=QR_CONTENT_TYPES[fmt])
    filename = "".join(ch for ch in customer.member_code if ch.isalnum() or ch in "-_") or "card"
    response["Content-Disposition"] = f'attachment; filename="member-{filename}.{fmt}"'
    return response
