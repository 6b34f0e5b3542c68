"""Lanes: the worker's notices in memory, one bounded buffer and pace per pacing group of a channel.

A channel says which group (lane) each address is in (``ChannelSpec.lane``: Japan's carriers and
Gmail for mail, one lane for a chat), and the outbox copies it onto every row. Each lane has its
own buffer, senders, rate and back-off, so a receiver that throttles us slows its lane alone: its
buffer fills, claims skip it (core.delivery.claims) and the other lanes go on at full speed.

Bulk (broadcasts: ``Priority.bulk``) may use only ``bulk_share`` of a lane's senders and rate; the
rest is kept for what ranks above it (passage notices, verification codes, answers), which also
waits in a line of its own and is taken first. So a passage notice to a docomo address goes out
within one slot even while a broadcast keeps docomo busy.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from core.channels import spec
from core.config import LanePace, Settings
from core.delivery.pacing import Pace
from core.models import Channel, Priority

T = TypeVar("T")

ROOM_SECONDS = 2.0  # a paced lane buffers this long's worth of its rate
# With lanes full of bulk, a claim for other lanes' bulk walks past every queued row of the full
# ones: it is made while the last one found some, else this often (a broadcast's 100,000 rows
# walked on every refill made sending 1,000 mails a second 17 % slower)
LOOK_AGAIN_SECONDS = 5.0


@dataclass(frozen=True)
class ClaimFilter:
    """What the next claim of a channel leaves in the outbox (core.delivery.claims.claim_batch)."""

    skip_lanes: list[str]  # full: nothing from these
    skip_bulk_lanes: list[str]  # full of bulk: no bulk from these
    bulk: bool  # any bulk at all


@dataclass(frozen=True)
class LaneShape:
    """How many senders a lane has, how many of them bulk may hold, and how much it buffers."""

    senders: int
    bulk_senders: int
    room: int  # notices of each line (bulk, the rest) before claims skip them


def paces(settings: Settings, channel: Channel) -> tuple[Mapping[str, LanePace], float]:
    """The lanes' paces a channel's settings section gives (``lanes``, ``bulk_share``); none: unpaced."""
    section: Any = getattr(settings, spec(channel).settings_section)
    return getattr(section, "lanes", {}), getattr(section, "bulk_share", 1.0)


def shape(pace: LanePace | None, *, channel_senders: int, bulk_share: float, batch_size: int) -> LaneShape:
    """A lane with a concurrency of its own keeps ``1 - bulk_share`` of it (one sender at least
    when it has two or more); one without shares the channel's senders, and the channel's slots
    let what ranks above bulk in first (``PrioritySlots``)."""
    if pace is None or not pace.concurrency:
        senders, bulk = channel_senders, channel_senders
    else:
        senders = pace.concurrency
        bulk = max(1, min(senders - 1, math.floor(senders * bulk_share))) if bulk_share < 1 else senders
    if pace is not None and pace.rate_per_second:
        room = max(4 * senders, math.ceil(pace.rate_per_second * ROOM_SECONDS))
    else:
        room = max(4 * senders, 2 * batch_size)
    return LaneShape(senders, bulk, room)


class Lane(Generic[T]):
    """One lane's notices in memory, in two lines: above bulk first, then bulk while fewer than its
    share of senders hold bulk."""

    def __init__(self, name: str, shape: LaneShape, pace: Pace) -> None:
        self.name = name
        self.shape = shape
        self.pace = pace
        self._lines: tuple[deque[T], deque[T]] = (deque(), deque())  # (above bulk, bulk)
        self._bulk_sending = 0
        self._changed = asyncio.Event()  # set on every put and every bulk send done: takers look again
        self._skipped = False  # a claim skipped this lane as full: say when it has room again
        self.senders_started = False  # the worker's, once

    def __len__(self) -> int:
        return len(self._lines[0]) + len(self._lines[1])

    def full(self, *, bulk: bool) -> bool:
        """Whether claims should skip this lane's rows (bulk ones, or all)."""
        full = len(self._lines[bulk]) >= self.shape.room
        self._skipped = self._skipped or full
        return full

    def put(self, item: T, *, bulk: bool) -> None:
        self._lines[bulk].append(item)
        self._changed.set()

    async def take(self) -> tuple[T, bool]:
        """The next item to send and whether it is bulk; call ``done`` when it has been sent."""
        while not self._ready():
            self._changed.clear()  # no await since the look: nothing set it meanwhile
            await self._changed.wait()
        bulk = not self._lines[0]
        if bulk:
            self._bulk_sending += 1
        return self._lines[bulk].popleft(), bulk

    def done(self, *, bulk: bool) -> None:
        if bulk:
            self._bulk_sending -= 1
            self._changed.set()

    def release_waiting(self) -> list[T]:
        """Everything not yet taken, removed from the lane."""
        waiting = [*self._lines[0], *self._lines[1]]
        for line in self._lines:
            line.clear()
        return waiting

    def room_made(self) -> bool:
        """True once after a lane that claims skipped has drained to half."""
        half = self.shape.room // 2
        if self._skipped and len(self._lines[0]) <= half and len(self._lines[1]) <= half:
            self._skipped = False
            return True
        return False

    def _ready(self) -> bool:
        return bool(self._lines[0]) or (bool(self._lines[1]) and self._bulk_sending < self.shape.bulk_senders)


class PrioritySlots:
    """At most ``size`` holders at once (a transport's connections); a waiter above bulk is let in
    before every bulk waiter, so a passage notice never queues behind a broadcast for a connection."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    async def acquire(self, *, bulk: bool) -> None:
        if self._free and not self._waiting[0] and not self._waiting[1]:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting[bulk].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # given the slot as it was cancelled: hand it on
            raise

    def release(self) -> None:
        for line in self._waiting:
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._free += 1


class ChannelLanes(Generic[T]):
    """A channel's lanes, made as its rows name them (a lane the settings do not pace is unpaced)."""

    def __init__(self, settings: Settings, channel: Channel, senders: int, *, paced: bool) -> None:
        self._lane_paces, self._bulk_share = paces(settings, channel) if paced else ({}, 1.0)
        self._senders = senders
        self._batch_size = settings.delivery.batch_size
        self._paced = paced
        self._bulk_found: set[str] = set()  # the lanes of the bulk the last claim found
        self._look_at = -math.inf
        self.lanes: dict[str, Lane[T]] = {}
        for name in spec(channel).lanes:
            self.lane(name)

    def lane(self, name: str) -> Lane[T]:
        """The lane ``name``, made on first sight (a row written before lanes has lane "")."""
        found = self.lanes.get(name)
        if found is None:
            pace = self._lane_paces.get(name)
            lane_shape = shape(
                pace, channel_senders=self._senders, bulk_share=self._bulk_share, batch_size=self._batch_size
            )
            rate = pace.rate_per_second if pace else 0.0
            found = self.lanes[name] = Lane(name, lane_shape, Pace(rate, self._bulk_share, adapts=self._paced))
        return found

    def __iter__(self) -> Iterator[Lane[T]]:
        return iter(list(self.lanes.values()))

    def claim_filter(self) -> ClaimFilter:
        """What the next claim should leave in the outbox."""
        skip = [lane.name for lane in self.lanes.values() if lane.full(bulk=False)]
        skip_bulk = [lane.name for lane in self.lanes.values() if lane.full(bulk=True)]
        bulk = not skip_bulk or bool(self._bulk_found - set(skip_bulk)) or time.monotonic() >= self._look_at
        return ClaimFilter(skip, skip_bulk, bulk)

    def claimed(self, claim: ClaimFilter, rows: Iterable[Any]) -> None:
        """Note what a claim made with ``claim`` found (rows with ``lane`` and ``priority``)."""
        if claim.bulk:
            self._bulk_found = {row.lane for row in rows if Priority.is_bulk(row.priority)}
            if claim.skip_bulk_lanes:
                self._look_at = time.monotonic() + LOOK_AGAIN_SECONDS
