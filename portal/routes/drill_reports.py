"""A drill's report for staff, per school they may see: printable, what the school files."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from core import broadcasts
from core.broadcasts.drill_report import ANSWER_MINUTES, drill_report, duration
from core.models import Broadcast, StaffAccount, StaffRole
from portal.deps import Broadcaster
from portal.params import BroadcastId
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff", dependencies=[Depends(csrf_protect)])


@router.get("/broadcasts/{broadcast_id}/drill-report")
async def report(request: Request, broadcast_id: BroadcastId, staff: Broadcaster) -> Response:
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None or not await broadcasts.may_see(staff, broadcasts.Scope.from_json(broadcast.scope)):
        raise HTTPException(404)
    shown = await drill_report(broadcast_id, site_ids=await _schools_of(staff))
    return page(
        request,
        "staff/drill_report.html",
        report=shown,
        broadcast=broadcast,
        minutes=ANSWER_MINUTES,
        duration=duration,
    )


async def _schools_of(staff: StaffAccount) -> list[int] | None:
    """The schools whose figures ``staff`` may see: every one for an administrator, else their own."""
    if staff.role is StaffRole.ADMIN:
        return None
    return [site.id for site in await staff.sites.all()]
