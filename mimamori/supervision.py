"""Keeping the parts of ``serve`` and ``worker`` running: no part ends unnoticed.

Each part (delivery, the chat bots, the mailbox reader) already rides out its peers going away;
a part that still ends with an exception is a bug. It is logged with its traceback and started
again after a pause, so one bad moment does not stop notices. A part that keeps failing (more
than ``RESTARTS`` times in ``WINDOW_SECONDS``) ends the whole process with a non-zero status,
so the service manager (systemd's ``Restart=``) restarts it and the operator sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress

from core.errors import ExplainedError
from core.i18n import _

log = logging.getLogger(__name__)

RESTARTS = 5
WINDOW_SECONDS = 300.0
MAX_PAUSE_SECONDS = 30.0


class PartFailed(ExplainedError):
    """A part kept failing: the process ends with a non-zero status."""


class Supervisor:
    def __init__(self, stop: asyncio.Event, *, first_pause: float = 1.0) -> None:
        self._stop = stop
        self._first_pause = first_pause
        self.gave_up: str | None = None  # the part that ended the process

    async def keep(self, part: str, start: Callable[[], Awaitable[None]]) -> None:
        """Run ``start()`` until ``stop``; a part that returns by itself (nothing to do) stays ended."""
        crashes: deque[float] = deque()
        while not self._stop.is_set():
            try:
                await start()
                return
            except Exception:  # noqa: BLE001 - a part's bug must not end the others unnoticed
                now = time.monotonic()
                crashes.append(now)
                while crashes and crashes[0] < now - WINDOW_SECONDS:
                    crashes.popleft()
                if len(crashes) > RESTARTS:
                    log.critical(
                        "%s failed %d times in %.0f s: ending the process",
                        part,
                        len(crashes),
                        WINDOW_SECONDS,
                        exc_info=True,
                    )
                    self.gave_up = self.gave_up or part
                    self._stop.set()
                    return
                pause = min(self._first_pause * 2 ** (len(crashes) - 1), MAX_PAUSE_SECONDS)
                log.error("%s stopped with an error; starting it again in %.0f s", part, pause, exc_info=True)
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)

    def check(self) -> None:
        """After the parts have ended: raise ``PartFailed`` if one of them ended the process."""
        if self.gave_up:
            raise PartFailed(
                _(
                    "%(part)s kept failing: stopped so that the service manager starts it again.",
                    part=self.gave_up,
                )
            )
