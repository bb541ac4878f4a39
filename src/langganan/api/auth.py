"""``Authorization: Bearer <key>``: the key names one outlet of one merchant.

Every handler reads ``request.auth`` (an :class:`~langganan.api.models.ApiKey` with its
merchant and outlet loaded) and passes the merchant to the services and selectors, which read
only that merchant's rows: another merchant's object is a 404.

Wrong keys are throttled per client address (:mod:`langganan.staff.guard`): after
``API_KEY_FAILURES_PER_ADDRESS`` wrong keys within ``API_KEY_FAILURE_WINDOW`` the address is
answered 429 with ``Retry-After`` until the lock ends, before any key is looked up. A valid key
adds no database read or write for this: the worker checks its memory of locked addresses.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja.security import HttpBearer

from langganan.staff.guard import api_key_failure_record, api_key_wait, client_address

from .errors import problem_body, problem_response
from .models import ApiKey
from .selectors import api_key_authenticate
from .services import api_key_touch


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key of one outlet, created with `langganan apikey create`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        address = client_address(request)
        wait = api_key_wait(address)
        if wait:
            raise TooManyWrongKeys(wait)
        key = api_key_authenticate(raw_key=token.strip())
        if key is not None:
            api_key_touch(key=key)
            return key
        wait = api_key_failure_record(address=address)
        if wait:
            raise TooManyWrongKeys(wait)
        return None


CODE_TOO_MANY_WRONG_KEYS = "too_many_wrong_keys"
MSG_TOO_MANY_WRONG_KEYS = (
    "too many wrong API keys were sent from this address; retry after {seconds} seconds"
)


class TooManyWrongKeys(Exception):
    def __init__(self, seconds: int):
        super().__init__(MSG_TOO_MANY_WRONG_KEYS.format(seconds=seconds))
        self.seconds = seconds


def too_many_wrong_keys(request: HttpRequest, exc: TooManyWrongKeys) -> HttpResponse:
    """429 problem with ``Retry-After`` (registered on the API in ``api/urls.py``)."""
    body = problem_body(429, CODE_TOO_MANY_WRONG_KEYS, str(exc))
    return problem_response(body, headers={"Retry-After": str(exc.seconds)})


def api_key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined,return-value]
