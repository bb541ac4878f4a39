"""Sign-in protection: failed staff logins and wrong API keys are counted in the database and
lead to locks; password checks are bounded so that a flood of logins cannot take the CPU that
the tills need.

Policy (each number is a setting, see ``config/settings.py``):

* **Staff login, per account**: ``LOGIN_FAILURES_PER_ACCOUNT`` (5) wrong passwords for one
  username within ``LOGIN_FAILURE_WINDOW`` (15 minutes) lock that username for
  ``LOGIN_LOCK_DURATION`` (15 minutes), whatever the address.
* **Staff login, per address**: ``LOGIN_FAILURES_PER_ADDRESS`` (20) wrong passwords from one
  IP address within the window, whichever usernames, lock every login from that address for the
  same time.
* A locked attempt is refused before any password is checked, with the time left in the
  message ("Coba lagi dalam 15 menit"); failures counted toward the next lock start after the
  last lock ended or was lifted. A successful login clears its account's failures.
* **API keys, per address**: ``API_KEY_FAILURES_PER_ADDRESS`` (20) wrong keys from one address
  within ``API_KEY_FAILURE_WINDOW`` (10 minutes) answer every request from that address with
  429 and ``Retry-After`` for ``API_KEY_LOCK_DURATION`` (10 minutes). A valid key writes and
  reads nothing more: the check before it is a dictionary look-up in the worker's memory,
  filled when a wrong key finds the address locked.
* **Lifting**: the merchant's owner lifts an account's lock on the staff page
  (``/m/<merchant>/staff/``); ``langganan user unlock USERNAME`` or ``--address IP`` from the
  command line.
* **Password checks**: at most ``LOGIN_CONCURRENT_PASSWORD_CHECKS`` (1) run at once on the
  machine (a file lock shared by all worker processes); a login that cannot get a slot within
  ``LOGIN_PASSWORD_CHECK_WAIT`` (0 s: a sync worker that waited would be a worker the tills
  lose) is answered 429 "coba lagi" without checking. The check itself runs at the lowest CPU
  priority (:mod:`langganan.staff.hashers`).

The address is the connection's (``REMOTE_ADDR``); behind ``TRUSTED_PROXIES`` reverse proxies
it is read from that many places from the right of ``X-Forwarded-For``.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Kind, Scope, SignInFailure, SignInLock

try:  # POSIX (gunicorn runs only there); elsewhere the bound is per process
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

KEEP_FAILURES = timedelta(days=1)
KEEP_LOCKS = timedelta(days=90)
MEMORY_RECHECK = 60.0  # seconds a worker trusts its memory of a locked address
MEMORY_MAX = 10_000


def _setting(name: str, default):
    return getattr(settings, name, default)


@dataclass(frozen=True)
class Policy:
    per_account: int
    per_address: int
    window: timedelta
    duration: timedelta


def login_policy() -> Policy:
    return Policy(
        per_account=_setting("LOGIN_FAILURES_PER_ACCOUNT", 5),
        per_address=_setting("LOGIN_FAILURES_PER_ADDRESS", 20),
        window=_setting("LOGIN_FAILURE_WINDOW", timedelta(minutes=15)),
        duration=_setting("LOGIN_LOCK_DURATION", timedelta(minutes=15)),
    )


def api_key_policy() -> Policy:
    return Policy(
        per_account=0,
        per_address=_setting("API_KEY_FAILURES_PER_ADDRESS", 20),
        window=_setting("API_KEY_FAILURE_WINDOW", timedelta(minutes=10)),
        duration=_setting("API_KEY_LOCK_DURATION", timedelta(minutes=10)),
    )


def client_address(request) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or ``X-Forwarded-For`` behind trusted proxies."""
    address = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = int(_setting("TRUSTED_PROXIES", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        if hops:
            address = hops[-proxies] if len(hops) >= proxies else hops[0]
    return address[:45]


def account_key(username: str) -> str:
    """Failures are counted per username regardless of case and surrounding spaces."""
    return (username or "").strip().casefold()[:150]


def seconds_left(lock: SignInLock, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return max(1, math.ceil((lock.until - now).total_seconds()))


def minutes_left(lock: SignInLock, now: datetime | None = None) -> int:
    return max(1, math.ceil(seconds_left(lock, now) / 60))


# -- reads ---------------------------------------------------------------------------------------


def _active(kind: str, now: datetime):
    return SignInLock.objects.filter(kind=kind, until__gt=now, lifted_at__isnull=True)


def login_lock_get(*, username: str, address: str) -> SignInLock | None:
    """The lock that refuses this login now (the account's or the address's), if any."""
    now = timezone.now()
    locks = _active(Kind.LOGIN, now).filter(
        Q(scope=Scope.ACCOUNT, value=account_key(username)) | Q(scope=Scope.ADDRESS, value=address)
    )
    return locks.order_by("-until").first()


def account_locks(*, usernames: list[str]) -> dict[str, SignInLock]:
    """The active account lock of each of ``usernames`` that has one (keyed by username)."""
    keys = {account_key(name): name for name in usernames}
    found: dict[str, SignInLock] = {}
    locks = _active(Kind.LOGIN, timezone.now()).filter(scope=Scope.ACCOUNT, value__in=list(keys))
    for lock in locks.order_by("until"):
        found[keys[lock.value]] = lock
    return found


# -- writes --------------------------------------------------------------------------------------


def _counting_since(kind: str, scope: str, value: str, now: datetime, window: timedelta):
    """Failures count from the window's start, or from the end of the last lock if later."""
    since = now - window
    last = (
        SignInLock.objects.filter(kind=kind, scope=scope, value=value)
        .order_by("-created_at")
        .first()
    )
    if last is not None:
        ended = min(last.until, last.lifted_at or last.until)
        since = max(since, ended)
    return since


def _maybe_lock(kind, scope, value, field, limit, policy, now) -> SignInLock | None:
    if limit <= 0 or not value:
        return None
    since = _counting_since(kind, scope, value, now, policy.window)
    count = SignInFailure.objects.filter(kind=kind, at__gt=since, **{field: value}).count()
    if count < limit:
        return None
    lock = SignInLock.objects.create(
        kind=kind,
        scope=scope,
        value=value,
        created_at=now,
        until=now + policy.duration,
        failures=count,
    )
    SignInFailure.objects.filter(at__lt=now - KEEP_FAILURES).delete()  # rare: at each lock
    SignInLock.objects.filter(until__lt=now - KEEP_LOCKS).delete()
    return lock


@transaction.atomic
def login_failure_record(*, username: str, address: str) -> SignInLock | None:
    """Count one wrong password; the lock it leads to (the account's or the address's)."""
    now = timezone.now()
    policy = login_policy()
    user = account_key(username)
    SignInFailure.objects.create(kind=Kind.LOGIN, address=address, username=user, at=now)
    locks = [
        _maybe_lock(Kind.LOGIN, Scope.ACCOUNT, user, "username", policy.per_account, policy, now),
        _maybe_lock(Kind.LOGIN, Scope.ADDRESS, address, "address", policy.per_address, policy, now),
    ]
    found = [lock for lock in locks if lock is not None]
    return max(found, key=lambda lock: lock.until) if found else None


def login_success_record(*, username: str) -> None:
    """A correct password clears its account's failures (not its address's)."""
    SignInFailure.objects.filter(kind=Kind.LOGIN, username=account_key(username)).delete()


@transaction.atomic
def lock_lift(*, username: str | None = None, address: str | None = None, by=None) -> int:
    """Lift the active login locks of ``username`` (and/or the locks of ``address``, logins and
    API keys); the number lifted."""
    now = timezone.now()
    lifted = 0
    if username:
        user = account_key(username)
        lifted += (
            _active(Kind.LOGIN, now)
            .filter(scope=Scope.ACCOUNT, value=user)
            .update(lifted_at=now, lifted_by=by)
        )
        SignInFailure.objects.filter(kind=Kind.LOGIN, username=user).delete()
    if address:
        lifted += SignInLock.objects.filter(
            scope=Scope.ADDRESS, value=address, until__gt=now, lifted_at__isnull=True
        ).update(lifted_at=now, lifted_by=by)
        _blocked.pop(address, None)
        _blocked.pop(("login", address), None)
    return lifted


# -- API keys ------------------------------------------------------------------------------------

#: address (API) or ("login", address) → (locked until, recheck after), both time.time()
_blocked: dict = {}
_blocked_lock = threading.Lock()


def _remember(key, until: datetime) -> None:
    with _blocked_lock:
        if len(_blocked) >= MEMORY_MAX:
            now = time.time()
            for old in [k for k, (end, check) in _blocked.items() if min(end, check) <= now]:
                _blocked.pop(old, None)
            if len(_blocked) >= MEMORY_MAX:
                _blocked.clear()
        _blocked[key] = (until.timestamp(), time.time() + MEMORY_RECHECK)


def _remembered(key) -> int:
    """Seconds the worker remembers ``key`` locked for (0: not locked, or time to re-check)."""
    entry = _blocked.get(key)
    if entry is None:
        return 0
    now = time.time()
    until, recheck = entry
    if now >= until or now >= recheck:
        _blocked.pop(key, None)
        return 0
    return max(1, math.ceil(until - now))


def forget_all() -> None:
    """Forget every remembered lock (tests; a worker otherwise re-checks within a minute)."""
    with _blocked_lock:
        _blocked.clear()


def api_key_wait(address: str) -> int:
    """Seconds the address must wait before its next API request (memory only; 0: go on)."""
    return _remembered(address)


def api_key_failure_record(*, address: str) -> int:
    """Count one wrong API key from ``address``; the seconds it must now wait (0: none)."""
    now = timezone.now()
    lock = _active(Kind.API_KEY, now).filter(scope=Scope.ADDRESS, value=address).first()
    if lock is None:
        policy = api_key_policy()
        with transaction.atomic():
            SignInFailure.objects.create(kind=Kind.API_KEY, address=address, at=now)
            lock = _maybe_lock(
                Kind.API_KEY, Scope.ADDRESS, address, "address", policy.per_address, policy, now
            )
    if lock is None:
        return 0
    _remember(address, lock.until)
    return seconds_left(lock, now)


def login_address_wait(address: str) -> int:
    """Seconds a login from ``address`` must wait, as this worker remembers it (0: go on)."""
    return _remembered(("login", address))


def login_address_remember(lock: SignInLock) -> None:
    if lock.scope == Scope.ADDRESS:
        _remember(("login", lock.value), lock.until)


# -- the password check's CPU --------------------------------------------------------------------


@contextlib.contextmanager
def password_check_slot() -> Iterator[bool]:
    """Yield True while holding one of the machine's password-check slots, False when none
    came free within ``LOGIN_PASSWORD_CHECK_WAIT`` seconds (the login is then refused)."""
    slots = max(1, int(_setting("LOGIN_CONCURRENT_PASSWORD_CHECKS", 1)))
    wait = float(_setting("LOGIN_PASSWORD_CHECK_WAIT", 0))
    deadline = time.monotonic() + wait
    folder = Path(settings.DATA_DIR) / "password-check-slots"
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(slots):
            held = _take_slot(folder / f"{index}.lock")
            if held is None:
                continue
            try:
                yield True
            finally:
                held()
            return
        if time.monotonic() >= deadline:
            yield False
            return
        time.sleep(0.01)


_thread_slots = threading.BoundedSemaphore(1)


def _take_slot(path: Path):
    """Lock ``path`` without waiting; the function that releases it, or None when taken."""
    if fcntl is None:  # pragma: no cover
        return _thread_slots.release if _thread_slots.acquire(blocking=False) else None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None

    def release() -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    return release
