"""The class board (staff): who is at school, reported, not seen or gone home, for a school and a day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core import attendance, zones
from core.errors import UserError
from core.models import Site
from portal.deps import Broadcaster
from portal.params import ChosenSite, Count, Day, PupilId, SiteId, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff/board", dependencies=[Depends(csrf_protect)])
REFRESH_SECONDS = (30, 60, 300)  # offered on the board; it reloads only when asked (WCAG 2.2.1)
_LABELS: dict[str, Any] = {"states": attendance.State, "state_labels": attendance.STATE_LABELS}


@router.get("")
async def board(
    request: Request,
    staff: Broadcaster,
    site: ChosenSite = None,
    day: Day = None,
    show: Word = "",
    refresh: Count | None = None,
    marked: Count | None = None,
) -> Response:
    schools = await attendance.staff_schools(staff)
    school = _chosen(schools, site)
    if school is None:
        return page(request, "staff/board.html", schools=schools, board=None, **_LABELS)
    chosen = day or zones.today(school)
    every = refresh if refresh in REFRESH_SECONDS else None
    response = page(
        request,
        "staff/board.html",
        schools=schools,
        board=await attendance.board(school, chosen, _show(show)),
        show=_show(show).value,
        today=chosen == zones.today(school),
        refresh=every,
        refresh_choices=REFRESH_SECONDS,
        **_LABELS,
        marked=marked,
    )
    if every is not None:
        response.headers["Refresh"] = str(every)
    return response


@router.post("/mark")
async def mark(
    request: Request,
    staff: Broadcaster,
    pupil: Annotated[PupilId, Form()],
    site: Annotated[SiteId, Form()],
    day: Annotated[Day, Form()] = None,
) -> Response:
    """Staff saw the pupil at school without the tag: 登校 by hand."""
    if day is None:
        raise HTTPException(400)
    try:
        await attendance.mark_present(staff, pupil, day)
    except UserError:
        raise HTTPException(404) from None  # not a pupil of this staff member's schools
    return RedirectResponse(f"/staff/board?site={site}&day={day.isoformat()}&marked=1#p{pupil}", status_code=303)


def _chosen(schools: list[Site], site_id: int | None) -> Site | None:
    if site_id is None:
        return schools[0] if len(schools) == 1 else None
    found = next((school for school in schools if school.id == site_id), None)
    if found is None:
        raise HTTPException(404)  # another school's board, or no such school
    return found


def _show(value: str) -> attendance.Show:
    try:
        return attendance.Show(value)
    except ValueError:
        return attendance.Show.ALL
