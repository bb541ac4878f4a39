"""The password hasher: Argon2id with OWASP's minimum parameters.

Measured on this project's 2-core test machine (``bench/password_hash.py``): Django's default
PBKDF2 (1,000,000 iterations) costs about 250 ms of CPU per check on an idle machine (0.9 s was
seen under load); Django's default Argon2 (100 MiB, 2 passes, 8 lanes) about 115 ms and both
cores; this one (19 MiB, 2 passes, 1 lane: OWASP's Password Storage Cheat Sheet's first
option) about 20 ms on one core, while still costing an attacker with a GPU 19 MiB of memory
per guess. Hashes made by other hashers (PBKDF2 from before) are still accepted and are
re-hashed with this one at the user's next successful login (Django does that).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class StaffArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, m = 19 MiB, t = 2, p = 1 (the algorithm name stays ``argon2``)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
