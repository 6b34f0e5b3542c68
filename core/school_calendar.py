"""Which days a site has school, and why not when it has none.

A day is a school day when it is a weekday and not one of Japan's national holidays (``jpholiday``,
which follows the Cabinet Office's list, substitute holidays and 国民の休日 included), unless the
site's own calendar says otherwise: a range of days off (夏休み, 開校記念日) or of extra school days
(土曜授業, a 登校日 inside the summer holidays; an extra day wins over a day off, so a 登校日 can be
set inside 夏休み). A confirmed closure broadcast (category closure) takes the day it was confirmed
on, in the site's zone, away from the pupils in its scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import jpholiday
from tortoise.expressions import Q

from core import zones
from core.broadcasts.scope import Scope, pupil_filter
from core.i18n import Message, _
from core.models import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    CalendarDayKind,
    CalendarEntry,
    Pupil,
    Site,
)

_WEEKEND = (5, 6)


@dataclass(frozen=True)
class Day:
    """One day of a site's calendar: whether it has school, and the reason a person is shown."""

    day: date
    school: bool
    reason: Message | str | None = None  # a holiday's or an entry's name, or why; None on an ordinary day


async def calendar(site: Site, first: date, last: date) -> list[Day]:
    """Every day from ``first`` to ``last`` at ``site``, in order."""
    entries = await _entries_overlapping(site.id, first, last)
    holidays = dict(jpholiday.between(first, last))
    return [_day(first + timedelta(days=n), holidays, entries) for n in range((last - first).days + 1)]


async def school_day(site: Site, day: date) -> Day:
    return (await calendar(site, day, day))[0]


def _day(day: date, holidays: dict[date, str], entries: Sequence[CalendarEntry]) -> Day:
    covering = [entry for entry in entries if entry.first_day <= day <= entry.last_day]
    for kind in (CalendarDayKind.SCHOOL, CalendarDayKind.OFF):
        entry = next((entry for entry in covering if entry.kind == kind), None)
        if entry is not None:
            return Day(day, kind == CalendarDayKind.SCHOOL, entry.name)
    if day in holidays:
        return Day(day, False, holidays[day])  # the law's name for it, in Japanese in every language
    if day.weekday() in _WEEKEND:
        return Day(day, False, _("Weekend"))
    return Day(day, True)


async def _entries_overlapping(site_id: int, first: date, last: date) -> list[CalendarEntry]:
    return await CalendarEntry.filter(site_id=site_id, first_day__lte=last, last_day__gte=first).order_by(
        "first_day", "id"
    )


async def closed_pupils(site: Site, day: date) -> Q | None:
    """The pupils of ``site`` whom a closure broadcast confirmed on ``day`` sent home (a filter on
    ``Pupil``), or None when there was none."""
    start, end = zones.day_bounds(day, zones.of(site))
    closures = await Broadcast.filter(
        category=BroadcastCategory.CLOSURE,
        status__in=(BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT),
        confirmed_at__gte=start,
        confirmed_at__lt=end,
    ).values_list("scope", flat=True)
    # Tortoise types a flat values_list as a list of tuples; it is a list of the scopes' JSON
    scopes = cast(list[dict[str, Any]], closures)
    filters = [pupil_filter(Scope.from_json(scope), site_id=site.id) for scope in scopes]
    found = [condition for condition in filters if condition is not None]
    return Q(*found, join_type=Q.OR) if found else None


async def has_school(pupil: Pupil, day: date) -> bool:
    """Whether ``pupil`` is expected at school on ``day``: a school day of their school, not closed for them."""
    site = await Site.get(id=pupil.school_id)
    if not (await school_day(site, day)).school:
        return False
    closed = await closed_pupils(site, day)
    return closed is None or not await Pupil.filter(closed, id=pupil.id).exists()
