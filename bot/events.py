"""Processing a webhook event or bot update once, however often the platform redelivers it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from core.models import Channel, ChatEvent

KEEP_EVENTS = timedelta(days=7)  # LINE and Telegram give up redelivering long before this


async def handle_once(channel: Channel, event_id: str, handler: Callable[[], Awaitable[object]]) -> bool:
    """Run ``handler`` unless ``event_id`` was handled before; True when it ran.

    The event is marked first, so a concurrent redelivery is skipped; when the handler fails
    the mark is removed, so the platform's retry is processed.
    """
    try:
        await ChatEvent.create(channel=channel, event_id=event_id[:100])
    except IntegrityError:
        return False
    try:
        await handler()
    except BaseException:
        await ChatEvent.filter(channel=channel, event_id=event_id[:100]).delete()
        raise
    return True


async def forget_old_events(now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - KEEP_EVENTS
    return await ChatEvent.filter(received_at__lt=cutoff).delete()
