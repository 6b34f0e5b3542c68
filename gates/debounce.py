"""One passage per tag per gate until the tag has been silent for ``quiet_seconds``.

An active tag is read many times a second while its child is in range; each read restarts the
quiet period, so a child lingering at the gate is one passage, however long.
"""

from __future__ import annotations


class Debouncer:
    def __init__(self, quiet_seconds: float) -> None:
        self.quiet_seconds = quiet_seconds
        self._last_read: dict[str, float] = {}

    def admit(self, tag: str, now: float) -> bool:
        """Whether this read of ``tag`` at monotonic time ``now`` starts a new passage."""
        last = self._last_read.get(tag)
        self._last_read[tag] = now
        if len(self._last_read) > 10_000:
            self._forget_before(now - self.quiet_seconds)
        return last is None or now - last >= self.quiet_seconds

    def _forget_before(self, moment: float) -> None:
        self._last_read = {tag: at for tag, at in self._last_read.items() if at >= moment}
