"""While the database is away, every answer is an honest 503 with ``Retry-After``: a page saying
"一時的に利用できません" for people (in the language of their cookie: who they are cannot be looked up), a problem document for the gates (which spool and
retry) and the chat webhooks (whose platforms send again). Never a traceback or a 500.

``portal.last_resort`` asks ``OutageAnswer`` for the answer when what escaped a route is an outage.
"""

from __future__ import annotations

import logging
import time

from fastapi import Request
from fastapi.responses import Response

from core.i18n import _
from core.rounds import describe
from portal.routes.ingest import problem
from portal.security import MACHINE_PATHS
from portal.templating import page

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
UNAVAILABLE = _("The service is temporarily unavailable. Please try again in a little while.")
_LOG_EVERY_SECONDS = 60.0


class OutageAnswer:
    """The 503 for one request, logged once a minute at most: an outage answers every request,
    and each would say the same."""

    def __init__(self) -> None:
        self._logged_at = -_LOG_EVERY_SECONDS

    def __call__(self, request: Request, exc: BaseException) -> Response:
        if time.monotonic() - self._logged_at >= _LOG_EVERY_SECONDS:
            self._logged_at = time.monotonic()
            log.warning("portal: the database is unavailable (%s); answering 503", describe(exc))
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.url.path.startswith(MACHINE_PATHS):
            return problem(503, "the database is unavailable: try again later", headers)
        request.state.session = None  # who is asking cannot be looked up now
        response = page(request, "error.html", status_code=503, message=UNAVAILABLE)
        response.headers.update(headers)
        return response
