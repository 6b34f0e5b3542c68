"""Whatever escapes a route before its answer began ends here, inside ``SecurityHeaders`` so the
answer carries the same headers as any page: the database being away is a 503 (``portal.outage``),
anything else a 500 with a page in the visitor's language (or a problem document for the gates and webhooks)
and one log line.

The line names the exception's class, where it was raised and the route's template, never its
message or the path as sent: both can carry what a client typed (a token, a name, 10 kB of junk).
Starlette's own last resort (``ServerErrorMiddleware``) sits outside every middleware, so its
500 had no CSP, no ``X-Frame-Options`` and no ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import Message as I18nMessage
from core.i18n import _
from core.outage import is_database_outage
from portal.outage import OutageAnswer
from portal.routes.ingest import problem
from portal.security import MACHINE_PATHS
from portal.templating import page

log = logging.getLogger(__name__)

FAILED = _("Sorry, something went wrong on our side. Please try again in a little while.")


class LastResort:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._outage = OutageAnswer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only closing the connection is left
            request = Request(scope)
            answer = self._outage(request, exc) if is_database_outage(exc) else _answer(request, exc)
            await answer(scope, receive, send)


def _answer(request: Request, exc: Exception) -> Response:
    log.error(
        "portal: %s raised at %s answering %s %s; answered 500",
        type(exc).__name__,
        _where(exc),
        request.method,
        _route(request),
    )
    return refusal(request, 500, "the server failed: try again later", FAILED)


def refusal(request: Request, status: int, detail: str, message: I18nMessage) -> Response:
    """The error page with ``message`` for people, a problem document with ``detail`` for machines."""
    if request.url.path.startswith(MACHINE_PATHS):
        return problem(status, detail)
    return page(request, "error.html", status_code=status, message=message)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"
