"""Password storage.

Passwords people choose are hashed with Argon2id at or above OWASP's minimum (19 MiB, t=2, p=1)
and rehashed at login when the parameters change.

One-time passwords (initial and reset) are ours: about 59 random bits, never chosen by a person.
Stretching adds nothing to a random secret that size, and at ~23 ms a hash a city's roster
(thousands of guardians) could not be imported in a minute, so they are stored as a keyed HMAC
(the blind-index key) and replaced by an Argon2id hash at the forced first change.
"""

from __future__ import annotations

import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.blind_indexes import Purpose
from core.config import AccountSettings
from core.identifiers import compact_code, new_one_time_password
from core.sealing import Sealer

ONE_TIME_PREFIX = "otp$"


class Passwords:
    """Hashing and checking; the Argon2 calls block for ~20 ms, so callers run them in a thread."""

    def __init__(self, settings: AccountSettings, sealer: Sealer) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._sealer = sealer

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def issue_one_time(self) -> tuple[str, str]:
        """A new one-time password and its stored form."""
        password = new_one_time_password()
        return password, self._one_time_form(password)

    def verify(self, stored: str, candidate: str) -> bool:
        if stored.startswith(ONE_TIME_PREFIX):
            return hmac.compare_digest(stored, self._one_time_form(candidate))
        try:
            return self._hasher.verify(stored, candidate)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return not stored.startswith(ONE_TIME_PREFIX) and self._hasher.check_needs_rehash(stored)

    @staticmethod
    def is_one_time(stored: str) -> bool:
        return stored.startswith(ONE_TIME_PREFIX)

    def _one_time_form(self, password: str) -> str:
        return ONE_TIME_PREFIX + self._sealer.blind_index(Purpose.ONE_TIME_PASSWORD, compact_code(password))
