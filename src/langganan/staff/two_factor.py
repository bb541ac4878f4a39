"""Optional two-factor login for owners: a TOTP code (RFC 6238, any authenticator app) after
the password, with django-otp's TOTP devices.

An owner turns it on at ``/m/<merchant>/staff/two-factor/``: the page shows a QR code of the
secret, and the first code the app shows confirms it. From then on a correct password leads to
a second page asking for the current code; the login happens only when the code is right.
A wrong code counts as a failed login of that account (:mod:`langganan.staff.guard`: five lock
it), and django-otp's own throttle doubles the wait after each wrong code.
"""

from __future__ import annotations

import base64
import io

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from langganan.core.errors import InvalidInput

DEVICE_NAME = "Aplikasi autentikator"
ERR_CODE_WRONG = "that code is not right; check the time on the phone and try the current code"


def totp_device_confirmed(*, user) -> TOTPDevice | None:
    """The user's confirmed authenticator, if two-factor login is on for them."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def totp_device_pending(*, user) -> TOTPDevice:
    """The authenticator being set up (not yet confirmed), made once and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_verify(*, device: TOTPDevice, code: str) -> bool:
    """Whether ``code`` is the device's current code (django-otp throttles wrong ones)."""
    code = "".join((code or "").split())
    if not code.isdigit() or len(code) != device.digits:
        return False
    return bool(device.verify_token(code))


@transaction.atomic
def totp_confirm(*, user, code: str) -> TOTPDevice:
    """Turn two-factor login on with the pending device, once ``code`` proves the app has it."""
    device = totp_device_pending(user=user)
    if not totp_verify(device=device, code=code):
        raise InvalidInput(ERR_CODE_WRONG, field="code")
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


@transaction.atomic
def totp_disable(*, user, code: str) -> None:
    """Turn two-factor login off; it takes a current code, as logging in does."""
    device = totp_device_confirmed(user=user)
    if device is None:
        return
    if not totp_verify(device=device, code=code):
        raise InvalidInput(ERR_CODE_WRONG, field="code")
    TOTPDevice.objects.filter(user=user).delete()


def totp_secret(device: TOTPDevice) -> str:
    """The secret as an app takes it typed in (base32, in groups of four)."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    import segno

    out = io.BytesIO()
    segno.make_qr(device.config_url, error="m").save(
        out, kind="svg", scale=4, xmldecl=False, svgclass="totp-qr", lineclass=None
    )
    return out.getvalue().decode()
