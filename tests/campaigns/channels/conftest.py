"""Real servers for the channel tests: an SMTP server (aiosmtpd) and an HTTP server standing in
for the WhatsApp Cloud API and an SMS gateway, each on a free local port in a thread."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from langganan.customers.services import consent_record
from tests.factories import CustomerFactory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server received, and how it answers recipients (``rcpt_reply``)."""

    host: str = "127.0.0.1"
    port: int = 0
    rcpt_reply: str = ""  # e.g. "550 5.1.1 no such user"; empty accepts
    received: list = field(default_factory=list)

    @property
    def settings(self) -> dict:
        return {"host": self.host, "port": self.port, "timeout": 5}

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(envelope.content, policy=email.policy.default)
            for envelope in self.received
        ]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.box.rcpt_reply:
            return self.box.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.box.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    box = Mailbox(port=free_port())
    controller = Controller(_Handler(box), hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


Answer = tuple[int, object]  # (status, JSON body or raw bytes)


@dataclass
class Provider:
    """An HTTP server that records requests and answers each with ``respond(request)``."""

    url: str = ""
    respond: Callable[[Request], Answer] = lambda request: (200, {})
    requests: list[Request] = field(default_factory=list)


def _http_handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Request("POST", self.path, dict(self.headers), body)
            provider.requests.append(request)
            status, answer = provider.respond(request)
            raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format, *args):  # keep the test output quiet
            pass

    return Handler


@pytest.fixture
def provider():
    box = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(box))
    server.daemon_threads = True
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def down_url():
    """An address where nothing listens: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"


# --- customers ----------------------------------------------------------------------------------


def consenting_customer(merchant, *, channels=("whatsapp",), **fields):
    """A customer of ``merchant`` who gave consent on ``channels`` at the counter."""
    customer = CustomerFactory(merchant=merchant, **fields)
    for channel in channels:
        consent_record(customer=customer, channel=channel, granted=True, source="counter")
    return customer
