"""A drill's report, per school: how fast families were reached and answered, and who could not be.

What a school files after its twice-yearly 訓練: from the broadcast's confirmation to the first and
the last family reached, the median and 90th-percentile time to reach a family, the share of its
pupils answered for 5, 10, 30 and 60 minutes after confirmation, and the families it could not
reach. Any confirmed broadcast can be reported on; the portal offers it for drills.

A family is reached when the first of its deliveries is sent (an escalation to its other address
or a resend later does not move that); a pupil is answered from the first answer given for them
(``BroadcastAnswerChange``), whatever it was changed to later. Percentiles are nearest-rank: the
time by which that share of the reached families had been reached.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tortoise.functions import Min
from tortoise.queryset import QuerySet

from core.broadcasts.helpers import _get
from core.broadcasts.scope import Scope, scope_filter
from core.db import as_datetime
from core.i18n import Message, _
from core.models import Broadcast, BroadcastAnswerChange, Delivery, DeliveryStatus, Pupil, Site

ANSWER_MINUTES = (5, 10, 30, 60)
_UNSENT = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class AnswerRate:
    minutes: int
    answered: int | None  # pupils answered for by then; None while that moment has not come
    pupils: int

    @property
    def percent(self) -> int | None:
        if self.answered is None or not self.pupils:
            return None
        return round(100 * self.answered / self.pupils)


@dataclass(frozen=True)
class SchoolReport:
    school: Site
    pupils: int  # in the broadcast's scope
    guardians: int  # of those pupils, receiving broadcasts
    reached: int  # guardians with a delivery sent
    first_reached: timedelta | None  # from confirmation
    last_reached: timedelta | None
    p50: timedelta | None
    p90: timedelta | None
    answered: int  # pupils answered for so far
    rates: tuple[AnswerRate, ...]  # at ANSWER_MINUTES; empty when the broadcast asks nothing
    without_delivery: int  # guardians with no delivery at all: no address, or broadcasts stopped
    failed: int  # guardians whose every delivery failed or expired
    pending: int  # guardians not reached yet, a delivery still queued

    @property
    def unreachable(self) -> int:
        return self.without_delivery + self.failed


@dataclass(frozen=True)
class DrillReport:
    broadcast: Broadcast
    now: datetime
    schools: tuple[SchoolReport, ...]  # by school name; none before confirmation


async def drill_report(
    broadcast_id: int, *, site_ids: Collection[int] | None = None, now: datetime | None = None
) -> DrillReport:
    """The report of ``broadcast_id`` for each school with pupils in its scope (only ``site_ids``
    if given: the schools a viewer may see), as of ``now``."""
    now = now or datetime.now(UTC)
    broadcast = await _get(broadcast_id)
    if broadcast.confirmed_at is None:
        return DrillReport(broadcast, now, ())
    pupils = await _pupils_in_scope(broadcast, site_ids)
    guardians = await _guardians_of(broadcast, site_ids)
    reached, tried, waiting = await _deliveries(broadcast.id)
    first_answers = await _first_answers(broadcast.id) if broadcast.ack_requested else {}
    sites = await Site.filter(id__in=list(pupils) or [0]).order_by("name", "id")
    return DrillReport(
        broadcast,
        now,
        tuple(
            _school(
                broadcast,
                site,
                pupils[site.id],
                guardians.get(site.id, set()),
                (reached, tried, waiting),
                first_answers,
                now,
            )
            for site in sites
        ),
    )


def _school(
    broadcast: Broadcast,
    site: Site,
    pupil_ids: set[int],
    guardian_ids: set[int],
    deliveries: tuple[dict[int, datetime], set[int], set[int]],
    first_answers: dict[int, datetime],
    now: datetime,
) -> SchoolReport:
    reached, tried, waiting = deliveries
    confirmed = cast(datetime, broadcast.confirmed_at)
    times = sorted(max(reached[g] - confirmed, timedelta(0)) for g in guardian_ids if g in reached)
    unreached = [g for g in guardian_ids if g not in reached]
    answered = [first_answers[p] for p in pupil_ids if p in first_answers]
    rates = (
        tuple(
            AnswerRate(m, _answered_by(answered, confirmed + timedelta(minutes=m), now), len(pupil_ids))
            for m in ANSWER_MINUTES
        )
        if broadcast.ack_requested
        else ()
    )
    return SchoolReport(
        school=site,
        pupils=len(pupil_ids),
        guardians=len(guardian_ids),
        reached=len(times),
        first_reached=times[0] if times else None,
        last_reached=times[-1] if times else None,
        p50=percentile(times, 50),
        p90=percentile(times, 90),
        answered=len(answered),
        rates=rates,
        without_delivery=sum(1 for g in unreached if g not in tried),
        failed=sum(1 for g in unreached if g in tried and g not in waiting),
        pending=sum(1 for g in unreached if g in waiting),
    )


def _answered_by(first_answers: Sequence[datetime], moment: datetime, now: datetime) -> int | None:
    if moment > now:
        return None
    return sum(1 for at in first_answers if at <= moment)


def percentile(ordered: Sequence[timedelta], share: int) -> timedelta | None:
    """Nearest rank: the smallest value with at least ``share`` % of ``ordered`` at or below it."""
    if not ordered:
        return None
    return ordered[max(math.ceil(share * len(ordered) / 100) - 1, 0)]


def duration(delta: timedelta | None) -> Message | None:
    """A time as the report writes it: minutes and seconds (``12分05秒``)."""
    if delta is None:
        return None
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    return _("%(minutes)d min %(seconds)02d s", minutes=minutes, seconds=seconds)


async def _pupils_in_scope(broadcast: Broadcast, site_ids: Collection[int] | None) -> dict[int, set[int]]:
    """Pupil ids in the broadcast's scope, by school."""
    return _by_school(await (await _in_scope(broadcast, site_ids)).values_list("school_id", "id"))


async def _guardians_of(broadcast: Broadcast, site_ids: Collection[int] | None) -> dict[int, set[int]]:
    """Guardians in scope (receiving broadcasts), by the school of their children in scope: a family
    with children at two schools counts at both."""
    query = await _in_scope(broadcast, site_ids, guardians__wants_broadcasts=True)
    return _by_school(await query.values_list("school_id", "guardians__id"))


async def _in_scope(broadcast: Broadcast, site_ids: Collection[int] | None, **more: object) -> QuerySet[Pupil]:
    query = Pupil.filter(await scope_filter(Scope.from_json(broadcast.scope), prefix=""), **more)
    return query if site_ids is None else query.filter(school_id__in=list(site_ids) or [0])


def _by_school(rows: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for school_id, row_id in rows:
        found.setdefault(school_id, set()).add(row_id)
    return found


async def _deliveries(broadcast_id: int) -> tuple[dict[int, datetime], set[int], set[int]]:
    """When each guardian was first reached; who had any delivery; who has one still unsent."""
    reached: dict[int, datetime] = {}
    tried: set[int] = set()
    waiting: set[int] = set()
    for guardian_id, status, sent_at in await Delivery.filter(
        broadcast_id=broadcast_id, guardian_id__isnull=False
    ).values_list("guardian_id", "status", "sent_at"):
        tried.add(guardian_id)
        if status == DeliveryStatus.SENT.value and sent_at is not None:
            if guardian_id not in reached or sent_at < reached[guardian_id]:
                reached[guardian_id] = sent_at
        elif status in _UNSENT:
            waiting.add(guardian_id)
    return reached, tried, waiting


async def _first_answers(broadcast_id: int) -> dict[int, datetime]:
    """When each pupil was first answered for."""
    rows = (
        await BroadcastAnswerChange.filter(broadcast_id=broadcast_id)
        .annotate(first=Min("answered_at"))
        .group_by("pupil_id")
        .values_list("pupil_id", "first")
    )
    return {pupil_id: as_datetime(first) for pupil_id, first in rows}
