"""Every request body is bounded while it streams in: a body over its path's limit is answered 413
before the rest is read (at once when its Content-Length already says so), so no client, with or
without a login, can make the portal hold more than the limit in memory. It holds behind a proxy and
for ``serve`` with its own TLS alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import _
from portal.last_resort import refusal

TOO_LARGE = _("What you sent is too large.")


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit, to stop whoever is reading it."""


class BodyLimit:
    """``limits`` maps a path to its limit in bytes; every other path has ``default``."""

    def __init__(self, app: ASGIApp, *, default: int, limits: Mapping[str, int]) -> None:
        self.app, self.default, self.limits = app, default, dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, limit)(scope, receive, send)
            return
        received, exceeded, started, answered = 0, False, False, False

        async def counting() -> Message:
            nonlocal received, exceeded
            if not exceeded:
                message = await receive()
                received += len(message.get("body", b""))
                exceeded = received > limit
                if not exceeded:
                    return message
            raise BodyTooLarge(limit)

        async def sending(message: Message) -> None:
            # Whoever read the body may have answered the exception its own way (FastAPI makes it
            # a 400 "error parsing the body"): ours goes out instead.
            nonlocal started, answered
            if not exceeded or started:
                started = started or message["type"] == "http.response.start"
                await send(message)
            elif not answered:
                answered = True
                await _too_large(scope, limit)(scope, receive, send)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if started:
                raise  # the app had begun its own answer: only closing the connection is left
            if not answered:
                await _too_large(scope, limit)(scope, receive, send)


def _too_large(scope: Scope, limit: int) -> Response:
    return refusal(Request(scope), 413, f"the upload is larger than {limit} bytes", TOO_LARGE)
