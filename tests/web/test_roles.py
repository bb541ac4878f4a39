"""Roles × URLs: every URL of the URL conf and every operation of the POS API's OpenAPI
document has a rule in langganan.web.permissions, and answers each role as the rule says.

A new page or endpoint without a rule fails here: add one line to PERMISSIONS (or PUBLIC, or
API_PERMISSIONS). A page with a new kind of URL argument fails with "no argument for …": add
how to build it to ``_argument`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from langganan.api.services import api_key_create, api_key_revoke
from langganan.api.urls import api
from langganan.core.models import Role
from langganan.loyalty.models import Member
from langganan.web.permissions import (
    API_PERMISSIONS,
    API_PUBLIC,
    PERMISSIONS,
    POS_KEY,
    PUBLIC,
)
from tests.campaigns.channels.helpers import queued_message
from tests.campaigns.roi.factories import AudienceFactory, CampaignFactory, TemplateFactory
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OutletFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

MERCHANT_PREFIX = "m/<slug:slug>/"
ROLES = ("owner", "manager", "cashier", "other merchant", "anonymous")


def walk(resolver=None, prefix: str = "", namespace: str = ""):
    """Every URL pattern: (route, namespaced name, pattern), includes followed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            joined = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from walk(pattern, route, joined)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield route, name, pattern


def merchant_pages() -> list[tuple[str, str, URLPattern]]:
    return [(r, n, p) for r, n, p in walk() if r.startswith(MERCHANT_PREFIX)]


def _parameters(pattern: URLPattern) -> list[str]:
    return list(pattern.pattern.regex.groupindex)


# --- every URL has a rule ------------------------------------------------------------------------


def test_every_url_has_a_rule():
    missing = []
    for route, name, _pattern in walk():
        if route.startswith("admin/") or route.startswith("api/v1/"):
            continue  # Django's is_staff rule; the API's operations are checked below
        if route.startswith(MERCHANT_PREFIX):
            if name not in PERMISSIONS:
                missing.append(f"{route} ({name}): add it to PERMISSIONS")
        elif name not in PUBLIC:
            missing.append(f"{route} ({name}): add it to PUBLIC or move it under /m/<slug>/")
    assert not missing, "URLs without a rule in langganan.web.permissions:\n" + "\n".join(missing)


def test_every_rule_names_a_url():
    names = {name for _route, name, _pattern in walk() if name}
    mounted = {name.partition(":")[0] for name in names if ":" in name}
    # a rule of an app whose URLs are not mounted (yet) is kept for when they are
    stale = {n for n in set(PERMISSIONS) | set(PUBLIC) if n.partition(":")[0] in mounted}
    assert not (stale - names)


def test_a_merchant_page_is_never_public():
    assert not {name for _r, name, _p in merchant_pages()} & set(PUBLIC)


def test_every_api_url_is_an_operation_or_the_documentation():
    operations = {path for path in api.get_openapi_schema()["paths"]}
    for route, name, _pattern in walk():
        if not route.startswith("api/v1/") or name is None:
            continue  # the catch-all JSON 404
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + route.removeprefix("api/v1/"))
        assert path.strip("/") in API_PUBLIC or f"/api/v1{path}" in operations, route


# --- the dashboard, role by role -----------------------------------------------------------------


@dataclass
class Shop:
    merchant: Any
    customer: Any
    other_customer: Any
    campaign: Any
    audience: Any
    template: Any
    message: Any


@pytest.fixture
def shop(merchant, settings, tmp_path) -> Shop:
    settings.DATA_DIR = tmp_path  # where an import's upload is kept
    outlet = OutletFactory(merchant=merchant)
    customer = CustomerFactory(
        merchant=merchant, full_name="Rina Wati", phone="+6281234567890", email="rina@contoh.id"
    )
    TransactionFactory(merchant=merchant, outlet=outlet, customer=customer)
    Member.objects.create(merchant=merchant, customer=customer, referral_code="RINA1")
    template = TemplateFactory(merchant=merchant)
    campaign = CampaignFactory(merchant=merchant, template=template)
    message = queued_message(customer)
    return Shop(
        merchant=merchant,
        customer=customer,
        other_customer=CustomerFactory(merchant=merchant, full_name="Budi Santoso"),
        campaign=campaign,
        audience=AudienceFactory(merchant=merchant),
        template=template,
        message=message,
    )


#: the object a ``pk`` names, by the start of the URL name (the longest match wins)
PK_OF = {
    "": "customer",
    "campaigns_web:campaign_": "campaign",
    "campaigns_web:audience_": "audience",
    "campaigns_web:template_": "template",
}


def _argument(shop: Shop, name: str, parameter: str):
    if parameter == "slug":
        return shop.merchant.slug
    if parameter == "pk" and name.startswith("privacy:request_"):
        return _privacy_request(shop).pk
    if parameter == "pk" and name.startswith("staff:"):  # a staff membership of the merchant
        return shop.merchant.memberships.order_by("pk").first().pk
    if parameter == "pk":
        prefix = max((p for p in PK_OF if name.startswith(p)), key=len)
        return getattr(shop, PK_OF[prefix]).pk
    if parameter == "message_id":
        return shop.message.pk
    if parameter == "customer_id":
        return shop.customer.pk
    if parameter == "name":  # a job
        return "loyalty.expire"
    if parameter == "outlet_id":  # the outlet of the shop's sale
        return shop.merchant.outlets.order_by("pk").first().pk
    if parameter == "fmt":
        if name.startswith("privacy:"):
            return "json"
        if name in ("customers:customer_list_export", "data:export_file"):
            return "csv"
        return "png"
    if parameter == "channel":  # a message channel
        return "sms"
    if parameter == "what":  # an exported table
        return "customers"
    if parameter == "key":  # a sale recorded at the counter, by its basket key
        return _counter_sale(shop)
    if parameter == "job_id" and name == "data:export_download":  # a file prepared for it
        return _export_job(shop).pk
    if parameter == "job_id":  # a file uploaded for import, not imported yet
        return _import_job(shop).pk
    if parameter == "complaint_id":  # a complaint about the shop's customer
        return _complaint(shop).pk
    if parameter == "inbound_id":  # a WhatsApp message the shop's customer sent
        return _inbound(shop).pk
    if parameter == "photo_id":  # a photo of the complaint (the URL's complaint_id comes first)
        return _photo(shop).pk
    raise AssertionError(f"no argument for {parameter!r} of {name}: add it to _argument")


def _counter_sale(shop: Shop) -> str:
    from langganan.loyalty.checkout import BasketLine, CheckoutRequest, checkout

    key = "kasir-" + "0" * 31 + "1"
    checkout(
        merchant=shop.merchant,
        outlet=shop.merchant.outlets.order_by("pk").first(),
        idempotency_key=key,
        request=CheckoutRequest(
            lines=[BasketLine(quantity=1, unit_price=10000, name="Kopi")],
            customer_id=shop.customer.pk,
        ),
    )
    return key


def _import_job(shop: Shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from langganan.sales.import_jobs import import_job_create

    upload = SimpleUploadedFile("pelanggan.csv", b"Nama,No HP\nRina,081234567899\n")
    return import_job_create(merchant=shop.merchant, user=None, kind="pelanggan", uploaded=upload)


def _export_job(shop: Shop):
    from langganan.sales.export_jobs import export_job_task
    from langganan.sales.models import ExportJob

    job = ExportJob.objects.create(merchant=shop.merchant, what="customers", fmt="csv")
    export_job_task(job.pk)
    return job


def _complaint(shop: Shop):
    from tests.care.helpers import complaint

    return complaint(shop.merchant, customer=shop.customer)


def _photo(shop: Shop):
    import base64

    from langganan.care.models import Complaint
    from langganan.care.photos import CheckedPhoto, complaint_photos_add

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    complaint = Complaint.objects.filter(merchant=shop.merchant).order_by("-pk").first()
    [photo] = complaint_photos_add(
        complaint=complaint, photos=[CheckedPhoto("a.png", "image/png", png)]
    )
    return photo


def _inbound(shop: Shop):
    from langganan.care.inbound import inbound_record

    return inbound_record(
        merchant_id=shop.merchant.pk, channel="whatsapp", sender=shop.customer.phone, text="Halo"
    )


def _privacy_request(shop: Shop):
    from langganan.privacy.services import privacy_request_log

    return privacy_request_log(
        merchant=shop.merchant, kind="access", reference="REQ-1", customer=shop.customer
    )


def _url(shop: Shop, name: str, pattern: URLPattern) -> str:
    kwargs = {p: _argument(shop, name, p) for p in _parameters(pattern)}
    return reverse(name, kwargs=kwargs)


def _client(shop: Shop, role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    if role == "other merchant":
        client.force_login(MembershipFactory(merchant=MerchantFactory(), role="owner").user)
        return client
    client.force_login(MembershipFactory(merchant=shop.merchant, role=role).user)
    if role == Role.CASHIER:  # the customer at the counter, found by phone number
        lookup = reverse("customers:customer_lookup", kwargs={"slug": shop.merchant.slug})
        assert client.get(lookup, {"q": "0812 3456 7890"}).status_code == 302
    return client


def _method(owner: Client, url: str) -> str:
    """GET, or POST for a page that takes only POST (activate, run now, …)."""
    return "post" if owner.get(url).status_code == 405 else "get"


def _expected(role: str, name: str, method: str) -> str:
    if role == "anonymous":
        return "login"
    if role == "other merchant":
        return "404"
    return "open" if PERMISSIONS[name].allows(role, method) else "403"


def _outcome(response) -> str:
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("web:login")):
        return "login"
    if status in (403, 404) or status >= 500:
        return str(status)
    if status in (200, 201, 302, 303, 400):  # 400: a form sent empty, still opened
        return "open"
    return str(status)


@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_the_table_says(shop, role):
    owner = _client(shop, "owner")
    client = _client(shop, role)
    wrong = []
    for _route, name, pattern in merchant_pages():
        if name not in PERMISSIONS:
            continue  # test_every_url_has_a_rule names it
        url = _url(shop, name, pattern)
        methods = [_method(owner, url)]
        if methods == ["get"] and PERMISSIONS[name].writers is not None:
            methods.append("post")  # read by some, sent by fewer
        for method in methods:
            response = getattr(client, method)(url)
            expected, got = _expected(role, name, method), _outcome(response)
            if got != expected:
                wrong.append(f"{method.upper()} {url} ({name}): expected {expected}, got {got}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)


# --- the cashier and the customer they serve -----------------------------------------------------


def _customer_urls(shop: Shop, customer_id: int) -> list[str]:
    kwargs = {"slug": shop.merchant.slug, "pk": customer_id}
    return [
        reverse("customers:customer_detail", kwargs=kwargs),
        reverse("customers:member_card", kwargs=kwargs),
        reverse("customers:member_card_image", kwargs={**kwargs, "fmt": "svg"}),
    ]


def test_a_cashier_opens_only_the_customer_they_looked_up(shop):
    cashier = _client(shop, "cashier")  # looked Rina up by her phone number

    for url in _customer_urls(shop, shop.customer.pk):
        assert cashier.get(url).status_code == 200, url
    for customer_id in (shop.other_customer.pk, shop.other_customer.pk + 1000):
        for url in _customer_urls(shop, customer_id):
            response = cashier.get(url)
            assert response.status_code == 403, url  # the same whether it exists or not
    html = cashier.get(_customer_urls(shop, shop.other_customer.pk)[0]).content.decode()
    assert "Budi Santoso" not in html
    assert "pelanggan yang sedang dilayani" in html


def test_a_cashier_serves_the_next_customer_after_a_new_lookup(shop):
    cashier = _client(shop, "cashier")
    lookup = reverse("customers:customer_lookup", kwargs={"slug": shop.merchant.slug})

    response = cashier.get(lookup, {"q": shop.other_customer.member_code.lower()})

    assert response.status_code == 302
    assert response["Location"] == _customer_urls(shop, shop.other_customer.pk)[0]
    assert cashier.get(_customer_urls(shop, shop.other_customer.pk)[0]).status_code == 200
    assert cashier.get(_customer_urls(shop, shop.customer.pk)[0]).status_code == 403


@pytest.mark.parametrize("query", ["Rina", "Rina Wati", "3456", "0812", "+62812345"])
def test_the_lookup_finds_no_one_by_name_or_a_fragment(shop, query):
    cashier = _client(shop, "cashier")
    lookup = reverse("customers:customer_lookup", kwargs={"slug": shop.merchant.slug})

    response = cashier.get(lookup, {"q": query})

    assert response.status_code == 200
    html = response.content.decode()
    assert _customer_urls(shop, shop.customer.pk)[0] not in html
    assert "Tidak ada pelanggan dengan nomor HP atau kode member" in html


def test_the_lookup_finds_another_merchants_customer_nowhere(shop):
    stranger = CustomerFactory(merchant=MerchantFactory(), phone="+6285712345678")
    cashier = _client(shop, "cashier")
    lookup = reverse("customers:customer_lookup", kwargs={"slug": shop.merchant.slug})

    assert cashier.get(lookup, {"q": stranger.phone}).status_code == 200
    assert cashier.get(lookup, {"q": stranger.member_code}).status_code == 200
    assert cashier.get(_customer_urls(shop, stranger.pk)[0]).status_code == 403


def test_a_cashier_sees_the_phone_masked_and_no_address(shop):
    shop.customer.address = "Jl. Melati 12, Menteng"
    shop.customer.save()
    cashier = _client(shop, "cashier")

    html = cashier.get(_customer_urls(shop, shop.customer.pk)[0]).content.decode()

    assert "0812-****-890" in html
    assert "3456" not in html
    assert "r***@contoh.id" in html
    assert "rina@contoh.id" not in html
    assert "Melati" not in html
    assert "Rina Wati" in html


def test_a_manager_sees_the_full_phone_and_address(shop):
    shop.customer.address = "Jl. Melati 12, Menteng"
    shop.customer.save()
    manager = _client(shop, "manager")

    html = manager.get(_customer_urls(shop, shop.customer.pk)[0]).content.decode()

    assert "0812-3456-7890" in html
    assert "rina@contoh.id" in html
    assert "Melati" in html


# --- start page, navigation, the 403 page --------------------------------------------------------


def test_the_start_page_is_the_counter_for_a_cashier_and_the_overview_for_the_others(shop):
    slug = shop.merchant.slug
    home = reverse("web:merchant_home", kwargs={"slug": slug})
    for role, start in (
        ("cashier", "counter:screen"),
        ("manager", "web:merchant_home"),
        ("owner", "web:merchant_home"),
    ):
        client = _client(shop, role)
        expected = reverse(start, kwargs={"slug": slug})
        assert client.get(reverse("web:home"))["Location"] == expected, role
        # the overview (Ringkasan) is at /m/<merchant>/; a cashier may not open it
        assert client.get(home).status_code == (403 if role == "cashier" else 200), role


def _nav(client: Client, shop: Shop) -> str:
    url = reverse("customers:customer_lookup", kwargs={"slug": shop.merchant.slug})
    html = client.get(url).content.decode()
    return html[html.index('class="mainnav"') : html.index("</nav>")]


def test_the_menu_shows_only_what_the_role_may_open(shop):
    slug = shop.merchant.slug
    links = {
        "web:merchant_home": reverse("web:merchant_home", kwargs={"slug": slug}),
        "customers:customer_list": reverse("customers:customer_list", kwargs={"slug": slug}),
        "campaigns_web:campaign_list": reverse(
            "campaigns_web:campaign_list", kwargs={"slug": slug}
        ),
        "jobs:list": reverse("jobs:list", kwargs={"slug": slug}),
    }
    for role in ("owner", "manager", "cashier"):
        nav = _nav(_client(shop, role), shop)
        for name, url in links.items():
            assert (f'href="{url}"' in nav) == PERMISSIONS[name].allows(role), (role, name)
    assert "Cari pelanggan" in _nav(_client(shop, "cashier"), shop)


def test_the_403_page_says_why_in_indonesian(shop):
    cashier = _client(shop, "cashier")

    response = cashier.get(
        reverse("campaigns_web:campaign_list", kwargs={"slug": shop.merchant.slug})
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert "Bukan untuk peran Anda" in html
    assert f"Anda masuk sebagai <strong>Kasir</strong> di {shop.merchant.name}." in html
    assert reverse("counter:screen", kwargs={"slug": shop.merchant.slug}) in html


# --- the POS API ---------------------------------------------------------------------------------


def _operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
    ]


def test_every_api_operation_has_a_rule_and_every_rule_an_operation():
    operations = {f"{method} {path}" for method, path in _operations()}

    assert operations - set(API_PERMISSIONS) == set(), "add them to API_PERMISSIONS"
    assert set(API_PERMISSIONS) - operations == set()


def test_every_api_operation_needs_an_outlets_key():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert API_PERMISSIONS[f"{method.upper()} {path.removeprefix('/api/v1')}"] == POS_KEY
            assert operation.get("security") == [{"ApiKeyAuth": []}], (method, path)


def _api_path(path: str, shop: Shop, sale_id: int) -> str:
    return "/api/v1" + path.format(
        customer_id=shop.customer.pk, transaction_id=sale_id, code="TIDAKADA"
    )


def test_each_api_operation_answers_a_key_and_nobody_else(shop):
    sale = TransactionFactory(merchant=shop.merchant, outlet=OutletFactory(merchant=shop.merchant))
    outlet = OutletFactory(merchant=shop.merchant)
    _key, raw = api_key_create(merchant=shop.merchant, outlet=outlet, name="Kasir 1")
    revoked, revoked_raw = api_key_create(merchant=shop.merchant, outlet=outlet, name="lama")
    api_key_revoke(prefix=revoked.prefix)
    owner = _client(shop, "owner")  # a dashboard login is no API key
    keyed = Client(headers={"Authorization": f"Bearer {raw}"})
    wrong = []
    for method, path in _operations():
        url = _api_path(path, shop, sale.pk)
        send = {"content_type": "application/json"} if method == "POST" else {}
        data = "{}" if method == "POST" else {}
        answers = {
            "anonymous": getattr(Client(), method.lower())(url, data, **send).status_code,
            "owner session": getattr(owner, method.lower())(url, data, **send).status_code,
            "key": getattr(keyed, method.lower())(url, data, **send).status_code,
        }
        if path == "/customers/lookup":  # one revoked key is enough (keys are throttled)
            revoked_client = Client(headers={"Authorization": f"Bearer {revoked_raw}"})
            answers["revoked key"] = revoked_client.get(url).status_code
        for who, status in answers.items():
            ok = status not in (401, 403) and status < 500 if who == "key" else status == 401
            if not ok:
                wrong.append(f"{method} {path} as {who}: {status}")
    assert not wrong, "\n".join(wrong)


# --- Django admin --------------------------------------------------------------------------------


#: the admin's login and logout, its translations, and the catch-all that sends to the index
ADMIN_OPEN = ("admin:login", "admin:logout", "admin:jsi18n", None)


@pytest.mark.parametrize("role", ["owner", "manager", "cashier", "anonymous"])
def test_the_admin_is_for_django_staff_only(shop, role):
    client = _client(shop, role)
    login = reverse("admin:login")
    wrong = []
    for route, name, pattern in walk():
        if not route.startswith("admin/") or _parameters(pattern) or name in ADMIN_OPEN:
            continue
        response = client.get(reverse(name))
        if response.status_code != 302 or not response["Location"].startswith(login):
            wrong.append(f"{route}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_lookup_is_recorded_in_the_audit_log_without_the_number(shop):
    from langganan.privacy.models import AuditEvent

    _client(shop, "cashier")  # one lookup, found

    event = AuditEvent.objects.filter(merchant=shop.merchant, action="customer.search").get()
    assert event.detail["results"] == 1
    assert "7890" not in str(event.detail)


def test_a_view_that_refuses_by_its_own_rule_gets_the_same_403_page(shop):
    manager = _client(shop, "manager")  # may read the privacy request log, not log a request

    response = manager.post(reverse("privacy:home", kwargs={"slug": shop.merchant.slug}))

    assert response.status_code == 403
    html = response.content.decode()
    assert f"Anda masuk sebagai <strong>Manajer</strong> di {shop.merchant.name}." in html
    assert 'class="mainnav"' in html
