"""Each portal request gets an id (the proxy's ``X-Request-ID`` when sane): on its log lines
(core.logs) and in the answer's ``X-Request-ID`` header, so a user's report can be matched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_context


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1") or None
        with request_context(given) as request_id:

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append((b"x-request-id", request_id.encode("ascii")))
                await send(message)

            await self.app(scope, receive, send_with_id)
