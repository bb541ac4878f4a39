"""Refuse a login flood from a locked address before anything else runs.

An address whose login lock this worker has seen gets a small pre-rendered page (429, the
Indonesian "coba lagi dalam … menit") before sessions, CSRF and the login form: a flood of
wrong passwords from one address then costs the server almost nothing. The first refusal in
each worker is the login view's own (it reads the lock from the database).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .guard import client_address, login_address_wait
from .messages import err_address_locked

_pages: dict[tuple[str, int], bytes] = {}


def locked_page(language: str, minutes: int) -> bytes:
    key = (language, minutes)
    page = _pages.get(key)
    if page is None:
        with translation.override(language):
            page = render_to_string(
                "staff/login_locked.html", {"message": err_address_locked(minutes)}
            ).encode()
        if len(_pages) < 200:
            _pages[key] = page
    return page


class LockedLoginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.login_path: str | None = None

    def __call__(self, request):
        if request.method == "POST":
            if self.login_path is None:
                self.login_path = reverse("web:login")
            if request.path_info == self.login_path:
                wait = login_address_wait(client_address(request))
                if wait:
                    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                    language = "en" if (chosen or "").startswith("en") else "id"
                    response = HttpResponse(locked_page(language, math.ceil(wait / 60)), status=429)
                    response["Retry-After"] = str(wait)
                    return response
        return self.get_response(request)
