"""Enrolment at the counter (issue 16, point 4) and the outlets' sign-up posters (point 5).

``/m/<merchant>/kasir/daftar/``: phone, name, greeting, optional birthday and city, consent per
channel; a known phone number shows that customer instead of a duplicate. The new member's card
(QR) is then on screen with a wa.me link that sends it. ``/m/<merchant>/kasir/poster/``: one
printable table card per outlet with the QR code of its public sign-up page.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from langganan.campaigns.channels.manual import wa_me_link
from langganan.core.errors import InvalidInput, NotFound
from langganan.core.models import Outlet
from langganan.core.phones import normalize_phone
from langganan.core.selectors import merchants_for_user
from langganan.customers.models import Customer
from langganan.customers.selectors import customer_get
from langganan.loyalty.card import member_card_get
from langganan.web.access import (
    merchant_for_request,
    merchant_view,
    merchant_zone,
    serving_get,
    serving_set,
)

from .enrolment import (
    ERR_NO_OUTLET,
    card_message,
    card_token,
    counter_enrol,
    counter_outlet,
    public_url,
    qr_svg,
    signup_link_get,
    signup_link_renew,
    welcome_voucher_of,
)
from .forms_enrol import EnrolForm

#: the services' error constants, as the cashier reads them
ERRORS = {
    ERR_NO_OUTLET: _("This business has no active outlet yet: the owner adds one first."),
}


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
def enrol(request, slug: str):
    """The enrolment form; a member enrolled (or found) goes on to their card."""
    merchant, membership = merchant_for_request(request, slug)
    # the counter's search may send the number it did not find (?phone=0812…)
    form = EnrolForm(request.POST or None, initial={"phone": request.GET.get("phone", "")[:30]})
    status = 200
    error = ""
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with timezone.override(merchant_zone(merchant)):
                    done = counter_enrol(
                        merchant=merchant,
                        outlet=counter_outlet(merchant=merchant, outlet=membership.outlet),
                        phone=data["phone"],
                        full_name=data["full_name"],
                        greeting=data["greeting"],
                        birth_date=data["birth_date"],
                        city=data["city"],
                        email=data["email"],
                        consents=form.consents(),
                        staff=request.user,
                    )
            except (InvalidInput, NotFound) as exc:
                error, status = ERRORS.get(str(exc), str(exc)), 400
            else:
                serving_set(request, merchant, done.customer.pk)
                url = reverse("counter:enrol_done", kwargs={"slug": slug, "pk": done.customer.pk})
                if not done.created:
                    url += "?known=" + ("member" if done.enrolled_now else "1")
                return redirect(url)
        else:
            status = 400
    response = _render_for_merchant(
        request, merchant, membership, "counter/enrol.html", {"form": form, "error": error}
    )
    response.status_code = status
    return response


@merchant_view
@require_safe
def enrol_check(request, slug: str):
    """While the cashier types: whether the phone number is already a customer's (JSON), with
    the counter's lookup link for them — the same exact-number look-up a cashier may do."""
    merchant, _membership = merchant_for_request(request, slug)
    try:
        e164 = normalize_phone(request.GET.get("phone", "")[:30])
    except ValueError:
        return JsonResponse({"valid": False, "known": False})
    if not e164:
        return JsonResponse({"valid": False, "known": False})
    customer = Customer.objects.filter(merchant=merchant, phone=e164).first()
    if customer is None:
        return JsonResponse({"valid": True, "known": False})
    lookup = reverse("customers:customer_lookup", kwargs={"slug": slug})
    return JsonResponse(
        {
            "valid": True,
            "known": True,
            "salutation": customer.salutation,
            "url": f"{lookup}?q={customer.member_code}",
        }
    )


@merchant_view
@require_safe
def enrol_done(request, slug: str, pk: int):
    """The member's card on screen, and the wa.me link that sends it to them."""
    merchant, membership = merchant_for_request(request, slug)
    try:
        customer = customer_get(merchant=merchant, customer_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    with timezone.override(merchant_zone(merchant)):
        card = member_card_get(merchant=merchant, customer=customer)
    card_url = public_url(request, reverse("counter:card", kwargs={"token": card_token(customer)}))
    whatsapp = ""
    if customer.phone:
        whatsapp = wa_me_link(
            customer.phone,
            card_message(customer=customer, merchant=merchant, card_url=card_url),
        )
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "counter/enrol_done.html",
        {
            "customer": customer,
            "card": card,
            # drawn by segno from the member code's modules: no user text in it
            "qr_svg": mark_safe(qr_svg(customer.member_code)),  # noqa: S308
            "voucher": welcome_voucher_of(customer),
            "known": request.GET.get("known") in ("1", "member"),
            "enrolled_now": request.GET.get("known") == "member",
            "whatsapp": whatsapp,
            "card_url": card_url,
            "serving": serving_get(request, merchant) == customer.pk,
        },
    )


# -- the posters ---------------------------------------------------------------------------------


def _outlet(merchant, outlet_id: int) -> Outlet:
    outlet = Outlet.objects.filter(merchant=merchant, pk=outlet_id).first()
    if outlet is None:  # another merchant's outlet is as missing as one that does not exist
        raise Http404
    return outlet


@merchant_view
@require_safe
def poster_list(request, slug: str):
    """The merchant's outlets, each with its poster."""
    merchant, membership = merchant_for_request(request, slug)
    outlets = list(Outlet.objects.filter(merchant=merchant, is_active=True).order_by("code"))
    return _render_for_merchant(
        request, merchant, membership, "counter/poster_list.html", {"outlets": outlets}
    )


@merchant_view
@require_safe
def poster(request, slug: str, outlet_id: int):
    """A printable table card: the QR code of the outlet's public sign-up page."""
    merchant, membership = merchant_for_request(request, slug)
    outlet = _outlet(merchant, outlet_id)
    link = signup_link_get(outlet=outlet)
    url = public_url(request, reverse("counter:signup", kwargs={"token": link.token}))
    return _render_for_merchant(
        request,
        merchant,
        membership,
        "counter/poster.html",
        {
            "outlet": outlet,
            "url": url,
            # segno draws the address's modules: no user text in the SVG
            "qr_svg": mark_safe(qr_svg(url)),  # noqa: S308
        },
    )


@merchant_view
@require_POST
def poster_renew(request, slug: str, outlet_id: int):
    """A new sign-up link for the outlet: the printed posters' QR codes stop working."""
    merchant, _membership = merchant_for_request(request, slug)
    outlet = _outlet(merchant, outlet_id)
    signup_link_renew(outlet=outlet)
    return redirect("counter:poster", slug=slug, outlet_id=outlet.pk)
