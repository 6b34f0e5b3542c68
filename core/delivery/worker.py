"""The delivery worker: the only thing that sends.

It claims due rows in batches (most urgent first), composes them, hands them to the lane of each
row's address (core.delivery.lanes: its own senders, rate and back-off, with room kept from bulk),
and records outcomes in batches. Identical broadcast messages go to a multicast transport (LINE) in groups. Alongside, it
keeps its own leases honest: renewed while held, and stale ones (a stopped worker's) released.
The domain's periodic work (fan-out, escalation, expiry) is core.scheduler's. A crash loses
nothing: rows stay in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.config import Settings
from core.delivery import wakeup
from core.delivery.claims import claim_batch, release_stale_leases, renew_leases
from core.delivery.compose import NoticeComposer, Undeliverable
from core.delivery.lanes import ChannelLanes, Lane, PrioritySlots
from core.delivery.outcomes import Expired, Result, record_outcomes
from core.delivery.pacing import SpacedLimiter
from core.delivery.transport import MulticastTransport, Outcome, Outgoing, Sent, TemporaryFailure, Transport
from core.event_loop import wait_any
from core.models import Channel, Delivery, DeliveryStatus, NoticeKind, Priority
from core.rounds import Rounds

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 1.0
# Outcomes are written every FLUSH_SECONDS (or at batch_size): what a killed worker had sent but
# not recorded is sent again. 0.1 s re-sent ~80–120 mails of a broadcast at 1,000/s; 0.02 s ~20, for
# the same throughput and 3–4 % more CPU per mail (bench/broadcast_email.py, 12,500 mails, twice each).
FLUSH_SECONDS = 0.02
CLAIM_GAP_SECONDS = 0.05
EXIT_FLUSH_SECONDS = 10.0

# A mail throttled this many times is tried on the retry schedule: past a burst, a receiver that
# keeps refusing it is not saying "slower" (it may be greylisting it, or refusing it for good).
THROTTLED_TRIES = 10

LEFT_WHEN_STOPPING = TemporaryFailure("claimed, then left unsent: the worker was stopping", retry_after=0)
NOT_COMPOSED = TemporaryFailure("claimed, then not composed: the database was unavailable", retry_after=0)

_Item = list[tuple[Delivery, Outgoing | Undeliverable | Expired]]


class DeliveryWorker:
    def __init__(
        self,
        settings: Settings,
        transports: Mapping[Channel, Transport],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        paced: bool = True,
    ) -> None:
        """``paced=False``: every lane unlimited and nothing kept from bulk, a throttled send retried
        on the one retry schedule (for benchmarks that measure what pacing gains)."""
        self._settings = settings
        self._delivery = settings.delivery
        self._transports = dict(transports)
        self._clock = clock
        self._composer = NoticeComposer(settings)
        self._paced = paced
        self._lanes: dict[Channel, ChannelLanes[_Item]] = {
            channel: ChannelLanes(settings, channel, transport.concurrency, paced=paced)
            for channel, transport in self._transports.items()
        }
        self._slots = {c: PrioritySlots(t.concurrency) for c, t in self._transports.items()}
        self._room = asyncio.Event()  # set when a lane that was full has drained to half
        self._limiters = {c: SpacedLimiter(t.rate_per_second) for c, t in self._transports.items()}
        self._results: list[tuple[Delivery, Result]] = []
        self._flush_due = asyncio.Event()  # a batch of outcomes is waiting: record it now
        self._flush_lock = asyncio.Lock()
        self._in_flight = 0
        self._drained = asyncio.Event()  # set while nothing claimed waits or sends
        self._drained.set()
        self._senders: dict[tuple[Channel, str], list[asyncio.Task[None]]] = {}
        self._held: set[int] = set()  # claimed by this worker, outcome not yet recorded
        self._renewed_at = time.monotonic()
        # sent but not yet recorded, at most: what the lanes and one claim hold, twice over
        self._unrecorded_limit = 2 * (
            sum(2 * lane.shape.room * self._group_size(c) for c, lanes in self._lanes.items() for lane in lanes)
            + settings.delivery.batch_size
        )
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; then finish what is being sent, queue again what was claimed
        but not started, and record it all.

        A failed round (the database restarting, say) is logged once and tried again after a
        capped backoff; outcomes that could not be written wait in memory until they can."""
        for channel, lanes in self._lanes.items():
            for lane in lanes:
                self._start_senders(channel, lane)
        background = [
            asyncio.create_task(
                self._every(FLUSH_SECONDS, self._flush, stop, Rounds("outcomes", log), sooner=self._flush_due),
                name="flush",
            ),
            asyncio.create_task(
                self._every(HOUSEKEEPING_SECONDS, self.housekeeping, stop, Rounds("housekeeping", log)),
                name="housekeeping",
            ),
        ]
        rounds = Rounds("delivery", log)
        with wakeup.listening() as queued:
            stopping = asyncio.create_task(self._wake_on(stop, queued), name="stop-watch")
            try:
                while not stop.is_set():
                    self._room.clear()
                    queued.clear()
                    filled_at = time.monotonic()
                    try:
                        claimed, full = await self._fill()
                    except Exception as exc:  # noqa: BLE001 - delivery must outlive any one round
                        # notices committed in this process meanwhile mean the database is back
                        await wait_any(queued, timeout=rounds.failed(exc))
                        continue
                    rounds.ok()
                    if not claimed:
                        # until notices are queued in this process (or stop) or, when a lane was
                        # full, a sender makes room in it; polling for other processes' notices
                        await wait_any(
                            *([queued, self._room] if full else [queued]), timeout=self._delivery.poll_seconds
                        )
                    if claimed < self._delivery.batch_size and not stop.is_set():
                        # no backlog: claiming for each committed passage would take the write
                        # lock from the ingest as often as it does; gather a few moments' worth
                        await asyncio.sleep(max(0.0, filled_at + CLAIM_GAP_SECONDS - time.monotonic()))
            finally:
                stopping.cancel()
                await self._finish(background)

    @staticmethod
    async def _wake_on(stop: asyncio.Event, queued: asyncio.Event) -> None:
        await stop.wait()
        queued.set()

    async def _finish(self, background: list[asyncio.Task[None]]) -> None:
        tasks = background + [task for senders in self._senders.values() for task in senders]
        try:
            self._release_waiting()
            await self._drained.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._flush_before_exit()

    def _release_waiting(self) -> None:
        """Queue again, at once, what is claimed but not yet being sent: a throttled lane may hold
        minutes of it, and another worker can send it now."""
        for lanes in self._lanes.values():
            for lane in lanes:
                for item in lane.release_waiting():
                    self._results.extend((row, LEFT_WHEN_STOPPING) for row, _ in item)
                    self._in_flight -= 1
        if not self._in_flight:
            self._drained.set()

    async def _flush_before_exit(self) -> None:
        """Record what was sent before stopping, waiting out a short database outage: a sent
        notice whose record is lost is sent again once its lease ends."""
        rounds = Rounds("outcomes", log)
        deadline = time.monotonic() + EXIT_FLUSH_SECONDS
        while True:
            try:
                await self._flush()
                return
            except Exception as exc:  # noqa: BLE001 - try again until the deadline
                delay = rounds.failed(exc)
                if time.monotonic() + delay > deadline:
                    log.error(
                        "stopping with %d outcomes unrecorded: those notices will be sent again", len(self._results)
                    )
                    return
                await asyncio.sleep(delay)

    async def drain(self, timeout: float = 60.0, *, busy: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Run until nothing is queued or sending on these channels (retries included) and
        ``busy`` (other work that queues notices, such as a fan-out) says False, or ``timeout``
        seconds pass: for scripts, benchmarks and tests (core.scheduler.drain adds the fan-out)."""
        stop = asyncio.Event()
        runner = asyncio.create_task(self.run(stop))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(self._delivery.poll_seconds)
                # ``busy`` first: work it finishes has queued its notices before the outbox is read
                if (busy is None or not await busy()) and await self._idle():
                    break
        finally:
            stop.set()
            await runner

    async def housekeeping(self) -> None:
        # outcomes first: after an outage this worker's own sent rows must be recorded before
        # their leases are judged stale and queued again
        await self._flush()
        now = self._clock()
        lease = self._delivery.lease_seconds
        if self._held and time.monotonic() - self._renewed_at >= lease / 3:
            await renew_leases(self._held, until=now + timedelta(seconds=lease))
            self._renewed_at = time.monotonic()
        released = await release_stale_leases(now)
        if released:
            log.warning("queued again %d deliveries left sending by a stopped worker", released)

    async def _idle(self) -> bool:
        if self._in_flight:
            return False
        await self.housekeeping()
        return not await Delivery.filter(
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING], channel__in=list(self._transports)
        ).exists()

    async def _fill(self) -> tuple[int, bool]:
        """Claim work for lanes with room: (how many claimed, some lane was too full)."""
        claimed = 0
        full = False
        if len(self._results) >= self._unrecorded_limit:
            return 0, True  # the database is taking no outcomes: send no more until it does
        for channel, lanes in self._lanes.items():
            claim = lanes.claim_filter()
            full = full or bool(claim.skip_bulk_lanes)
            if len(claim.skip_lanes) == len(lanes.lanes):
                continue
            now = self._clock()
            rows = await claim_batch(
                [channel],
                # a multicast channel claims up to one full group, so a group can fill
                limit=max(self._delivery.batch_size, self._group_size(channel)),
                lease=timedelta(seconds=self._delivery.lease_seconds),
                now=now,
                skip_lanes=claim.skip_lanes,
                skip_bulk_lanes=claim.skip_bulk_lanes,
                bulk=claim.bulk,
            )
            lanes.claimed(claim, rows)
            if not rows:
                continue
            claimed += len(rows)
            self._held.update(row.id for row in rows)
            due = [r for r in rows if r.expires_at is None or r.expires_at > now]
            try:
                composed: _Item = [*await self._composer.compose(due)]  # (Expired results join them below)
            except Exception:
                # claimed but not composed (the database went away between the two): queued
                # again as soon as outcomes can be written, not when the lease runs out
                self._results.extend((row, NOT_COMPOSED) for row in rows)
                raise
            due_ids = {r.id for r in due}
            composed += [(r, Expired()) for r in rows if r.id not in due_ids]
            for item in self._group(channel, composed):
                await self._put(channel, item)
        return claimed, full

    async def _put(self, channel: Channel, item: _Item) -> None:
        """Into its lane to be sent; one with nothing to send (expired, undeliverable) is recorded."""
        if not any(isinstance(message, Outgoing) for _, message in item):
            self._results.extend((row, message) for row, message in item)  # type: ignore[misc]  # each a Result
            return
        first = item[0][0]
        lanes = self._lanes[channel]
        lane = lanes.lanes.get(first.lane) or lanes.lane(first.lane)
        if not lane.senders_started:
            self._start_senders(channel, lane)
        self._in_flight += 1
        self._drained.clear()
        lane.put(item, bulk=Priority.is_bulk(first.priority))

    def _start_senders(self, channel: Channel, lane: Lane[_Item]) -> None:
        if not lane.senders_started:
            lane.senders_started = True
            self._senders[channel, lane.name] = [
                asyncio.create_task(self._consume(channel, lane), name=f"send-{channel.value}-{lane.name}-{n}")
                for n in range(lane.shape.senders)
            ]

    def _group_size(self, channel: Channel) -> int:
        transport = self._transports[channel]
        return transport.multicast_limit if isinstance(transport, MulticastTransport) else 1

    def _group(self, channel: Channel, composed: _Item) -> list[_Item]:
        """Consecutive identical broadcast messages become one multicast group."""
        limit = self._group_size(channel)
        groups: list[_Item] = []
        for row, message in composed:
            last = groups[-1] if groups else None
            if (
                limit > 1
                and last
                and len(last) < limit
                and isinstance(message, Outgoing)
                and message.kind is NoticeKind.BROADCAST
                and isinstance(last[0][1], Outgoing)
                and last[0][1].notice == message.notice
                and last[0][0].broadcast_id == row.broadcast_id
                and last[0][0].lane == row.lane
            ):
                last.append((row, message))
            else:
                groups.append([(row, message)])
        return groups

    async def _consume(self, channel: Channel, lane: Lane[_Item]) -> None:
        while True:
            item, bulk = await lane.take()
            try:
                outcomes = await self._send(channel, lane, item, bulk=bulk)
                self._results.extend(zip([row for row, _ in item], outcomes, strict=True))
                if len(self._results) >= self._delivery.batch_size:
                    self._flush_due.set()  # recorded by the flusher: this connection goes on sending
            finally:
                lane.done(bulk=bulk)
                self._in_flight -= 1
                if not self._in_flight:
                    self._drained.set()
                if lane.room_made():
                    self._room.set()

    async def _send(self, channel: Channel, lane: Lane[_Item], item: _Item, *, bulk: bool) -> list[Result]:
        """One outcome per entry of ``item``, in order."""
        transport = self._transports[channel]
        messages = [m for _, m in item if isinstance(m, Outgoing)]
        await lane.pace.wait(bulk=bulk)
        await self._limiters[channel].wait()
        slots = self._slots[channel]
        await slots.acquire(bulk=bulk)
        try:
            if len(messages) > 1 and isinstance(transport, MulticastTransport):
                sent = await transport.multicast(messages)
            else:
                sent = [await transport.send(messages[0])]
        except Exception as exc:  # a transport bug must not stop delivery: retry later
            log.exception(
                "%s transport raised on delivery %s",
                transport.channel.value,
                messages[0].delivery_id,
                extra={"delivery_id": messages[0].delivery_id},
            )
            sent = [TemporaryFailure(f"unexpected error: {exc!r}")] * len(messages)
        finally:
            slots.release()
        by_id = {m.delivery_id: outcome for m, outcome in zip(messages, sent, strict=True)}
        return [self._pace_outcome(lane, row, by_id[row.id]) if isinstance(m, Outgoing) else m for row, m in item]

    def _pace_outcome(self, lane: Lane[_Item], row: Delivery, outcome: Outcome) -> Outcome:
        """Tell the lane's pace how a send went. A send the receiver throttled is tried again when
        its lane sends again, not on the retry schedule (a passage notice must not wait minutes
        because a broadcast filled its lane), unless it has been throttled that way many times."""
        if isinstance(outcome, Sent):
            lane.pace.succeeded()
        elif isinstance(outcome, TemporaryFailure) and outcome.throttled:
            lane.pace.throttled(outcome.retry_after)
            if self._paced and row.attempts < THROTTLED_TRIES:
                return replace(outcome, retry_after=lane.pace.resumes_in())
        return outcome

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._results:
                return
            batch, self._results = self._results, []
            try:
                recorded = await record_outcomes(batch, self._delivery, self._clock())
            except BaseException:
                self._results[:0] = batch  # kept, in order, for the next flush
                raise
            self._held.difference_update(row.id for row, _ in batch)
            self.sent += recorded.sent

    async def _every(
        self,
        seconds: float,
        job: Callable[[], Awaitable[object]],
        stop: asyncio.Event,
        rounds: Rounds,
        *,
        sooner: asyncio.Event | None = None,
    ) -> None:
        """Run ``job`` every ``seconds`` until ``stop``; at once whenever ``sooner`` is set. A
        failed round waits out the backoff instead (the database restarting, say)."""
        while not stop.is_set():
            wait = seconds
            try:
                await job()
                rounds.ok()
            except Exception as exc:  # noqa: BLE001 - keep going: the next round may succeed
                wait = max(seconds, rounds.failed(exc))
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for((sooner if sooner and not rounds.failing else stop).wait(), wait)
            if sooner:
                sooner.clear()
