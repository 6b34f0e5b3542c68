"""Time-based one-time codes (RFC 6238) for staff, support and administrators' second factor."""

from __future__ import annotations

import base64
import secrets
import time
import unicodedata
from datetime import UTC, datetime

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from core.i18n import _
from core.models import StaffAccount

ISSUER = "Mimamori"
STEP = 30
DIGITS = 6
_WINDOW = 1  # one step either side, for a clock a little off
TOO_MANY_ATTEMPTS = _("Too many attempts: wait a while.")
WRONG_CODE = _("The code is wrong or already used.")


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _totp(secret: str) -> TOTP:
    return TOTP(base64.b32decode(secret), DIGITS, SHA1(), STEP, enforce_key_length=False)


def code_at(secret: str, moment: float) -> str:
    return _totp(secret).generate(moment).decode("ascii")


def provisioning_uri(secret: str, login_id: str) -> str:
    return _totp(secret).get_provisioning_uri(login_id, ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG of the enrolment QR code (no script, no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#1d2430", light="#ffffff")


async def begin_enrolment(staff: StaffAccount) -> str:
    """A new secret for ``staff``, kept but not in force until a code from it is confirmed."""
    secret = new_secret()
    staff.totp_secret = secret
    staff.totp_enrolled_at = None
    staff.totp_last_step = None
    await staff.save(update_fields=["totp_secret", "totp_enrolled_at", "totp_last_step"])
    return secret


async def check_code(staff: StaffAccount, typed: str, *, now: float | None = None) -> bool:
    """Accept a current code once: a code already used (or an older one) is refused."""
    if not staff.totp_secret:
        return False
    code = "".join(c for c in unicodedata.normalize("NFKC", typed) if c.isdigit())
    if len(code) != DIGITS:
        return False
    now = time.time() if now is None else now
    current = int(now // STEP)
    for step in range(current - _WINDOW, current + _WINDOW + 1):
        if staff.totp_last_step is not None and step <= staff.totp_last_step:
            continue
        if secrets.compare_digest(code_at(staff.totp_secret, step * STEP), code):
            query = StaffAccount.filter(id=staff.id)
            if staff.totp_last_step is None:
                query = query.filter(totp_last_step__isnull=True)
            else:
                query = query.filter(totp_last_step=staff.totp_last_step)
            updated = await query.update(totp_last_step=step)
            if not updated:
                return False  # a concurrent request used it first
            staff.totp_last_step = step
            if staff.totp_enrolled_at is None:
                staff.totp_enrolled_at = datetime.now(UTC)
                await staff.save(update_fields=["totp_enrolled_at"])
            return True
    return False
