"""A per-process copy of each merchant's settings rows, kept under the merchant's stamp.

A till's sale reads the same few rows every time: the program's earning and cashback rules,
its tiers, the merchant's webhook endpoints and counter-accounts. Read through the ORM they
were five of a member's sale's queries (about 5 ms of CPU on the API benchmark). They change
rarely, and every change gives the merchant row a new random ``settings_version`` (database
triggers, :mod:`langganan.core.settings_sql`), so a process can keep them between requests:

- a copy is used only when the caller's merchant object was read *in this request*
  (:func:`mark_fresh`, which the POS API's key check does), so its stamp is current; any
  other caller (the dashboard, the CLI, a test holding an old object) reads the database as
  before;
- the copy holds plain field values; every call gets new model instances built from them,
  so a caller that changes an object (a posting moves an account's balance) changes only its
  own.

A change commits → the next request reads the new stamp with the key → the copy is refilled.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model

__all__ = ["clear", "forget", "is_fresh", "mark_fresh", "rows"]

M = TypeVar("M", bound=Model)

_FRESH = "_settings_fresh"
_lock = threading.Lock()
#: (database alias, merchant id, what) → (stamp, model, attnames, rows of values)
_copies: dict[tuple[str, int, str], tuple[int, type[Model], list[str], list[tuple]]] = {}
_MAX_COPIES = 4096  # a process serving many merchants drops everything past this and refills


def mark_fresh(merchant: Model) -> None:
    """Say that ``merchant`` (and its ``settings_version``) was just read from the database."""
    setattr(merchant, _FRESH, True)


def is_fresh(merchant: Model) -> bool:
    return bool(getattr(merchant, _FRESH, False))


def rows(merchant: Any, what: str, load: Callable[[], Iterable[M]]) -> list[M]:
    """The instances ``load()`` returns, from this process's copy when ``merchant`` is fresh
    and its stamp has not changed since the copy was made (else ``load()`` is called, and its
    result kept when the merchant is fresh)."""
    if not is_fresh(merchant):
        return list(load())
    alias = merchant._state.db or "default"
    key = (alias, merchant.pk, what)
    found = _copies.get(key)
    if found is not None and found[0] == merchant.settings_version:
        _stamp, model, attnames, values = found
        return [model.from_db(alias, attnames, _thawed(v)) for v in values]
    loaded = list(load())
    if loaded:
        model = type(loaded[0])
        attnames = [f.attname for f in model._meta.concrete_fields]
        values = [copy.deepcopy(tuple(getattr(o, a) for a in attnames)) for o in loaded]
    else:
        model, attnames, values = Model, [], []
    with _lock:
        if len(_copies) >= _MAX_COPIES:
            _copies.clear()
        _copies[key] = (merchant.settings_version, model, attnames, values)
    return loaded


def _thawed(values: tuple) -> list:
    """The stored values for a new instance: the mutable ones (JSON lists and dicts) copied,
    the others (numbers, text, dates, decimals) shared."""
    return [copy.deepcopy(v) if isinstance(v, list | dict) else v for v in values]


def forget(merchant: Any, what: str) -> None:
    """Drop one copy: its rows changed in a way the stamp does not follow (a new
    counter-account). The change is not committed yet, so ``merchant`` stops being fresh: for
    the rest of its request it reads the database, and no copy is refilled with a row that a
    rollback could still take away."""
    setattr(merchant, _FRESH, False)
    with _lock:
        _copies.pop((merchant._state.db or "default", merchant.pk, what), None)


def clear() -> None:
    """Forget every copy (tests)."""
    with _lock:
        _copies.clear()
