"""Portal sessions: server-side, found by the hash of a 128-bit random cookie token.

A session ends after ``IDLE`` without a request or ``ABSOLUTE`` after login, whichever comes
first, and every session of an account ends when its password is changed or reset.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.models import Guardian, PortalSession, StaffAccount

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOKEN_BYTES = 16  # 128 bits
_TOUCH_EVERY = timedelta(seconds=30)  # spares a write per request


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie, never stored
    session: PortalSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


async def open_session(
    *,
    guardian: Guardian | None = None,
    staff: StaffAccount | None = None,
    second_factor_done: bool = False,
    now: datetime | None = None,
) -> OpenedSession:
    """A new session (a new token at every login, so a planted token never gets logged in)."""
    if (guardian is None) == (staff is None):
        raise ValueError("a session belongs to exactly one guardian or staff account")
    now = now or datetime.now(UTC)
    await purge_expired(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session = await PortalSession.create(
        token_hash=_hash(token),
        guardian=guardian,
        staff=staff,
        csrf_token=secrets.token_urlsafe(24),
        second_factor_done=second_factor_done,
        created_at=now,
        last_seen_at=now,
    )
    return OpenedSession(token, session)


async def purge_expired(now: datetime | None = None) -> int:
    """Forget sessions nobody will use again (abandoned browsers never log out)."""
    now = now or datetime.now(UTC)
    return (
        await PortalSession.filter(last_seen_at__lt=now - IDLE).delete()
        + await PortalSession.filter(created_at__lt=now - ABSOLUTE).delete()
    )


async def find_session(token: str | None, *, now: datetime | None = None) -> PortalSession | None:
    """The live session behind ``token`` (touched), or None; an expired one is deleted."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    session = await PortalSession.get_or_none(token_hash=_hash(token))
    if session is None:
        return None
    if now - session.last_seen_at > IDLE or now - session.created_at > ABSOLUTE:
        await session.delete()
        return None
    if now - session.last_seen_at > _TOUCH_EVERY:
        session.last_seen_at = now
        await PortalSession.filter(id=session.id).update(last_seen_at=now)
    return session


async def end_session(token: str | None) -> None:
    if token:
        await PortalSession.filter(token_hash=_hash(token)).delete()


async def end_all_sessions(*, guardian_id: int | None = None, staff_id: int | None = None) -> int:
    if guardian_id is not None:
        return await PortalSession.filter(guardian_id=guardian_id).delete()
    if staff_id is not None:
        return await PortalSession.filter(staff_id=staff_id).delete()
    return 0
