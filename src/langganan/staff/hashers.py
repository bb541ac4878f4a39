"""The password hasher: Argon2id with OWASP's minimum parameters.

Measured on this project's 2-core test machine (``bench/login_flood.py``, BENCHMARKS.md):
Django's default PBKDF2 (1,000,000 iterations) costs 250–740 ms per check depending on the
machine's load (0.9 s was reported under load); Django's default Argon2 (100 MiB, 2 passes,
8 lanes) 115–650 ms and both cores; this one (19 MiB, 2 passes, 1 lane: OWASP's Password
Storage Cheat Sheet's first option) 20–35 ms on one core, while still costing an attacker
with a GPU 19 MiB of memory per guess. Hashes made by other hashers (PBKDF2 from before) are
still accepted and are re-hashed with this one at the user's next successful login (Django
does that).

The login's checks (inside :func:`login_checks`) run at the lowest CPU priority (nice 19, in a
thread of its own), so that the tills' requests, at normal priority, come first when the CPU is
short. Other hashing (``set_password`` in a command, a test's users) runs as usual.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class StaffArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, m = 19 MiB, t = 2, p = 1 (the algorithm name stays ``argon2``)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password, salt):
        # a login for an unknown username hashes once too (Django's timing defence)
        if getattr(_login, "checking", False):
            return at_low_priority(super().encode, password, salt)
        return super().encode(password, salt)

    def verify(self, password, encoded):
        if getattr(_login, "checking", False):
            return at_low_priority(super().verify, password, encoded)
        return super().verify(password, encoded)


# -- the checks' CPU priority --------------------------------------------------------------------

_login = threading.local()


@contextlib.contextmanager
def login_checks() -> Iterator[None]:
    """Password hashing inside this block (a login's check) runs at the lowest priority."""
    _login.checking = True
    try:
        yield
    finally:
        _login.checking = False


_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _lowest_priority() -> None:
    """Run this thread (only this one: Linux gives each thread its own nice value) at nice 19."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        pass


def at_low_priority(function, *args):
    """Run ``function(*args)`` in this process's password-check thread, at the lowest CPU
    priority: when the machine is busy serving the tills, a password check waits for spare
    CPU instead of taking it from them (argon2 releases the interpreter lock while it works).
    ``LOGIN_PASSWORD_CHECK_LOW_PRIORITY = False`` runs it in the calling thread."""
    global _executor, _executor_pid
    if not getattr(settings, "LOGIN_PASSWORD_CHECK_LOW_PRIORITY", True):
        return function(*args)
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():  # a forked worker makes its own
            _executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="password-check", initializer=_lowest_priority
            )
            _executor_pid = os.getpid()
        executor = _executor
    return executor.submit(function, *args).result()
