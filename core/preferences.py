"""A guardian's notice preferences: pausing passage notices, quiet hours, language, and whether
passage stills are also sent into their chats (off by default: in a chat the still is stored on
LINE's or Telegram's servers, outside the city's system).

Quiet hours hold back passage notices only; broadcasts are never held (suspicious-person and
disaster alerts above all), see ``holds_passage_notice``.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from core import actors, audit
from core.errors import UserError
from core.i18n import _
from core.models import Guardian, Language
from core.zones import DEFAULT


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    """Whether a local time falls in quiet hours (which may span midnight)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


class PassagePreferences(Protocol):
    """What decides whether a passage notice is held: a ``Guardian``, or a row read for one."""

    # read-only, so that a frozen dataclass fits as well as a model
    @property
    def passages_paused(self) -> bool: ...
    @property
    def quiet_start(self) -> time | None: ...
    @property
    def quiet_end(self) -> time | None: ...


def holds_passage_notice(guardian: PassagePreferences, moment: datetime, timezone: ZoneInfo = DEFAULT) -> bool:
    """True when a passage notice for ``guardian`` should not be sent at ``moment``."""
    local = moment.astimezone(timezone).time()
    return guardian.passages_paused or in_quiet_hours(local, guardian.quiet_start, guardian.quiet_end)


def _parse_time(text: str) -> time | None:
    text = text.strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise UserError(_("Times look like 21:00 (not “%(text)s”).", text=text)) from None


async def language_of(guardian_id: int | None) -> Language | None:
    """The language ``guardian_id`` chose (None without a guardian): their pages', notices' and answers'."""
    guardian = await Guardian.filter(id=guardian_id).only("id", "language").first() if guardian_id else None
    return guardian.language if guardian is not None else None


async def update_preferences(
    guardian: Guardian, *, paused: bool, quiet_start: str, quiet_end: str, language: str
) -> None:
    start, end = _parse_time(quiet_start), _parse_time(quiet_end)
    if (start is None) != (end is None):
        raise UserError(_("Quiet hours need a start and an end."))
    try:
        guardian.language = Language(language)
    except ValueError:
        raise UserError(_("Choose a language.")) from None
    guardian.passages_paused = paused
    guardian.quiet_start, guardian.quiet_end = start, end
    await guardian.save(update_fields=["passages_paused", "quiet_start", "quiet_end", "language"])
    await audit.record(
        actors.guardian(guardian),
        "preferences.change",
        target=f"guardian:{guardian.id}",
        details={"paused": paused, "quiet": bool(start), "language": guardian.language.value},
    )


async def set_photos_in_chat(guardian: Guardian, on: bool, *, via: str) -> bool:
    """Opt ``guardian`` in to (or out of) stills in their chats; ``via`` names where they asked
    ("portal", "line", "telegram"). Returns whether anything changed; only a change is audited."""
    return await _set_choice(guardian, "photos_in_chat", on, via=via)


async def set_passages_paused(guardian: Guardian, paused: bool, *, via: str) -> bool:
    """Pause (or resume) ``guardian``'s passage notices, as 停止 / 再開 in a chat asks; audited
    like ``set_photos_in_chat``."""
    return await _set_choice(guardian, "passages_paused", paused, via=via)


async def set_attendance_alerts(guardian: Guardian, on: bool, *, via: str) -> bool:
    """Turn on (or off) the notices that a child was not seen at school by its check time; audited
    like ``set_photos_in_chat``."""
    return await _set_choice(guardian, "wants_attendance_alerts", on, via=via)


async def _set_choice(guardian: Guardian, field: str, value: bool, *, via: str) -> bool:
    if getattr(guardian, field) == value:
        return False
    setattr(guardian, field, value)
    await guardian.save(update_fields=[field])
    await audit.record(
        actors.guardian(guardian),
        f"preferences.{field}",
        target=f"guardian:{guardian.id}",
        details={field: value, "via": via},
    )
    return True
