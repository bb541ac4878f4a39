"""Real channel components for the delivery tests: an in-process channel that records what it is
given, and an SMS gateway adapter talking HTTP to a local server (the shape of the generic SMS
gateway: a JSON POST of ``to``, ``message``, ``sender``, ``reference`` with a bearer key, the
gateway's message ``id`` in the reply)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from langganan.campaigns.channels import Outgoing, SendError, SendResult

ROOT = Path(__file__).resolve().parents[3]
JAKARTA = ZoneInfo("Asia/Jakarta")
#: A weekday noon in Jakarta: outside the default quiet hours (21:00–08:00).
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=JAKARTA)


def consenting_customer(merchant, channel="sms"):
    from langganan.customers.services import consent_record
    from tests.factories import CustomerFactory

    customer = CustomerFactory(merchant=merchant)
    consent_record(customer=customer, channel=channel, granted=True, source="counter")
    return customer


def queue(customer, *, channel="sms", due=NOON - timedelta(minutes=1), **fields):
    """A message in the outbox, due at ``due`` (as the campaign services write them)."""
    from langganan.campaigns.models import Message

    to = customer.email if channel == "email" else customer.phone
    return Message.objects.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        channel=channel,
        to=to or "+6281200000000",
        body=fields.pop("body", f"Halo Kak {customer.full_name}, ada promo untukmu."),
        next_attempt_at=due,
        **fields,
    )


@dataclass
class RecordingChannel:
    """Every channel's adapter in one: records each message and answers from ``script`` (an
    exception to raise, popped per send; accepted once it is empty). ``during_send`` runs inside
    the provider call, to look at the database at that moment or change it."""

    sent: list[Outgoing] = field(default_factory=list)
    script: list[BaseException] = field(default_factory=list)
    settings_seen: list[dict] = field(default_factory=list)
    during_send: object = None
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, settings: dict) -> RecordingAdapter:
        self.settings_seen.append(settings)
        return RecordingAdapter(self)

    def ids(self) -> Counter:
        with self.lock:
            return Counter(o.message_id for o in self.sent)


class RecordingAdapter:
    channel = "any"

    def __init__(self, box: RecordingChannel) -> None:
        self.box = box

    def send(self, outgoing: Outgoing) -> SendResult:
        with self.box.lock:
            self.box.sent.append(outgoing)
            error = self.box.script.pop(0) if self.box.script else None
        if self.box.during_send is not None:
            self.box.during_send(outgoing)
        if self.box.delay_s:
            time.sleep(self.box.delay_s)
        if error is not None:
            raise error
        return SendResult(provider_id=f"rec-{outgoing.message_id}")


class HttpSmsAdapter:
    """A minimal generic-HTTP SMS gateway adapter (the killed-worker test's channel)."""

    channel = "sms"

    def __init__(self, settings: dict) -> None:
        self.url = settings["url"]
        self.api_key = settings.get("api_key", "")
        self.sender = settings.get("sender", "")

    def send(self, outgoing: Outgoing) -> SendResult:
        body = json.dumps(
            {
                "to": outgoing.to,
                "message": outgoing.body,
                "sender": self.sender,
                "reference": str(outgoing.message_id),
            }
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.api_key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return SendResult(provider_id=str(json.loads(response.read())["id"]))
        except urllib.error.HTTPError as exc:
            raise SendError(f"HTTP {exc.code}", retryable=exc.code >= 500) from exc
        except OSError as exc:
            raise SendError(str(exc), retryable=True) from exc


@dataclass
class SmsGateway:
    """A local HTTP server standing in for the SMS gateway: records each message's reference
    as it arrives, then answers after ``delay_s``. ``arrived`` is set when the
    ``signal_after``-th message has arrived (while its answer is still pending)."""

    url: str = ""
    api_key: str = "test-key"
    delay_s: float = 0.0
    signal_after: int = 0
    references: list[str] = field(default_factory=list)
    bad_auth: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.references)


def _handler(gateway: SmsGateway):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server API)
            data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with gateway.lock:
                if self.headers.get("Authorization") != f"Bearer {gateway.api_key}":
                    gateway.bad_auth += 1
                gateway.references.append(data["reference"])
                if len(gateway.references) == gateway.signal_after:
                    gateway.arrived.set()
            if gateway.delay_s:
                time.sleep(gateway.delay_s)
            reply = json.dumps({"id": f"gw-{data['reference']}", "status": "accepted"}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:  # the worker was killed while waiting for this answer
                pass

        def log_message(self, format, *args):  # keep the test output quiet
            pass

    return Handler


def sms_gateway_start() -> tuple[SmsGateway, ThreadingHTTPServer]:
    gateway = SmsGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return gateway, server


def _database_url() -> str:
    """The test database, as a URL the worker process can use."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_process(*args: str) -> subprocess.Popen:
    """The worker in a process of its own on the test database (see :mod:`.worker_runner`),
    with :class:`HttpSmsAdapter` as its SMS channel; in a new session, so that it and its
    children can be stopped together."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs the tasks it queues with it
        "LANGGANAN_TEST_ADAPTERS": "sms=tests.campaigns.delivery.support.HttpSmsAdapter",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.delivery.worker_runner", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
