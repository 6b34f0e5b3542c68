"""One long-running loop's run of failures: logged once, retried with a capped backoff, its end
announced, and the part's heartbeat kept (``core.heartbeat``).

A database that is away is expected (a restart, a failover): one warning without a traceback.
Anything else is a bug: its traceback is logged once, and again only when the failure changes.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from core import heartbeat
from core.outage import is_database_outage

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 5.0


class Rounds:
    def __init__(
        self,
        part: str,
        log: logging.Logger,
        *,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.part = part
        self._log = log
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._delay = first_delay
        self._failing_since: float | None = None
        self._failures = 0
        self._last_kind: str | None = None

    @property
    def failing(self) -> bool:
        return self._failing_since is not None

    def ok(self) -> None:
        """A round completed."""
        if self._failing_since is not None:
            self._log.info(
                "%s: working again after %.1f s (%d failed rounds)",
                self.part,
                time.monotonic() - self._failing_since,
                self._failures,
            )
        self._failing_since, self._failures, self._last_kind = None, 0, None
        self._delay = self._first_delay
        heartbeat.round_done(self.part)

    def failed(self, exc: BaseException) -> float:
        """A round failed with ``exc``: logs it if it starts (or changes) a run of failures and
        returns how long to wait before the next round."""
        outage = is_database_outage(exc)
        kind = describe(exc)
        first = self._failing_since is None
        if first:
            self._failing_since = time.monotonic()
        self._failures += 1
        if first or (not outage and kind != self._last_kind):  # an outage's changing words: once
            if outage:
                self._log.warning(
                    "%s: the database is unavailable (%s); retrying every %.0f s at most",
                    self.part,
                    kind,
                    self._max_delay,
                )
            else:
                self._log.error("%s: a round failed (%s); retrying", self.part, kind, exc_info=exc)
        self._last_kind = kind
        heartbeat.round_failed(self.part, f"database unavailable: {kind}" if outage else kind)
        delay, self._delay = self._delay, min(self._delay * 2, self._max_delay)
        return delay


def describe(exc: BaseException) -> str:
    """The failure's kind, with no data in it: exception class names (the outermost and its root
    cause), and SQLite's own fixed wording ("database is locked"), which names no values."""
    root = exc
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    names = type(exc).__name__ if root is exc else f"{type(exc).__name__} from {type(root).__name__}"
    if isinstance(root, sqlite3.OperationalError) and len(str(root)) < 60:
        return f"{names}: {root}"
    return names
