"""How far a time a gate reports may be from ours: a passage or heartbeat dated past these bounds
is a broken clock or a forged request, refused with its reason rather than stored (a year-9999
time cannot even be shown in Tokyo time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

AHEAD = timedelta(days=1)  # a gate whose clock runs fast, before NTP corrects it
BEHIND = timedelta(days=366)  # a spooled passage from a gate that was cut off for long


def implausible(moment: datetime, now: datetime | None = None) -> str | None:
    """Why ``moment`` (timezone-aware) cannot be a gate's reading, or None when it can."""
    now = now or datetime.now(UTC)
    difference = moment - now  # aware arithmetic: no overflow where astimezone() would overflow
    if difference > AHEAD:
        return f"more than {AHEAD.days} day ahead of the server's clock"
    if -difference > BEHIND:
        return f"more than {BEHIND.days} days in the past"
    return None
