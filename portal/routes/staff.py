"""Staff pages: the menu, broadcasts, the passage log and gate health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from portal.deps import AnyStaff
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff", dependencies=[Depends(csrf_protect)])


@router.get("")
async def menu(request: Request, staff: AnyStaff) -> Response:
    return page(request, "staff/menu.html", staff=staff)
