"""The school calendar as staff and guardians see it: the weeks to come at their schools (each day
off on a weekday with its reason, each extra school day). Administrators keep it in admin_calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from core import attendance, zones
from core.i18n import Message
from core.models import Site
from core.school_calendar import calendar
from portal.deps import Broadcaster, CurrentGuardian
from portal.params import ChosenSite
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])
WEEKS_SHOWN = 8


@dataclass(frozen=True)
class ShownDay:
    """A day that is not an ordinary one: off on a weekday (with its reason), or school on a weekend or holiday."""

    moment: datetime  # noon of the day in the site's zone, for the date filters
    school: bool
    reason: Message | str | None


@dataclass(frozen=True)
class SchoolWeeks:
    site: Site
    days: list[ShownDay]


async def _weeks_of(site: Site) -> SchoolWeeks:
    first = zones.today(site)
    days = await calendar(site, first, first + timedelta(weeks=WEEKS_SHOWN) - timedelta(days=1))
    zone = zones.of(site)
    shown = [
        ShownDay(datetime.combine(d.day, time(12), zone), d.school, d.reason)
        for d in days
        if (d.school and d.reason is not None) or (not d.school and d.day.weekday() < 5)
    ]
    return SchoolWeeks(site, shown)


def chosen_school(schools: list[Site], site_id: int | None, *, default_first: bool = False) -> Site | None:
    if site_id is None:
        return schools[0] if schools and (default_first or len(schools) == 1) else None
    found = next((school for school in schools if school.id == site_id), None)
    if found is None:
        raise HTTPException(404)  # another school's calendar, or no such school
    return found


# ---- staff and guardians -------------------------------------------------------------------------


@router.get("/staff/calendar")
async def staff_calendar(request: Request, staff: Broadcaster, site: ChosenSite = None) -> Response:
    schools = await attendance.staff_schools(staff)
    school = chosen_school(schools, site)
    return page(
        request,
        "staff/calendar.html",
        schools=schools,
        weeks=[await _weeks_of(school)] if school else [],
        number_of_weeks=WEEKS_SHOWN,
    )


@router.get("/calendar")
async def guardian_calendar(request: Request, guardian: CurrentGuardian) -> Response:
    pupils = await guardian.pupils.all().prefetch_related("school")
    schools = {pupil.school.id: pupil.school for pupil in pupils}
    ordered = sorted(schools.values(), key=lambda site: site.name)
    return page(
        request,
        "guardian/calendar.html",
        weeks=[await _weeks_of(school) for school in ordered],
        number_of_weeks=WEEKS_SHOWN,
    )
