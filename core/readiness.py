"""Is Mimamori really telling parents? The one rule behind ``/readyz`` and ``mimamori status``.

Ready means: the database answers; a delivery loop (in this process, or in any ``mimamori worker``,
by the heartbeats they write) completed a round recently; no passage notice has waited longer than
``readiness.oldest_passage_seconds``; and, when a mailbox is configured, its reader is connected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from core import heartbeat
from core.config import Settings
from core.db import connection
from core.i18n import Message, _
from core.models import Delivery, DeliveryStatus, NoticeKind, PartHeartbeat
from core.rounds import Rounds, describe

log = logging.getLogger(__name__)

DELIVERY, INBOUND = "delivery", "inbound"
PERSIST_SECONDS = 5.0
DATABASE_TIMEOUT_SECONDS = 3.0
PROCESS = f"{socket.gethostname()}:{os.getpid()}"[:128]


@dataclass(frozen=True)
class Check:
    part: str  # "database", "delivery", "passage notices", "mail reader"
    ok: bool
    detail: str  # short, no personal data: /readyz's, for machines and their operators
    said: Message  # the same for a person, in their language (``mimamori status``)

    @property
    def label(self) -> Message:
        return PART_LABELS[self.part]


PART_LABELS: dict[str, Message] = {
    "database": _("Database"),
    "delivery": _("Delivery"),
    "passage notices": _("Passage notices"),
    "mail reader": _("Mail reader"),
}


def _unavailable(exc: BaseException) -> Check:
    reason = describe(exc)
    return Check("database", False, f"unavailable ({reason})", _("Unavailable (%(reason)s)", reason=reason))


async def readiness(settings: Settings, *, now: datetime | None = None) -> list[Check]:
    now = now or datetime.now(UTC)
    try:
        await asyncio.wait_for(connection().execute_query("SELECT 1"), DATABASE_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure here is the answer
        return [_unavailable(exc)]
    checks = [Check("database", True, "answers", _("Answers"))]
    try:
        checks.append(await _part(DELIVERY, "delivery", settings.readiness.delivery_round_seconds, now))
        checks.append(await _oldest_passage_notice(settings.readiness.oldest_passage_seconds, now))
        if settings.imap.host:
            checks.append(await _part(INBOUND, "mail reader", None, now))
    except Exception as exc:  # noqa: BLE001 - the database went away between the checks
        checks.append(_unavailable(exc))
    return checks


async def _part(part: str, label: str, within: float | None, now: datetime) -> Check:
    """A part is healthy if some process's copy is not failing and, with ``within``, completed a
    round that recently (a connected mail reader waits quietly for mail: no age limit)."""
    states = [(s.last_round_at, s.failing_since, s.reason) for s in [_here(part)] if s]
    recent = now - timedelta(seconds=max(within or 0, 3 * PERSIST_SECONDS))
    states += (
        await PartHeartbeat.filter(part=part, written_at__gte=recent)
        .exclude(process=PROCESS)
        .values_list("last_round_at", "failing_since", "reason")
    )
    if not states:
        return Check(label, False, "not running", _("Not running"))
    healthy = [
        at
        for at, failing, _reason in states
        if at is not None and failing is None and (within is None or (now - at).total_seconds() <= within)
    ]
    if healthy:
        seconds = round(max(0.0, (now - max(healthy)).total_seconds()))
        return Check(label, True, f"last round {seconds} s ago", _("Last round %(num)d s ago", num=seconds))
    reasons = "; ".join(sorted({reason for _at, _failing, reason in states if reason}))
    if reasons:
        return Check(label, False, f"failing: {reasons}", _("Failing: %(reasons)s", reasons=reasons))
    return Check(label, False, "no recent round", _("No recent round"))


def _here(part: str) -> heartbeat.PartState | None:
    """This process's part; delivery counts as failing while its outcomes cannot be written
    (it then stops claiming, though its loop goes round)."""
    parts = heartbeat.parts()
    state = parts.get(part)
    outcomes = parts.get("outcomes")
    if part == DELIVERY and state and outcomes and outcomes.failing_since:
        return replace(state, failing_since=outcomes.failing_since, reason=f"outcomes: {outcomes.reason}")
    return state


async def _oldest_passage_notice(within: float, now: datetime) -> Check:
    # Tortoise types a flat values_list of one row as a tuple; it is the value itself
    oldest = cast(
        "datetime | None",
        await Delivery.filter(kind=NoticeKind.PASSAGE, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
        .order_by("queued_at")
        .first()
        .values_list("queued_at", flat=True),
    )
    if oldest is None:
        return Check("passage notices", True, "none waiting", _("None waiting"))
    age = round((now - oldest).total_seconds())
    return Check("passage notices", age <= within, f"oldest waiting {age} s", _("Oldest waiting %(num)d s", num=age))


async def persist_heartbeats(stop: asyncio.Event) -> None:
    """Write this process's parts' heartbeats every few seconds, for readiness seen from others."""
    rounds = Rounds("heartbeats", log)
    while not stop.is_set():
        wait = PERSIST_SECONDS
        try:
            await _write_heartbeats()
            rounds.ok()
        except Exception as exc:  # noqa: BLE001 - written again next round
            wait = max(wait, rounds.failed(exc))
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)


async def _write_heartbeats() -> None:
    now = datetime.now(UTC)
    for part in (DELIVERY, INBOUND):
        if (state := _here(part)) is None:
            continue
        values: dict[str, Any] = {
            "last_round_at": state.last_round_at,
            "failing_since": state.failing_since,
            "reason": (state.reason or "")[:200] or None,
            "written_at": now,
        }
        if not await PartHeartbeat.filter(part=part, process=PROCESS).update(**values):
            await PartHeartbeat.create(part=part, process=PROCESS, **values)
    await PartHeartbeat.filter(written_at__lt=now - timedelta(days=1)).delete()
