"""The POS API v1, mounted at ``/api/v1/``: OpenAPI at ``openapi.json``, docs at ``docs``.

The interactive docs use the Swagger UI files shipped inside the django-ninja package (``ninja``
is in INSTALLED_APPS, so they are served from our own static files, never from a CDN).
"""

from __future__ import annotations

import functools

from django.urls import URLPattern, include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from langganan.care import api as care_api

from .auth import ApiKeyAuth, TooManyWrongKeys, too_many_wrong_keys
from .errors import PROBLEM_CONTENT_TYPE, install_handlers, method_not_allowed, not_found_view
from .routers import checkout, customers, tabs, transactions, vouchers

DESCRIPTION = """\
The REST API a point-of-sale system (cash register, tablet app) calls at the counter.

**Auth**: `Authorization: Bearer <key>`; a key belongs to one outlet and reaches only its
merchant's data (another merchant's customer, sale or voucher is a 404). Keys are created with
`langganan apikey create --merchant SLUG --outlet CODE`.
Wrong keys are throttled per client address: after 20 wrong keys within 10 minutes every
request from that address is answered `429` (`code: too_many_wrong_keys`) with `Retry-After`
until the 10-minute lock ends.

**Idempotency**: `POST /transactions`, refunds and tab payments need an `Idempotency-Key`
header. The same key with the same body replays the stored response (header
`Idempotent-Replayed: true`); the same key with a different body is a 422; a retry while the
first request is still running is a 409.
Keys are scoped per merchant and kept at least 72 hours. A sale whose `external_id` (the till's
receipt number) is already recorded, sent with a new key, is a 409 `receipt_exists` naming the
recorded sale in `existing_transaction`.

**Errors** are `application/problem+json` (RFC 9457) with a machine-readable `code`;
validation errors list each bad field in `errors`. A body over the server's limit
(`DATA_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MiB by default) is a 413; a path that is no endpoint a 404,
whatever the method.

**Complaints and feedback**: `POST /complaints` and `POST /feedback` need an
`Idempotency-Key` too; feedback is one answer per sale (a second is a 409 `feedback_exists`
naming the recorded one in `existing_feedback`); an unknown complaint category is a 422
`unknown_category`.

**Money** is Rupiah as a decimal string (`"25000.00"`).
"""


class PosApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Errors are documented as ``application/problem+json``, as they are sent."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


api = PosApi(
    title="Langganan POS API",
    version="1",
    description=DESCRIPTION,
    auth=ApiKeyAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_handlers(api)
api.add_exception_handler(TooManyWrongKeys, too_many_wrong_keys)
for module in (customers, tabs, checkout, transactions, vouchers):
    api.add_router("/", module.router)
api.add_router("/", care_api.router)  # complaints and feedback (langganan.care.api)


def _problem_for_wrong_method(view):
    """Ninja answers a method a path does not take with an empty HTML 405; the API's own
    answers are problems, so that one is too."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/html"):
            return method_not_allowed(request, response.get("Allow", ""))
        return response

    return wrapped


# (not named ``app_name``: ``include()`` of this module would take it as the module's namespace)
api_patterns, api_app, api_namespace = api.urls
for pattern in api_patterns:
    if not isinstance(pattern, URLPattern):
        continue
    if pattern.name == "api-root":  # named for the OpenAPI paths; Ninja's own is an HTML 404
        pattern.callback = not_found_view
    else:
        pattern.callback = csrf_exempt(_problem_for_wrong_method(pattern.callback))

urlpatterns = [
    path("", include((api_patterns, api_app), namespace=api_namespace)),
    re_path(r"^.*$", not_found_view),
]
