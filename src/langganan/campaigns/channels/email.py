"""Email through Django's mail framework (its SMTP backend in production).

Each message is a plain-text email (UTF-8) with:

- ``Message-ID`` derived from the outbox message id (the same on every retry) and
  ``X-Langganan-Message: <id>``, so a receiver or a mail log can spot a message sent twice;
- ``Reply-To`` from the account's ``reply_to`` (a string or a list);
- ``List-Unsubscribe: <opt-out URL>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 2369 and RFC 8058) when the message has an opt-out link, so mail apps show their own
  unsubscribe button and can opt out with one POST.

Account settings: ``from_email`` (default ``DEFAULT_FROM_EMAIL``), ``reply_to``, and for an SMTP
server of the merchant's own ``host``, ``port``, ``username``, ``password``, ``use_tls``,
``use_ssl``, ``timeout``. With a ``host`` the SMTP backend is used; without one the project's
``EMAIL_*`` settings and ``EMAIL_BACKEND`` apply.

Failures: no connection, a timeout, a dropped connection or a 4xx answer may succeed later
(retryable); a 5xx answer (recipient, sender or content refused, authentication failed) will not.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib

from django.conf import settings as django_settings
from django.core.mail import EmailMessage, get_connection

from .base import Outgoing, SendError, SendResult

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

ERR_NO_ADDRESS = "no email address to send to"
ERR_REFUSED = "the mail server refused the message ({code}): {reply}"
ERR_UNREACHABLE = "the mail server could not be reached: {error}"
ERR_NOT_SENT = "the mail backend did not send the message"


def message_id_header(*, message_id: int, from_email: str) -> str:
    """A ``Message-ID`` that is the same for every attempt of one outbox message and unique to
    this installation (keyed with ``SECRET_KEY``), in the sender's domain."""
    domain = from_email.rpartition("@")[2].strip(" >") or "localhost"
    tag = hmac.new(
        django_settings.SECRET_KEY.encode(), f"message-id:{message_id}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    return f"<langganan.{message_id}.{tag}@{domain}>"


def _reply_to(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _smtp_error(exc: smtplib.SMTPException) -> SendError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in exc.recipients.values()]
        replies = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
        )
        code = max(codes) if codes else 0
        return SendError(
            ERR_REFUSED.format(code=code, reply=replies), retryable=bool(codes) and code < 500
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError(
            ERR_REFUSED.format(code=exc.smtp_code, reply=_text(exc.smtp_error)),
            retryable=exc.smtp_code < 500,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendError(ERR_UNREACHABLE.format(error=exc), retryable=True)
    # SMTPNotSupportedError and the like: the account's settings need fixing
    return SendError(ERR_REFUSED.format(code="-", reply=exc), retryable=False)


class EmailAdapter:
    channel = "email"

    def __init__(self, settings: dict) -> None:
        self.settings = dict(settings or {})

    def connection(self):
        """A mail connection with the account's SMTP server, or the project's defaults."""
        s = self.settings
        if not s.get("host"):
            return get_connection(fail_silently=False)
        options = {
            "host": s["host"],
            "port": int(s.get("port") or 25),
            "username": s.get("username") or "",
            "password": s.get("password") or "",
            "use_tls": _flag(s.get("use_tls")),
            "use_ssl": _flag(s.get("use_ssl")),
            "timeout": float(s.get("timeout") or django_settings.EMAIL_TIMEOUT or 20),
        }
        return get_connection(SMTP_BACKEND, fail_silently=False, **options)

    def build(self, outgoing: Outgoing) -> EmailMessage:
        """The email for this message (not sent)."""
        from_email = str(self.settings.get("from_email") or django_settings.DEFAULT_FROM_EMAIL)
        headers = {
            "Message-ID": message_id_header(message_id=outgoing.message_id, from_email=from_email),
            "X-Langganan-Message": str(outgoing.message_id),
        }
        if outgoing.opt_out_url:
            headers["List-Unsubscribe"] = f"<{outgoing.opt_out_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return EmailMessage(
            subject=outgoing.subject,
            body=outgoing.body,
            from_email=from_email,
            to=[outgoing.to],
            reply_to=_reply_to(self.settings.get("reply_to")),
            headers=headers,
        )

    def send(self, outgoing: Outgoing) -> SendResult:
        if not outgoing.to.strip():
            raise SendError(ERR_NO_ADDRESS, retryable=False)
        email = self.build(outgoing)
        try:
            with self.connection() as connection:
                sent = connection.send_messages([email])
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except OSError as exc:  # refused, timed out, reset, TLS handshake failed
            error = f"{type(exc).__name__}: {exc}"
            raise SendError(ERR_UNREACHABLE.format(error=error), retryable=True) from exc
        if not sent:
            raise SendError(ERR_NOT_SENT, retryable=True)
        return SendResult(provider_id=email.extra_headers["Message-ID"])
