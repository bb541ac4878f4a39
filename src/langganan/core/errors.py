"""Base errors. Every error carries a stable machine-readable code and a human message."""

from __future__ import annotations


class LanggananError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class NotFound(LanggananError):
    code = "not_found"


class InvalidInput(LanggananError):
    code = "invalid"


class Conflict(LanggananError):
    code = "conflict"
