"""``Authorization: Bearer <key>``: the key names one outlet of one merchant.

Every handler reads ``request.auth`` (an :class:`~langganan.api.models.ApiKey` with its
merchant and outlet loaded) and passes the merchant to the services and selectors, which read
only that merchant's rows: another merchant's object is a 404.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from .models import ApiKey
from .selectors import api_key_authenticate
from .services import api_key_touch


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key of one outlet, created with `langganan apikey create`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = api_key_authenticate(raw_key=token.strip())
        if key is not None:
            api_key_touch(key=key)
        return key


def api_key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined,return-value]
