"""The front page, the health check, and choosing the pages' language."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from core.i18n.languages import DEFAULT, choices_for, language_or_default
from core.models import Guardian, StaffAccount
from core.readiness import readiness
from portal.cookies import set_language_cookie
from portal.deps import current_session, safe_next
from portal.params import PagePath, Word
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/", response_class=HTMLResponse)
async def front_page(request: Request) -> Response:
    return page(request, "home.html")


@router.get("/healthz", response_class=PlainTextResponse)
async def health() -> str:
    """Liveness: the process answers. Whether it is doing its work is ``/readyz``."""
    return "ok"


@router.get("/readyz")
async def ready(request: Request) -> Response:
    """Readiness (core.readiness): 200 when every check passes, else 503 naming the failing ones."""
    checks = await readiness(request.app.state.settings)
    failing = [c.part for c in checks if not c.ok]
    body = {
        "ready": not failing,
        "failing": failing,
        "checks": {c.part: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JSONResponse(body, status_code=503 if failing else 200, headers={"Retry-After": "10"} if failing else None)


@router.get("/language", response_class=HTMLResponse)
async def language_choice(request: Request, next: PagePath | None = None) -> Response:
    """Every language a visitor or guardian may choose (staff: Japanese and English), each in itself."""
    session = await current_session(request)
    if session is not None and session.staff_id is not None:
        request.state.account = await StaffAccount.get_or_none(id=session.staff_id)
    elif session is not None and session.guardian_id is not None:
        request.state.account = await Guardian.get_or_none(id=session.guardian_id)
    return page(request, "language.html", next=safe_next(next, "/"))


@router.post("/language")
async def choose_language(
    request: Request,
    to: Annotated[Word, Form()] = "ja",
    next: Annotated[PagePath, Form()] = "/",
) -> Response:
    """The pages' language; a logged-in account keeps the choice, which is also its notices'
    language. A language the account may not choose (staff: other than ja, en) is the default."""
    session = await current_session(request)
    staff = session is not None and session.staff_id is not None
    language = language_or_default(to)
    if language not in choices_for(staff=staff):
        language = DEFAULT
    if session is not None and session.guardian_id is not None:
        await Guardian.filter(id=session.guardian_id).update(language=language)
    elif session is not None and staff:
        await StaffAccount.filter(id=session.staff_id).update(language=language)
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    set_language_cookie(request, response, language.value)
    return response
