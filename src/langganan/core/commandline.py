"""What every ``langganan`` command shares (no Django import: commands load before setup)."""

from __future__ import annotations

import functools

import click

ERR_NOT_MIGRATED = "the database has no tables yet: run `langganan migrate` first"


def domain_errors(func):
    """Turn domain errors (and a database that was never migrated) into ``Error: …`` and exit
    status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from django.db import OperationalError, ProgrammingError

        from langganan.core.errors import LanggananError

        try:
            return func(*args, **kwargs)
        except LanggananError as exc:
            raise click.ClickException(exc.message) from exc
        except (OperationalError, ProgrammingError) as exc:
            text = str(exc)
            if "no such table" in text or ("relation" in text and "does not exist" in text):
                raise click.ClickException(ERR_NOT_MIGRATED) from exc
            raise

    return wrapper
