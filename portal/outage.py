"""While the database is away, every answer is an honest 503 with ``Retry-After``: a Japanese-first
"一時的に利用できません" page for people, a problem document for the gates (which spool and
retry) and the chat webhooks (whose platforms send again). Never a traceback or a 500.

A plain ASGI middleware inside ``SecurityHeaders``, so the 503 carries the same headers as any page.
"""

from __future__ import annotations

import logging
import time

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.outage import is_database_outage
from core.rounds import describe
from portal.routes.ingest import problem
from portal.security import MACHINE_PATHS
from portal.templating import page

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
UNAVAILABLE = "ただいま一時的に利用できません。しばらくしてからもう一度お試しください。 The service is temporarily unavailable. Please try again in a little while."
_LOG_EVERY_SECONDS = 60.0


class DatabaseOutage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._logged_at = -_LOG_EVERY_SECONDS

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
            if started or not is_database_outage(exc):
                raise
            self._log(exc)
            await self._unavailable(Request(scope))(scope, receive, send)

    def _log(self, exc: BaseException) -> None:
        """Once a minute at most: an outage answers every request, and each would say the same."""
        if time.monotonic() - self._logged_at >= _LOG_EVERY_SECONDS:
            self._logged_at = time.monotonic()
            log.warning("portal: the database is unavailable (%s); answering 503", describe(exc))

    @staticmethod
    def _unavailable(request: Request) -> Response:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.url.path.startswith(MACHINE_PATHS):
            return problem(503, "the database is unavailable: try again later", headers)
        request.state.session = None  # who is asking cannot be looked up now
        response = page(request, "error.html", status_code=503, message=UNAVAILABLE)
        response.headers.update(headers)
        return response
