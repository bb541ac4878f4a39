"""Self sign-up by QR (issue 16, point 5): the public pages a customer opens on their own phone.

No login. ``/daftar/<token>/`` is the form (phone, name, birthday, consent per channel in plain
Indonesian), ``/daftar/<token>/terima-kasih/`` the thank-you page, ``/daftar/<token>/privasi/``
the merchant's privacy notice, ``/kartu/<signed token>/`` a member's own card (the link the
cashier sends by WhatsApp). The token is the outlet's random :class:`~.models.SignupLink` token;
an unknown or renewed one is a 404.

What protects the form: Django's CSRF check, a honeypot field (a bot that fills it is thanked
and nothing is saved), and rate limits per IP address and per outlet counted in the database
(:func:`~.enrolment.signup_allowed`), answered 429. A known phone number and a new one get the
same redirect to the same thank-you page, so the page never tells whether a number is already a
customer; it shows no customer data at all.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from langganan.core.errors import LanggananError
from langganan.loyalty.card import member_card_get
from langganan.privacy.purposes import purposes_for
from langganan.staff.guard import client_address
from langganan.web.access import merchant_zone

from .enrolment import card_customer, qr_svg, signup_allowed, signup_link_find, signup_submit
from .forms_enrol import SignupForm

RETRY_AFTER = 3600


def _link(token: str):
    link = signup_link_find(token)
    if link is None:
        raise Http404
    return link


def _private(response):
    """Public pages about one outlet: not indexed, not cached, their address not sent to other
    sites ("same-origin": a "no-referrer" page would post its form with ``Origin: null``, which
    Django's CSRF check refuses)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request, token: str):
    link = _link(token)
    merchant = link.merchant
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not signup_allowed(link=link, address=client_address(request)):
            response = render(
                request,
                "counter/signup_limited.html",
                {"merchant": merchant, "outlet": link.outlet, "token": token},
                status=429,
            )
            response["Retry-After"] = str(RETRY_AFTER)
            return _private(response)
        if form.is_bot():
            return redirect("counter:signup_thanks", token=token)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with timezone.override(merchant_zone(merchant)):
                    signup_submit(
                        link=link,
                        phone=data["phone"],
                        full_name=data["full_name"],
                        birth_date=data["birth_date"],
                        email=data["email"],
                        consents=form.consents(),
                    )
            except LanggananError:  # checked by the form already; the same answer regardless
                pass
            return redirect("counter:signup_thanks", token=token)
        status = 400
    response = render(
        request,
        "counter/signup.html",
        {"merchant": merchant, "outlet": link.outlet, "form": form, "token": token},
        status=status,
    )
    return _private(response)


@never_cache
@require_safe
def signup_thanks(request, token: str):
    link = _link(token)
    return _private(
        render(
            request,
            "counter/signup_thanks.html",
            {"merchant": link.merchant, "outlet": link.outlet, "token": token},
        )
    )


@require_safe
def signup_privacy(request, token: str):
    """The merchant's privacy notice in plain words: who, why, what rights, whom to ask."""
    link = _link(token)
    return _private(
        render(
            request,
            "counter/signup_privacy.html",
            {
                "merchant": link.merchant,
                "outlet": link.outlet,
                "token": token,
                "purposes": purposes_for(link.merchant),
            },
        )
    )


@never_cache
@require_safe
def card(request, token: str):
    """A member's own card, from the signed link sent to them by WhatsApp."""
    customer = card_customer(token)
    if customer is None:
        raise Http404
    merchant = customer.merchant
    with timezone.override(merchant_zone(merchant)):
        member_card = member_card_get(merchant=merchant, customer=customer)
        response = render(
            request,
            "counter/card_public.html",
            {
                "merchant": merchant,
                "card": member_card,
                # drawn by segno from the member code's modules: no user text in it
                "qr_svg": mark_safe(qr_svg(customer.member_code)),  # noqa: S308
            },
        )
    return _private(response)
