"""Identifiers and secrets people read, type or click.

Login IDs and one-time passwords use an alphabet without look-alikes (no 0/O, 1/I/L), in upper
case, so a password read off paper is typed right the first time. Registration codes are digits
only: they are typed into chat apps on phones, often in full-width form.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

UNAMBIGUOUS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOGIN_ID_LENGTH = 8
ONE_TIME_PASSWORD_GROUPS = 3  # of four characters: about 59 bits
REGISTRATION_CODE_DIGITS = 12
TOKEN_BYTES = 24  # 192 bits, for links and sessions

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー・_]+")


def _random_text(length: int, alphabet: str = UNAMBIGUOUS) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_login_id() -> str:
    return _random_text(LOGIN_ID_LENGTH)


def new_one_time_password() -> str:
    """``ABCD-EFGH-JKMN``: typed with or without the dashes, in either case."""
    return "-".join(_random_text(4) for _ in range(ONE_TIME_PASSWORD_GROUPS))


def new_registration_code() -> str:
    """``1234 5678 9012``: the code a guardian sends to the bot or by mail to register."""
    digits = _random_text(REGISTRATION_CODE_DIGITS, "0123456789")
    return " ".join(digits[i : i + 4] for i in range(0, REGISTRATION_CODE_DIGITS, 4))


def new_token() -> str:
    """An opaque URL-safe token for links (photos, acknowledgements) and sessions."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def compact_code(text: str) -> str:
    """A typed code in canonical form: NFKC, separators and spaces removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def find_registration_code(text: str) -> str | None:
    """The first run of exactly 12 digits in ``text`` (digits may be spaced or full-width)."""
    folded = unicodedata.normalize("NFKC", text)
    match = re.search(r"(?<!\d)(\d(?:[ \-]?\d){11})(?![ \-]?\d)", folded)
    return compact_code(match.group(1)) if match else None
