"""The school calendar as administrators keep it: each school's own days off and extra school days,
added by hand or imported from a CSV (all or nothing), removed after a question."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from core import calendar_entries, zones
from core.calendar_file import parse_calendar, read_date
from core.errors import NotFound, UserError
from core.i18n import Message, _
from core.models import CalendarDayKind, Site, SiteKind
from portal.confirmation import confirmation
from portal.deps import Admin, staff_actor
from portal.params import ChosenSite, Count, SiteId, Word
from portal.routes.calendar import chosen_school
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/admin/calendar", dependencies=[Depends(csrf_protect)])
CALENDAR_MAX_BYTES = 1024 * 1024
KIND_LABELS: dict[str, Message] = {
    CalendarDayKind.OFF.value: _("Day off"),
    CalendarDayKind.SCHOOL.value: _("Extra school day"),
}

DONE: dict[str, Message] = {
    "added": _("The entry is added."),
    "removed": _("The entry is removed."),
}


async def _admin_page(request: Request, site_id: int | None, status_code: int = 200, **extra: Any) -> Response:
    schools = await Site.filter(kind=SiteKind.SCHOOL).order_by("name")
    school = chosen_school(schools, site_id, default_first=True)
    return page(
        request,
        "admin/calendar.html",
        status_code=status_code,
        schools=schools,
        school=school,
        entries=await calendar_entries.entries(school, since=zones.today(school)) if school else [],
        kinds=KIND_LABELS,
        **extra,
    )


def _first_day(text: str) -> date:
    day = _day(text)
    if day is None:
        raise UserError(_("Give the first day."))
    return day


def _day(text: str) -> date | None:
    # a browser's date field sends 2026-08-01; a typed 2026/8/1 is read as the calendar file reads it
    return read_date(text.strip()) if text.strip() else None


@router.get("")
async def admin_calendar(request: Request, admin: Admin, site: ChosenSite = None, done: Word = "") -> Response:
    return await _admin_page(request, site, notice=DONE.get(done))


@router.post("/{site_id}")
async def add_entry(
    request: Request,
    site_id: SiteId,
    admin: Admin,
    first_day: Annotated[Word, Form()] = "",
    last_day: Annotated[Word, Form()] = "",
    kind: Annotated[Word, Form()] = "off",
    name: Annotated[Word, Form()] = "",
) -> Response:
    school = await _school(site_id)
    try:
        entry = calendar_entries.checked(_first_day(first_day), _day(last_day), _kind(kind), name)
        await calendar_entries.add_entries(school, [entry], actor=staff_actor(admin))
    except UserError as error:
        form = {"first_day": first_day, "last_day": last_day, "kind": kind, "name": name}
        return await _admin_page(request, site_id, 400, error=error.message, form=form)
    return RedirectResponse(f"/admin/calendar?site={school.id}&done=added", status_code=303)


def _kind(value: str) -> CalendarDayKind:
    return CalendarDayKind.SCHOOL if value == CalendarDayKind.SCHOOL.value else CalendarDayKind.OFF


async def _school(site_id: int) -> Site:
    school = await Site.get_or_none(id=site_id, kind=SiteKind.SCHOOL)
    if school is None:
        raise HTTPException(404)
    return school


@router.post("/{site_id}/import")
async def import_entries(
    request: Request, site_id: SiteId, admin: Admin, calendar_file: Annotated[UploadFile, File()]
) -> Response:
    school = await _school(site_id)
    data = await calendar_file.read(CALENDAR_MAX_BYTES + 1)
    try:
        if len(data) > CALENDAR_MAX_BYTES:
            raise UserError(_("The file is too large."))
        parsed = parse_calendar(data)
    except UserError as error:
        return await _admin_page(request, site_id, 400, error=error.message)
    if parsed.problems:  # all or nothing: a file with a wrong line adds nothing
        return await _admin_page(
            request,
            site_id,
            400,
            error=_("Nothing was added: correct these lines and upload the file again."),
            problems=parsed.problems,
        )
    added, known = await calendar_entries.add_entries(school, parsed.entries, actor=staff_actor(admin))
    notice = _("Entries added: %(added)d; already there: %(known)d.", added=added, known=known)
    return await _admin_page(request, site_id, notice=notice)


@router.get("/{site_id}/remove/{entry_id}")
async def confirm_remove(request: Request, site_id: SiteId, entry_id: Count, admin: Admin) -> Response:
    school = await _school(site_id)
    entry = next((e for e in await calendar_entries.entries(school) if e.id == entry_id), None)
    if entry is None:
        raise HTTPException(404)
    return confirmation(
        request,
        question=_("Remove %(name)s from the calendar of %(site)s?", name=entry.name, site=school.name),
        consequence=_("Its days become ordinary days again: school on weekdays, none on weekends and holidays."),
        action=f"/admin/calendar/{school.id}/remove/{entry.id}",
        button=_("Remove"),
        back=f"/admin/calendar?site={school.id}",
    )


@router.post("/{site_id}/remove/{entry_id}")
async def remove(request: Request, site_id: SiteId, entry_id: Count, admin: Admin) -> Response:
    school = await _school(site_id)
    try:
        await calendar_entries.remove_entry(school, entry_id, actor=staff_actor(admin))
    except NotFound:
        raise HTTPException(404) from None
    return RedirectResponse(f"/admin/calendar?site={school.id}&done=removed", status_code=303)
