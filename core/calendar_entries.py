"""A site's own calendar entries as staff keep them: days off and extra school days, added (by hand
or from a file), listed and removed, each change audited (core.school_calendar reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core import audit
from core.errors import NotFound, UserError
from core.i18n import _
from core.models import CalendarDayKind, CalendarEntry, Site

MAX_RANGE_DAYS = 366  # one entry covers at most a school year; a longer one is a typo in a year
MAX_NAME = 100


async def entries(site: Site, *, since: date | None = None) -> list[CalendarEntry]:
    """The site's own entries, oldest first; those ending before ``since`` left out."""
    query = CalendarEntry.filter(site_id=site.id)
    if since is not None:
        query = query.filter(last_day__gte=since)
    return await query.order_by("first_day", "id")


@dataclass(frozen=True)
class NewEntry:
    first_day: date
    last_day: date
    kind: CalendarDayKind
    name: str

    def as_list(self) -> list[str]:
        """As the audit log keeps it."""
        return [self.first_day.isoformat(), self.last_day.isoformat(), self.kind.value, self.name]


def checked(first_day: date, last_day: date | None, kind: CalendarDayKind, name: str) -> NewEntry:
    """An entry as a person gave it, or a UserError saying what is wrong with it."""
    last_day = last_day or first_day
    name = " ".join(name.split())
    if last_day < first_day:
        raise UserError(_("The last day comes before the first day."))
    if (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise UserError(_("One entry covers at most %(num)d days.", num=MAX_RANGE_DAYS))
    if not name:
        raise UserError(_("Give the days a name, such as 夏休み."))
    if len(name) > MAX_NAME:
        raise UserError(_("The name is longer than %(num)d characters.", num=MAX_NAME))
    return NewEntry(first_day, last_day, kind, name)


async def add_entries(site: Site, new: Iterable[NewEntry], *, actor: str) -> tuple[int, int]:
    """Adds the entries the site does not have yet; returns how many were added and how many it had already."""
    wanted = list(dict.fromkeys(new))
    existing = {NewEntry(e.first_day, e.last_day, e.kind, e.name) for e in await entries(site)}
    added = [entry for entry in wanted if entry not in existing]
    for entry in added:
        await CalendarEntry.create(
            site_id=site.id, first_day=entry.first_day, last_day=entry.last_day, kind=entry.kind, name=entry.name
        )
    if added:
        await audit.record(
            actor,
            "calendar.add",
            target=f"site:{site.id}",
            details={"entries": [entry.as_list() for entry in added]},
        )
    return len(added), len(wanted) - len(added)


async def remove_entry(site: Site, entry_id: int, *, actor: str) -> CalendarEntry:
    entry = await CalendarEntry.get_or_none(id=entry_id, site_id=site.id)
    if entry is None:
        raise NotFound(_("%(site)s has no calendar entry %(num)d.", site=site.name, num=entry_id))
    await entry.delete()
    await audit.record(
        actor,
        "calendar.remove",
        target=f"site:{site.id}",
        details={"entry": NewEntry(entry.first_day, entry.last_day, entry.kind, entry.name).as_list()},
    )
    return entry
