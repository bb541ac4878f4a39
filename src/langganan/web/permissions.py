"""Who may open what: one rule per URL name of the dashboard, per operation of the POS API.

This is the single permission table of Langganan. Every dashboard page under ``/m/<merchant>/``
is wrapped in :func:`langganan.web.access.merchant_view`, which looks the page's URL name up
here; ``tests/web/test_roles.py`` walks the whole URL conf and the OpenAPI document and fails
for any URL or operation without a line here, so a new page cannot be added without a rule.

The roles (``Membership.role``):

- **owner** (pemilik): everything, and alone exports, erases, reads the audit log and changes
  settings and staff;
- **manager** (manajer): everything else — customers, campaigns, insights, jobs;
- **cashier** (kasir): the counter and the one customer they are serving: found by an exact
  phone number or member code (``customers:customer_lookup``, or the counter ``counter:screen``,
  which also names at most ten customers whose name starts with what was typed, phone
  masked, to pick one), then that customer's page and card, with the phone number and e-mail
  masked and the address hidden. No customer list, no
  campaigns, no audience samples or message previews, no manual WhatsApp list, no insight
  pages, no jobs, no exports.

A page a role may not open answers 403 with a page that says so in the user's language; a
merchant the user is not a member of stays a 404 (it never confirms that it exists). A cashier
who opens a customer other than the one they are serving gets the same 403, whether or not that
customer exists.

To add a page: add its URL name below with one of the rules. To add a POS API operation: add
``"METHOD /path"`` to :data:`API_PERMISSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from langganan.core.models import Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Rule:
    """The roles that may open a page; ``writers``: when set, the roles that may also send it
    (POST), where the others may only read it; ``served_only``: those of the roles that may
    open it only for the customer they are serving (the URL's ``pk``)."""

    roles: frozenset[str]
    served_only: frozenset[str] = frozenset()
    writers: frozenset[str] | None = None
    label: str = ""

    def allows(self, role: str, method: str = "GET") -> bool:
        if self.writers is not None and method.upper() not in SAFE_METHODS:
            return role in self.writers
        return role in self.roles


OWNERS = Rule(frozenset({Role.OWNER}), label="owner")
MANAGERS = Rule(frozenset({Role.OWNER, Role.MANAGER}), label="owner, manager")
STAFF = Rule(frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER}), label="everyone")
#: owners and managers read, only owners send (log a request, change a setting)
MANAGERS_READ_OWNERS_WRITE = Rule(
    frozenset({Role.OWNER, Role.MANAGER}),
    writers=frozenset({Role.OWNER}),
    label="owner, manager (read); owner (write)",
)
#: the cashier: only the customer found with customers:customer_lookup
SERVED = Rule(
    frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER}),
    served_only=frozenset({Role.CASHIER}),
    label="owner, manager; cashier: the customer being served",
)

#: dashboard pages under /m/<merchant>/, by URL name (namespace:name)
PERMISSIONS: dict[str, Rule] = {
    # the overview (Ringkasan, langganan.insights.views.overview) at /m/<merchant>/: where owners
    # and managers start; a cashier starts at the counter and may not open it
    "web:merchant_home": MANAGERS,
    # the counter (kasir): find the customer (a cashier picks only from their own search),
    # the card of the customer being served, the basket, the sale and its receipt
    "counter:screen": STAFF,
    "counter:pick": STAFF,
    "counter:sale": STAFF,
    "counter:receipt": STAFF,
    "counter:receipt_whatsapp": STAFF,
    # customers
    "customers:customer_lookup": STAFF,
    "customers:customer_list": MANAGERS,
    # a file of personal data leaves the system: the owner's decision (and audited)
    "customers:customer_list_export": OWNERS,
    "data:export": OWNERS,
    # set-up: what is done and what is next, outlets, the loyalty program
    "setup:checklist": OWNERS,
    "setup:outlet_add": OWNERS,
    "loyalty:program": OWNERS,
    "loyalty:tiers": OWNERS,
    "data:export_file": OWNERS,
    "data:export_download": OWNERS,
    # import from the browser: upload, preview, dry run, the import and its result
    "data:import": OWNERS,
    "data:import_job": OWNERS,
    "data:import_status": OWNERS,
    "data:import_cancel": OWNERS,
    "data:import_errors": OWNERS,
    "data:import_rejects": OWNERS,
    "customers:customer_detail": SERVED,
    "customers:member_card": SERVED,
    "customers:member_card_image": SERVED,
    # campaigns: they show customers (samples, previews, recipients)
    "campaigns_web:campaign_list": MANAGERS,
    # message channels: the provider accounts, their secrets and prices
    "campaigns_web:channels": OWNERS,
    "campaigns_web:channel_save": OWNERS,
    "campaigns_web:channel_test": OWNERS,
    "campaigns_web:campaign_create": MANAGERS,
    "campaigns_web:campaign_detail": MANAGERS,
    "campaigns_web:campaign_preview": MANAGERS,
    "campaigns_web:campaign_activate": MANAGERS,
    "campaigns_web:campaign_pause": MANAGERS,
    "campaigns_web:audience_list": MANAGERS,
    "campaigns_web:audience_create": MANAGERS,
    "campaigns_web:audience_edit": MANAGERS,
    "campaigns_web:template_list": MANAGERS,
    "campaigns_web:template_create": MANAGERS,
    "campaigns_web:template_detail": MANAGERS,
    # manual WhatsApp: names and phone numbers of everyone queued
    "campaigns:manual_list": MANAGERS,
    "campaigns:manual_open": MANAGERS,
    # insights and jobs
    "insights:accuracy": MANAGERS,
    # the target market and the customer map against it; is the CRM worth its cost (and the
    # acquisition spend and recomputing behind it): owners and managers
    "insights:target": MANAGERS,
    "insights:market": MANAGERS,
    "insights:worth": MANAGERS,
    "insights:worth_refresh": MANAGERS,
    "insights:worth_spend": MANAGERS,
    "jobs:list": MANAGERS,
    "jobs:run": MANAGERS,
    # personal data (UU PDP): correcting is a manager's job too; exports, erasure, the audit
    # log and closing a request are the owner's
    "privacy:customer_edit": MANAGERS,
    "privacy:customer_export": OWNERS,
    "privacy:customer_erase": OWNERS,
    "privacy:home": MANAGERS_READ_OWNERS_WRITE,
    "privacy:request_close": OWNERS,
    "privacy:audit": OWNERS,
    # kasbon (the tab): everyone sees the open tabs and takes payments; only owners and
    # managers set or raise a credit limit (every change audited with who made it)
    "counter:tab_list": STAFF,
    "counter:tab_detail": STAFF,
    "counter:tab_pay": STAFF,
    "counter:tab_limit": MANAGERS,
    # the end-of-day summary of the counter, per outlet and cashier (a cashier: today at
    # their own outlet, the view's rule)
    "counter:day_summary": STAFF,
    # staff: who may log in, and lifting a locked login (langganan.staff)
    "staff:list": OWNERS,
    "staff:unlock": OWNERS,
    "staff:add": OWNERS,
    "staff:two_factor": OWNERS,
    # the counter: enrolling a member (cashiers enrol); the sign-up posters of the outlets
    "counter:enrol": STAFF,
    "counter:enrol_check": STAFF,
    "counter:enrol_done": SERVED,
    "counter:poster_list": MANAGERS,
    "counter:poster": MANAGERS,
    "counter:poster_renew": MANAGERS,
    # complaints (langganan.care): the queue, a complaint and its actions, the categories —
    # owners and managers; a cashier may record one for the customer being served (the URL's
    # ``pk``), and sees no complaint page
    "care:complaint_list": MANAGERS,
    "care:complaint_create": MANAGERS,
    "care:complaint_create_for": SERVED,
    "care:complaint_detail": MANAGERS,
    "care:complaint_note": MANAGERS,
    "care:complaint_status": MANAGERS,
    "care:complaint_assign": MANAGERS,
    "care:complaint_recover": MANAGERS,
    "care:complaint_reply": MANAGERS,
    # a complaint's photos (added and shown to owners and managers only) and its refund
    "care:complaint_photo_add": MANAGERS,
    "care:complaint_photo": MANAGERS,
    "care:complaint_refund": MANAGERS,
    "care:categories": MANAGERS,
    # messages customers sent back by WhatsApp or SMS (names and numbers), one made a complaint
    "care:inbound_list": MANAGERS,
    "care:inbound_complaint": MANAGERS,
    # feedback after a visit: the answers with their customers, the scores
    "care:feedback_list": MANAGERS,
    # the figures of a period: volumes, times, CSAT/NPS, what became of complainers
    "care:figures": MANAGERS,
}

#: URLs outside /m/<merchant>/ that anyone may reach, and what protects them instead
PUBLIC: dict[str, str] = {
    "web:home": "sends a user to their start page, anyone else to the login",
    "web:login": "the login",
    "staff:login_code": "the login's second step: a session whose password was right just now",
    "web:logout": "logs out (POST)",
    "set_language": "the language switcher",
    "campaigns:whatsapp_webhook": "the provider's signature",
    "campaigns:sms_webhook": "the provider's signature",
    "campaigns:optout": "the customer's own signed token",
    "counter:signup": "an outlet's random sign-up token; CSRF, honeypot, limits per IP/outlet",
    "counter:signup_thanks": "an outlet's random sign-up token; the same page for everyone",
    "counter:signup_privacy": "an outlet's random sign-up token; the merchant's privacy notice",
    "counter:card": "the member's own signed token (sent to them by WhatsApp)",
    "care:feedback": "the sale's signed token; one answer per sale, honeypot, limit per IP",
    "setup:start": "a logged-in account that may create businesses (langganan owner create)",
}

#: Django admin (/admin/): Django's own rule, is_staff users only; merchants' staff are not
ADMIN_RULE = "is_staff"

#: The POS API (/api/v1/) is not used by people: each call carries the API key of one outlet
#: (``langganan apikey create``), which reaches only its merchant's data. A dashboard login is
#: no API key (401).
POS_KEY = "pos key"
API_PERMISSIONS: dict[str, str] = {
    "GET /customers/lookup": POS_KEY,
    "POST /customers": POS_KEY,
    "GET /customers/{customer_id}/ledger": POS_KEY,
    "POST /customers/{customer_id}/tab/payments": POS_KEY,
    "POST /checkout/quote": POS_KEY,
    "POST /transactions": POS_KEY,
    "POST /transactions/batch": POS_KEY,
    "POST /transactions/{transaction_id}/refunds": POS_KEY,
    "POST /vouchers/{code}/validate": POS_KEY,
    "POST /complaints": POS_KEY,
    "POST /feedback": POS_KEY,
}
#: the API's documentation, open to anyone, and its root (a JSON 404)
API_PUBLIC = ("openapi.json", "docs", "")

#: roles that see a customer's full phone number, e-mail and address
CONTACT_ROLES = frozenset({Role.OWNER, Role.MANAGER})


def rule_for(name: str) -> Rule | None:
    return PERMISSIONS.get(name)


def may_open(role: str, name: str) -> bool:
    """Whether ``role`` may open the page ``name`` at all (for a cashier, a customer page
    means the customer being served)."""
    rule = PERMISSIONS.get(name)
    return rule is not None and rule.allows(role)
