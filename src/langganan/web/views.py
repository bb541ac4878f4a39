"""The dashboard's shell: login, the start page, and rendering a merchant's page.

The pages of each domain live in their app (customers, campaigns, counter, insights, ...).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from langganan.core.selectors import membership_get, merchants_for_user
from langganan.insights.views import overview
from langganan.staff.views import login_code_start, two_factor_on
from langganan.web.access import merchant_zone, start_url
from langganan.web.forms import LoginForm


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
    """Send the user to their first merchant's start page for their role (the overview,
    the customer lookup for a cashier), or to the login page."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    merchant = merchants_for_user(user=request.user).first()
    if merchant is None:
        from langganan.core.services import may_create_merchant

        if may_create_merchant(request.user):
            return redirect("setup:start")  # the installation's first owner: the set-up
        return render(request, "web/no_merchant.html")
    return redirect(start_url(merchant, membership_get(user=request.user, merchant=merchant)))


#: ``/m/<merchant>/``: the overview (Ringkasan) of owners and managers, a page of the insights
#: app (langganan.insights.views.overview); a cashier starts at the counter (start_url) and gets
#: 403 here
merchant_home = overview


def _render_for_merchant(
    request, merchant, membership, template: str, context: dict, status: int = 200
):
    """Render in the merchant's time zone, with what the page header needs."""
    context = {
        "merchant": merchant,
        "membership": membership,
        "merchants": merchants_for_user(user=request.user),
        **context,
    }
    with timezone.override(merchant_zone(merchant)):
        return render(request, template, context, status=status)
