"""Language selection for the dashboard: Bahasa Indonesia first.

Django's ``LocaleMiddleware`` follows the browser's ``Accept-Language`` header, so an owner
whose phone or laptop is set to English gets English on the first visit. This middleware
(a drop-in replacement for it in ``MIDDLEWARE``) uses only the language the user chose with
the switcher (the ``django_language`` cookie) and otherwise ``LANGUAGE_CODE`` (Indonesian).
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        try:
            language = translation.get_supported_language_variant(chosen)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
