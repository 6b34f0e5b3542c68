"""The one rate limiter of every transport: calls spaced by when they really start, never catching up."""

from __future__ import annotations

import asyncio
import time


class SpacedLimiter:
    """At least ``1/rate`` seconds between the starts of any two calls (0: unlimited), never catching up.

    Evenly spaced slots reserved in advance burst after the event loop stalls: every slot that
    passed meanwhile fires at once. Telegram, LINE and mail servers count calls a second as they
    arrive, so calls are spaced by when they really start.
    """

    MARGIN = 1.05  # 5% under the limit, so jitter on the way cannot push a second over it

    def __init__(self, rate: float) -> None:
        self._interval = self.MARGIN / rate if rate > 0 else 0.0
        self._last = -float("inf")
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            wait = self._last + self._interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last = time.monotonic()
