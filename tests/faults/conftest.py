"""Fault-suite fixtures: what the database shows of each delivery's attempts while a peer fails,
sampled from outside the worker as an operator's query would see it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from core.models import Delivery, DeliveryStatus
from tests.mailsink import MailSink


@dataclass
class AttemptLog:
    """One delivery's attempts as seen in the database: when each claim was first seen
    (``attempts`` went up) and each retry it was given (``next_attempt_at`` moved), with the
    wall-clock time it was first seen."""

    claims: list[tuple[int, float]] = field(default_factory=list)  # (attempt number, seen at)
    retries: list[tuple[int, datetime, float]] = field(default_factory=list)  # (after attempt, retry at, seen at)


class DeliverySampler:
    """Reads every delivery's ``attempts`` and ``next_attempt_at`` every ``interval`` seconds."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.logs: dict[int, AttemptLog] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        seen: dict[int, tuple[int, datetime]] = {}
        while True:
            rows = await Delivery.all().values_list("id", "attempts", "next_attempt_at", "status")
            now = time.time()
            for delivery_id, attempts, retry_at, status in rows:
                log = self.logs.setdefault(delivery_id, AttemptLog())
                before = seen.get(delivery_id)
                if before is None or attempts > before[0]:
                    log.claims.extend((n, now) for n in range((before[0] if before else 0) + 1, attempts + 1))
                # queued again after a try: a retry (perhaps tried, failed and rescheduled unseen)
                if status == DeliveryStatus.QUEUED and attempts > 0 and (before is None or retry_at != before[1]):
                    log.retries.append((attempts, retry_at, now))
                seen[delivery_id] = (attempts, retry_at)
            await asyncio.sleep(self.interval)

    def start(self) -> DeliverySampler:
        self._task = asyncio.create_task(self._run(), name="delivery-sampler")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def lost_and_duplicated(sink: MailSink, addresses: set[str]) -> tuple[int, int]:
    """How many of ``addresses`` the sink never got mail for, and how many extra mails it got."""
    per_recipient = sink.per_recipient()
    return len(addresses - set(per_recipient)), sum(per_recipient.values()) - len(per_recipient)
