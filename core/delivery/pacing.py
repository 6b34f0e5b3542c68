"""How fast the worker sends: the spaced limiter of a transport, and the adaptive pace of a lane."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


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


class Pace:
    """A lane's rate, kept under what its receiver takes (AIMD), with room kept from bulk.

    It starts at the configured rate (0: unlimited). When the receiver says to slow down
    (``throttled``: SMTP 421, a 4.7.x rate limit) the lane stops for a pause, then goes on at half
    the rate it had (an unlimited lane: half what it started in this second or the last); every success
    then adds back RECOVERY of the configured rate (or of the rate first throttled, when there is
    none) a second, so even from the bottom the lane is back in twenty seconds. Refusals during a
    pause answer for the same burst and count once.

    Bulk (broadcasts) may start only ``bulk_share`` of the rate, and only while nothing that ranks
    above it waits: that goes first, at up to the whole rate, and waits at most one interval.
    Spaced by when sends really start, as ``SpacedLimiter``.
    """

    PAUSE = 1.0  # seconds, when the receiver did not say how long
    RECOVERY = 0.05
    LOWEST = 0.5  # a second: never slower than one mail every two seconds

    def __init__(self, rate: float, bulk_share: float = 1.0, *, adapts: bool = True) -> None:
        self._configured = rate
        self._rate = rate
        self._bulk_share = bulk_share
        self._adapts = adapts
        self._recovering_to = 0.0  # after a throttle: the rate to climb back to
        self._paused_until = -math.inf
        self._last = self._last_bulk = -math.inf
        self._lock, self._bulk_lock = asyncio.Lock(), asyncio.Lock()
        self._above = 0  # sends above bulk waiting for the lane
        self._none_above = asyncio.Event()
        self._none_above.set()
        self._second, self._in_second, self._in_last_second = 0, 0, 0  # starts, counted while unlimited

    @property
    def rate(self) -> float:
        """Mails a second now; 0: unlimited."""
        return self._rate

    def resumes_in(self) -> float:
        """Seconds until the lane sends again after a throttle (0: it does now)."""
        return max(0.0, self._paused_until - time.monotonic())

    async def wait(self, *, bulk: bool) -> None:
        """Until this lane may start one more send."""
        if not self._rate and time.monotonic() >= self._paused_until:
            self._note_start()
            return
        if not bulk:
            self._above += 1
            self._none_above.clear()
            try:
                async with self._lock:
                    await self._until(lambda: self._last + self._interval())
                    self._last = time.monotonic()
            finally:
                self._above -= 1
                if not self._above:
                    self._none_above.set()
            return
        async with self._bulk_lock:
            await self._until(lambda: self._last_bulk + self._interval() / self._bulk_share)
            while True:
                await self._none_above.wait()
                async with self._lock:
                    await self._until(lambda: self._last + self._interval())
                    if not self._above:  # else one came meanwhile: it goes first
                        self._last = self._last_bulk = time.monotonic()
                        return

    def throttled(self, pause: float | None = None) -> None:
        """The receiver asked us to slow down (for ``pause`` seconds, if it said)."""
        now = time.monotonic()
        if not self._adapts or now < self._paused_until:
            return
        self._paused_until = now + (pause if pause is not None else self.PAUSE)
        current = self._rate or max(float(max(self._in_second, self._in_last_second)), 2 * self.LOWEST)
        self._recovering_to = self._recovering_to or self._configured or current
        self._rate = max(self.LOWEST, current / 2)

    def succeeded(self) -> None:
        """One more mail taken: the rate climbs back (RECOVERY of its goal a second)."""
        if not self._recovering_to:
            return
        self._rate += self.RECOVERY * self._recovering_to / self._rate
        if self._rate >= self._recovering_to:
            self._rate, self._recovering_to = self._configured, 0.0  # unlimited again, if it was

    def _interval(self) -> float:
        return SpacedLimiter.MARGIN / self._rate if self._rate else 0.0

    async def _until(self, due: Callable[[], float]) -> None:
        # read again after each sleep: a throttle meanwhile moves the pause and the interval
        while (wait := max(self._paused_until, due()) - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def _note_start(self) -> None:
        second = int(time.monotonic())
        if second != self._second:
            self._in_last_second = self._in_second if second == self._second + 1 else 0
            self._second, self._in_second = second, 0
        self._in_second += 1
