"""The POS API v1, mounted at ``/api/v1/``: OpenAPI at ``openapi.json``, docs at ``docs``.

The interactive docs use the Swagger UI files shipped inside the django-ninja package (``ninja``
is in INSTALLED_APPS, so they are served from our own static files, never from a CDN).
"""

from __future__ import annotations

from django.urls import path, re_path
from ninja import NinjaAPI

from .auth import ApiKeyAuth
from .errors import PROBLEM_CONTENT_TYPE, install_handlers, not_found_view
from .routers import checkout, customers, transactions, vouchers

DESCRIPTION = """\
The REST API a point-of-sale system (cash register, tablet app) calls at the counter.

**Auth**: `Authorization: Bearer <key>`; a key belongs to one outlet and reaches only its
merchant's data (another merchant's customer, sale or voucher is a 404). Keys are created with
`langganan apikey create --merchant SLUG --outlet CODE`.

**Idempotency**: `POST /transactions` and refunds need an `Idempotency-Key` header. The same key
with the same body replays the stored response (header `Idempotent-Replayed: true`); the same key
with a different body is a 422; a retry while the first request is still running is a 409.
Keys are scoped per merchant and kept at least 72 hours.

**Errors** are `application/problem+json` (RFC 9457) with a machine-readable `code`;
validation errors list each bad field in `errors`.

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
for module in (customers, checkout, transactions, vouchers):
    api.add_router("/", module.router)

urlpatterns = [
    path("", api.urls),
    re_path(r"^.*$", not_found_view),
]
