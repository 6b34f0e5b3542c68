"""The scheduler: the periodic domain work (fan-out, escalation, gates, attendance checks, expiry) in one loop.

Each job is named and has its period. A failing job is logged once (``core.rounds``), waits out a
capped backoff and is tried again; the other jobs go on meanwhile.

Every process running a delivery worker runs a scheduler too, so on PostgreSQL several run the
same jobs at once. Each job is safe so: fan-out takes its broadcast's row ``FOR UPDATE`` for each
batch and inserts with the rows' idempotency keys, conflicts skipped; escalation's notices have
idempotency keys too (a second scheduler's insert of one is skipped); a silent gate is marked
with a compare-and-set on ``down_since`` before staff are told; a "not seen" check is inserted
under its unique key before anyone is told (core.not_seen); expiry is one idempotent UPDATE.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from core import broadcasts, gate_health, not_seen
from core.config import Settings
from core.delivery import wakeup
from core.delivery.claims import expire_overdue
from core.delivery.worker import DeliveryWorker
from core.rounds import Rounds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str  # a fixed word or two: it names the job's heartbeat and log lines
    period: float  # seconds between the end of one run and the start of the next
    run: Callable[[Settings, datetime], Awaitable[object]]


async def _fan_out(settings: Settings, now: datetime) -> int:
    queued = await broadcasts.continue_fanouts(settings)
    if queued:
        wakeup.notices_queued()  # this process's worker claims them now, not at its next poll
    return queued


async def _escalate(settings: Settings, now: datetime) -> int:
    return await broadcasts.escalate_unanswered(settings, now=now)


async def _silent_gates(settings: Settings, now: datetime) -> object:
    return await gate_health.report_silent_gates(settings, now=now)


async def _attendance_checks(settings: Settings, now: datetime) -> int:
    if not settings.attendance.checks:
        return 0
    found = await not_seen.run_checks(settings, now)
    if found:
        wakeup.notices_queued()
    return found


async def _expire(settings: Settings, now: datetime) -> int:
    return await expire_overdue(now)


JOBS = (
    Job("fan-out", 1.0, _fan_out),
    Job("escalation", 30.0, _escalate),
    Job("silent gates", 30.0, _silent_gates),
    Job("attendance checks", 30.0, _attendance_checks),
    Job("expiry", 1.0, _expire),
)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        *,
        jobs: Sequence[Job] = JOBS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._jobs = tuple(jobs)
        self._clock = clock
        self._due = {job.name: 0.0 for job in self._jobs}  # monotonic time each job is due next
        self._rounds = {job.name: Rounds(f"scheduler {job.name}", log) for job in self._jobs}

    async def run(self, stop: asyncio.Event) -> None:
        """Run each job when it is due until ``stop``."""
        while not stop.is_set():
            await self.run_due()
            wait = max(0.0, min(self._due.values(), default=time.monotonic() + 1.0) - time.monotonic())
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def run_due(self) -> None:
        """Run the jobs whose time has come; one that fails backs off and leaves the rest alone."""
        for job in self._jobs:
            if self._due[job.name] > time.monotonic():
                continue
            rounds = self._rounds[job.name]
            try:
                await job.run(self._settings, self._clock())
            except Exception as exc:  # noqa: BLE001 - a job must outlive any one run
                self._due[job.name] = time.monotonic() + max(job.period, rounds.failed(exc))
                continue
            rounds.ok()
            self._due[job.name] = time.monotonic() + job.period

    async def run_once(self) -> None:
        """Run every job now, in order, raising what fails: for tests and scripts."""
        for job in self._jobs:
            await job.run(self._settings, self._clock())


async def drain(settings: Settings, worker: DeliveryWorker, timeout: float = 60.0) -> None:
    """Run ``worker`` with a scheduler beside it until every confirmed broadcast is fanned out and
    nothing is queued or sending, or ``timeout`` seconds pass: for scripts, benchmarks and tests."""
    stop = asyncio.Event()
    # It finishes what is queued and starts no attendance check: a script's or a test's pupils would
    # all be "not seen" when it happened to run at a school's check time.
    finishing = tuple(job for job in JOBS if job.run is not _attendance_checks)
    scheduling = asyncio.create_task(Scheduler(settings, jobs=finishing).run(stop), name="scheduler")
    try:
        await worker.drain(timeout, busy=broadcasts.fanout_pending)
    finally:
        stop.set()
        await scheduling
