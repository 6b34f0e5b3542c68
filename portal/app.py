"""Building the FastAPI application."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.config import Settings
from core.i18n import Message, _
from core.wire import HEARTBEAT_PATH, PASSAGES_PATH
from portal.body_limit import BodyLimit
from portal.deps import Redirect
from portal.last_resort import LastResort
from portal.request_ids import RequestIds
from portal.routes import absences as absence_reports
from portal.routes import (
    admin,
    auth,
    board,
    broadcast_answers,
    broadcast_tally,
    chat_photos,
    drill_reports,
    guardian,
    home,
    ingest,
    question_templates,
    staff,
    support,
    unsubscribe,
    webpush,
)
from portal.routes import admin_calendar as calendar_admin
from portal.routes import calendar as calendar_pages
from portal.security import MACHINE_PATHS, SecurityHeaders
from portal.templating import page

STATIC = Path(__file__).parent / "static"
FORM_LIMIT = 64 * 1024  # any form or webhook body: a broadcast of 2,000 characters is 6 kB
_PLAIN_ERRORS = {
    403: _("This is not allowed."),
    404: _("This page does not exist."),
    405: _("This is not allowed."),
}


def create_app(settings: Settings, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The portal; ``extra_routers`` (the bots' webhooks) are included after its own routes."""
    app = FastAPI(title="Mimamori", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.add_middleware(BodyLimit, default=FORM_LIMIT, limits=_body_limits(settings))
    app.add_middleware(LastResort)  # inside SecurityHeaders: its 503s, 500s and the 413s get them
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIds)  # outermost: every line of the request carries its id
    # Starlette types every handler as taking any Exception; each of these takes the class it is registered for
    app.add_exception_handler(Redirect, _redirect)  # type: ignore[arg-type]  # takes its own class
    app.add_exception_handler(StarletteHTTPException, _error_page)  # type: ignore[arg-type]  # takes its own class
    app.add_exception_handler(RequestValidationError, _bad_request)  # type: ignore[arg-type]  # takes its own class
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(ingest.Refused, ingest.answer_refused)
    # The gates' ingest first: routes are tried in order, and it is the busiest path by far.
    for router in (
        ingest.router,
        home.router,
        auth.router,
        guardian.router,
        broadcast_answers.router,
        absence_reports.router,
        chat_photos.router,
        unsubscribe.router,
        staff.router,
        broadcast_tally.router,
        question_templates.router,
        drill_reports.router,
        board.router,
        support.router,
        admin.router,
        calendar_admin.router,
        calendar_pages.router,
        webpush.router,
    ):
        app.include_router(router)
    for router in extra_routers:
        app.include_router(router)
    return app


def _body_limits(settings: Settings) -> dict[str, int]:
    """The paths that take more than a form: the gates' uploads and the roster file."""
    return {
        PASSAGES_PATH: settings.photos.max_bytes + ingest.EVENT_LIMIT,
        HEARTBEAT_PATH: ingest.EVENT_LIMIT,
        "/admin/roster": admin.ROSTER_MAX_BYTES + FORM_LIMIT,
    }


async def _redirect(request: Request, exc: Redirect) -> Response:
    return RedirectResponse(exc.location, status_code=303)


async def _error_page(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith(MACHINE_PATHS):  # machines get JSON
        from fastapi.exception_handlers import http_exception_handler

        return await http_exception_handler(request, exc)
    message: Message | str = exc.detail  # a Message where we raised it, Starlette's phrase otherwise
    if message == HTTPStatus(exc.status_code).phrase:
        message = _PLAIN_ERRORS.get(exc.status_code, message)
    return page(request, "error.html", status_code=exc.status_code, message=message)


async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
    if request.url.path.startswith(MACHINE_PATHS):
        from fastapi.exception_handlers import request_validation_exception_handler

        return await request_validation_exception_handler(request, exc)
    if any(error["loc"][0] == "path" for error in exc.errors()):
        return await _error_page(request, HTTPException(404))  # a path no record could have
    return page(request, "error.html", status_code=400, message=_("Please check what you entered."))
