"""Time zones: a site's own, for its days, quiet hours and every time shown about it; the default for the rest.

``Settings.timezone`` is the zone a new site gets, and the zone of times that belong to no site (the
audit log, the command line); ``DEFAULT`` is its default, and what a notice queued before notices
carried their site's zone is read in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

DEFAULT_NAME = "Asia/Tokyo"
DEFAULT = ZoneInfo(DEFAULT_NAME)


class Zoned(Protocol):
    timezone: str


class ZonedSite(Zoned, Protocol):
    id: int


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def of(site: Zoned) -> ZoneInfo:
    return zone(site.timezone)


def local(moment: datetime, site: Zoned) -> datetime:
    return moment.astimezone(of(site))


def today(site: Zoned) -> date:
    return datetime.now(of(site)).date()


def is_today(moment: datetime, site: Zoned) -> bool:
    """Whether ``moment`` falls on the site's today, as the site counts days."""
    return local(moment, site).date() == today(site)


def day_bounds(day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local ``day`` starts and ends, for queries on UTC columns."""
    # In UTC: SQLite compares a column's stored UTC text with the bound's text, so a bound written
    # with +09:00 missed the day's rows whenever the local date was ahead of UTC's (15:00-24:00 UTC).
    start = datetime.combine(day, time(0), timezone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), timezone).astimezone(UTC)


def on_local_day(sites: Sequence[ZonedSite], day: date, column: str) -> Q:
    """Rows of ``sites`` whose ``column`` falls on ``day`` as each site counts it (nothing without sites)."""
    windows = []
    for site in sites:
        start, end = day_bounds(day, of(site))
        window: dict[str, Any] = {"site_id": site.id, f"{column}__gte": start, f"{column}__lt": end}
        windows.append(Q(**window))
    return Q(*windows, join_type=Q.OR) if windows else Q(site_id=0)
