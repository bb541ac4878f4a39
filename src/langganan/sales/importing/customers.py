"""Import customers from CSV or .xlsx.

A row whose customer reference, phone or member code matches an existing customer of the
merchant is skipped (counted in ``skipped_duplicates``), so importing the same file twice
creates nothing. Consent columns (``consent_email``, ``consent_whatsapp``, ``consent_sms``:
ya/tidak, yes/no, 1/0) are recorded as consent events with source ``import``.
"""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from langganan.core.errors import InvalidInput
from langganan.core.models import Merchant
from langganan.core.phones import normalize_phone
from langganan.customers.models import ConsentEvent, Customer, Greeting
from langganan.customers.services import ERR_EMAIL_INVALID, member_code_generate
from langganan.sales.importing.common import (
    FileImport,
    ImportReport,
    RowError,
)
from langganan.sales.importing.fields import (
    CUSTOMER_FIELDS,
    parse_boolean,
    parse_date,
    parse_gender,
)

CHUNK = 500
ERR_NEED_IDENTITY = (
    "the file needs a column that identifies customers: customer_id, phone, member_code or name"
)
ERR_NO_IDENTITY = "row has no name, phone, customer id or member code"
ERR_GREETING = "greeting must be one of Kak, Mas, Mbak, Pak, Bu"
ERR_DUPLICATE_IN_FILE = "the same customer appears earlier in this file"
CONSENT_WORDING_IMPORT = "import"


class _Bad(Exception):
    def __init__(self, field: str, reason: str, value: str | None = None):
        super().__init__(reason)
        self.error_field, self.reason, self.value = field, reason, value


class CustomerImport(FileImport):
    kind = "customers"
    fields = CUSTOMER_FIELDS
    chunk = CHUNK

    def check_columns(self) -> None:
        if not any(self.columns.has(f) for f in ("customer_id", "phone", "member_code", "name")):
            raise InvalidInput(ERR_NEED_IDENTITY)

    def parse(self, group):
        number, cells = group[0]
        try:
            return self._parse(cells)
        except _Bad as bad:
            self.reject(group, {number: RowError(number, bad.reason, bad.error_field, bad.value)})
            return None

    def flush(self, pending) -> None:
        self._flush(pending)

    def _parse(self, cells) -> tuple[Customer, dict[str, bool]]:
        get = self.columns.get
        name, ref, code = get(cells, "name"), get(cells, "customer_id"), get(cells, "member_code")
        try:
            phone = normalize_phone(get(cells, "phone"))
        except ValueError as exc:
            raise _Bad("phone", str(exc), get(cells, "phone")) from exc
        if not (name or ref or code or phone):
            raise _Bad("name", ERR_NO_IDENTITY)
        email = get(cells, "email")
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise _Bad("email", ERR_EMAIL_INVALID, email) from exc
        try:
            gender = parse_gender(get(cells, "gender"))
        except ValueError as exc:
            raise _Bad("gender", str(exc), get(cells, "gender")) from exc
        greeting = get(cells, "greeting").capitalize()
        if greeting not in Greeting.values:
            raise _Bad("greeting", ERR_GREETING, get(cells, "greeting"))
        birth_date = joined_at = None
        for field_name in ("birth_date", "joined_at"):
            text = get(cells, field_name)
            if text:
                try:
                    day, clock = parse_date(text)
                except ValueError as exc:
                    raise _Bad(field_name, str(exc), text) from exc
                if field_name == "birth_date":
                    birth_date = day
                else:
                    joined_at = datetime.combine(day, clock or time(0), tzinfo=self.tz)
        consents = {}
        for channel in ("email", "whatsapp", "sms"):
            try:
                value = parse_boolean(get(cells, f"consent_{channel}"))
            except ValueError as exc:
                raise _Bad(
                    f"consent_{channel}", str(exc), get(cells, f"consent_{channel}")
                ) from exc
            if value is not None:
                consents[channel] = value
        for key in (
            f"ref:{ref}" if ref else None,
            f"phone:{phone}" if phone else None,
            f"code:{code}" if code else None,
        ):
            if key and not self.scratch.first_time(key):
                raise _Bad(
                    "customer_id" if key.startswith("ref") else key.split(":")[0],
                    ERR_DUPLICATE_IN_FILE,
                    key.split(":", 1)[1],
                )
        tags = [t.strip() for t in get(cells, "tags").replace(";", ",").split(",") if t.strip()]
        customer = Customer(
            merchant=self.merchant,
            full_name=name[:200],
            phone=phone,
            email=email,
            gender=gender,
            greeting=greeting,
            birth_date=birth_date,
            address=get(cells, "address"),
            city=get(cells, "city")[:100],
            province=get(cells, "province")[:100],
            member_code=code[:32] or member_code_generate(),
            external_ref=ref[:64] or None,
            acquisition_source=get(cells, "acquisition_source")[:50] or "import",
            tags=tags,
            notes=get(cells, "notes"),
        )
        if joined_at:
            customer.joined_at = joined_at
        return customer, consents

    def _flush(self, pending) -> None:
        if not pending:
            return
        refs = [c.external_ref for c, _ in pending if c.external_ref]
        phones = [c.phone for c, _ in pending if c.phone]
        codes = [c.member_code for c, _ in pending]
        existing = (
            Customer.objects.filter(merchant=self.merchant)
            .filter(Q(external_ref__in=refs) | Q(phone__in=phones) | Q(member_code__in=codes))
            .values_list("external_ref", "phone", "member_code")
        )
        taken = set()
        for ref, phone, code in existing:
            taken.update({("ref", ref), ("phone", phone), ("code", code)})
        fresh = [
            (c, consents)
            for c, consents in pending
            if not (
                {("ref", c.external_ref), ("phone", c.phone), ("code", c.member_code)}
                & taken - {("ref", None), ("phone", None)}
            )
        ]
        self.report.skipped_duplicates += len(pending) - len(fresh)
        created = Customer.objects.bulk_create([c for c, _ in fresh], batch_size=500)
        self.report.customers_created += len(created)
        events = [
            ConsentEvent(
                merchant=self.merchant,
                customer=customer,
                channel=channel,
                granted=granted,
                occurred_at=customer.joined_at,
                source="import",
                wording_version=CONSENT_WORDING_IMPORT,
            )
            for customer, (_, consents) in zip(created, fresh, strict=True)
            for channel, granted in consents.items()
        ]
        ConsentEvent.objects.bulk_create(events, batch_size=1000)


def customers_import(
    *,
    merchant: Merchant,
    path,
    mapping=None,
    skip_invalid=False,
    rejects_path=None,
    no_header=False,
    progress=None,
    dry_run: bool = False,
    on_progress=None,
    cancelled=None,
) -> ImportReport:
    """Import a customers file for ``merchant``; see the module docstring for the rules."""
    return CustomerImport(
        merchant=merchant,
        path=path,
        mapping=mapping,
        skip_invalid=skip_invalid,
        rejects_path=rejects_path,
        no_header=no_header,
        progress=progress,
        dry_run=dry_run,
        on_progress=on_progress,
        cancelled=cancelled,
    ).run()
