"""The email adapter against a real SMTP server (aiosmtpd on a local port)."""

from __future__ import annotations

import pytest

from langganan.campaigns.channels.base import Outgoing, SendError
from langganan.campaigns.channels.email import EmailAdapter
from tests.campaigns.channels.conftest import free_port

BODY = (
    "Halo Kak Rina, selamat ulang tahun! 🎂\n"
    "Ada kopi susu gula aren gratis untukmu minggu ini — tunjukkan kode ULTAH-7Q2 di kasir.\n"
    "Salam hangat, Warung Bu Sri"
)
OPT_OUT = "https://langganan.example/c/optout/abc123/"


def outgoing(**fields) -> Outgoing:
    values = {
        "message_id": 41,
        "to": "rina@example.id",
        "subject": "Selamat ulang tahun, Kak Rina 🎉",
        "body": BODY,
        "opt_out_url": OPT_OUT,
    }
    return Outgoing(**{**values, **fields})


def test_email_arrives_with_subject_body_and_sender(smtp_server):
    adapter = EmailAdapter(
        {**smtp_server.settings, "from_email": "Warung Bu Sri <halo@warungbusri.id>"}
    )

    result = adapter.send(outgoing())

    [mail] = smtp_server.messages()
    assert mail["Subject"] == "Selamat ulang tahun, Kak Rina 🎉"
    assert mail["From"] == "Warung Bu Sri <halo@warungbusri.id>"
    assert mail["To"] == "rina@example.id"
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == BODY
    assert mail.get_content_charset() == "utf-8"
    assert smtp_server.received[0].rcpt_tos == ["rina@example.id"]
    assert result.provider_id == mail["Message-ID"]


def test_email_names_its_outbox_message_so_duplicates_can_be_spotted(smtp_server):
    adapter = EmailAdapter({**smtp_server.settings, "from_email": "halo@warungbusri.id"})

    first = adapter.send(outgoing())
    again = adapter.send(outgoing())
    other = adapter.send(outgoing(message_id=42))

    mails = smtp_server.messages()
    assert [m["X-Langganan-Message"] for m in mails] == ["41", "41", "42"]
    assert first.provider_id == again.provider_id != other.provider_id
    assert first.provider_id.startswith("<langganan.41.")
    assert first.provider_id.endswith("@warungbusri.id>")


def test_email_with_opt_out_link_has_one_click_unsubscribe_headers(smtp_server):
    EmailAdapter(smtp_server.settings).send(outgoing())

    [mail] = smtp_server.messages()
    assert mail["List-Unsubscribe"] == f"<{OPT_OUT}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_email_without_opt_out_link_has_no_unsubscribe_headers(smtp_server):
    EmailAdapter(smtp_server.settings).send(outgoing(opt_out_url=""))

    [mail] = smtp_server.messages()
    assert mail["List-Unsubscribe"] is None
    assert mail["List-Unsubscribe-Post"] is None


def test_email_reply_to_comes_from_the_account(smtp_server):
    adapter = EmailAdapter({**smtp_server.settings, "reply_to": "pemilik@warungbusri.id"})

    adapter.send(outgoing())

    [mail] = smtp_server.messages()
    assert mail["Reply-To"] == "pemilik@warungbusri.id"


def test_account_without_smtp_settings_uses_the_project_mail_settings(smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.DEFAULT_FROM_EMAIL = "langganan@kedai.example"

    EmailAdapter({}).send(outgoing())

    [mail] = smtp_server.messages()
    assert mail["From"] == "langganan@kedai.example"


def test_recipient_refused_with_5xx_is_not_retried(smtp_server):
    smtp_server.rcpt_reply = "550 5.1.1 mailbox does not exist"

    with pytest.raises(SendError) as refused:
        EmailAdapter(smtp_server.settings).send(outgoing())

    assert refused.value.retryable is False
    assert "550" in str(refused.value)
    assert smtp_server.received == []


def test_recipient_deferred_with_4xx_is_retried(smtp_server):
    smtp_server.rcpt_reply = "451 4.7.1 greylisted, try again later"

    with pytest.raises(SendError) as deferred:
        EmailAdapter(smtp_server.settings).send(outgoing())

    assert deferred.value.retryable is True
    assert "451" in str(deferred.value)


def test_no_smtp_server_listening_is_retried():
    adapter = EmailAdapter({"host": "127.0.0.1", "port": free_port(), "timeout": 2})

    with pytest.raises(SendError) as unreachable:
        adapter.send(outgoing())

    assert unreachable.value.retryable is True
    assert "could not be reached" in str(unreachable.value)


def test_message_without_address_is_not_sent(smtp_server):
    with pytest.raises(SendError) as missing:
        EmailAdapter(smtp_server.settings).send(outgoing(to=" "))

    assert missing.value.retryable is False
    assert smtp_server.received == []
