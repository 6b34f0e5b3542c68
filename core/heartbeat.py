"""What each long-running part of this process last did: a round completed, or a round failed.

Loops call ``round_done`` / ``round_failed`` (cheap, in memory); readiness and ``status`` read
``parts()``. Names are fixed words ("delivery", "scheduler", "inbound", "telegram"), never data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class PartState:
    last_round_at: datetime | None = None  # wall clock, for people
    last_round: float | None = None  # monotonic, for ages
    failing_since: datetime | None = None
    reason: str | None = None  # a short, data-free description of the last failure
    extra: dict[str, object] = field(default_factory=dict)

    def age(self) -> float | None:
        """Seconds since the last completed round, or None if there was none."""
        return None if self.last_round is None else time.monotonic() - self.last_round


_parts: dict[str, PartState] = {}


def round_done(part: str) -> None:
    state = _parts.setdefault(part, PartState())
    state.last_round, state.last_round_at = time.monotonic(), datetime.now(UTC)
    state.failing_since = state.reason = None


def round_failed(part: str, reason: str) -> None:
    state = _parts.setdefault(part, PartState())
    if state.failing_since is None:
        state.failing_since = datetime.now(UTC)
    state.reason = reason


def parts() -> dict[str, PartState]:
    return dict(_parts)


def forget() -> None:
    """For tests: start again with no parts."""
    _parts.clear()
